// Package testenv is the one test harness of timconsole: the pieces every
// package's tests use to stand up the world on loopback, so none keeps its
// own copy. It starts the Tencent emulator (noting every UserSig it is
// sent), builds and runs the console binary, and gives a log sink, a
// readiness wait, minted keys and the shared UserSig test vectors.
//
// It is imported by tests only. It knows nothing of bff or auth, so their
// own tests can use it; the development IdP is started with devidp's API.
package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a log sink safe for the goroutines (or the process) that
// write to it while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitReady polls u until it answers 200, for at most 15 seconds.
func WaitReady(tb testing.TB, u string) {
	tb.Helper()
	if err := poll(u, 15*time.Second, nil); err != nil {
		tb.Fatal(err)
	}
}

// poll GETs u until it answers 200 or timeout passes; gone, when set, ends
// the wait early with its error (a server process that exited).
func poll(u string, timeout time.Duration, gone func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		if gone != nil {
			if err := gone(); err != nil {
				return err
			}
		}
		resp, err := httpClient.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v (last: %v)", u, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RandomBytes returns n bytes from the system CSPRNG.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// SessionKeys is a fresh session key pair (64-byte hash key, 32-byte block
// key) and its TIMCONSOLE_SESSION_KEYS form.
func SessionKeys() (hash, block []byte, env string) {
	hash, block = RandomBytes(64), RandomBytes(32)
	return hash, block, base64.StdEncoding.EncodeToString(hash) + ":" + base64.StdEncoding.EncodeToString(block)
}

// httpClient is the harness's own bounded client for readiness polls.
var httpClient = http.Client{Timeout: time.Second}
