package testenv

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/timconsole/timconsole/server/timemu"
)

// Emulator is the Tencent emulator on a loopback HTTP server. It notes the
// UserSig of every request it receives: those are exactly the ones a
// console minted and sent, so a secret scan can look for them without any
// hook inside the console.
type Emulator struct {
	*timemu.Emulator
	URL string

	mu   sync.Mutex
	sigs map[string]bool
}

// StartEmulator serves a new emulator until the test ends.
func StartEmulator(tb testing.TB, cfg timemu.Config) *Emulator {
	tb.Helper()
	e := &Emulator{Emulator: timemu.New(cfg), sigs: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sig := r.URL.Query().Get("usersig"); sig != "" {
			e.mu.Lock()
			e.sigs[sig] = true
			e.mu.Unlock()
		}
		e.Emulator.ServeHTTP(w, r)
	}))
	tb.Cleanup(func() {
		e.Close() // releases hung requests before the server waits for them
		srv.Close()
	})
	e.URL = srv.URL
	return e
}

// UserSigs lists the distinct UserSigs received so far.
func (e *Emulator) UserSigs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.sigs))
	for s := range e.sigs {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
