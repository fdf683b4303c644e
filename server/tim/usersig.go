package tim

import (
	"fmt"
	"sync"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// signFunc mints a UserSig valid for expire seconds from the signing moment.
type signFunc func(sdkAppID uint64, key, identifier string, expire int) (string, error)

// signUserSig signs with Tencent's own library, so the format follows the
// vendor rather than a re-implementation. The library reads time.Now itself;
// the cache therefore decides renewal from the injected clock and renews
// long before expiry, which absorbs any difference between the two clocks.
func signUserSig(sdkAppID uint64, key, identifier string, expire int) (string, error) {
	sig, err := tencentyun.GenUserSig(int(sdkAppID), key, identifier, expire)
	if err != nil {
		// The library's errors come from JSON and zlib and never hold the key.
		return "", fmt.Errorf("sign usersig: %v", err)
	}
	return sig, nil
}

type sigKey struct {
	app        uint64
	identifier string
}

type sigEntry struct {
	sig      string
	signedAt time.Time
}

// signer caches one UserSig per (app, identifier). Signing per call would
// work, but a cached sig keeps HMAC and zlib work off the hot path of a
// 200-calls/s pull and makes every call of a pull carry the same sig.
type signer struct {
	lifetime time.Duration
	now      func() time.Time
	sign     signFunc

	mu    sync.Mutex
	cache map[sigKey]sigEntry
}

func newSigner(lifetime time.Duration, now func() time.Time, sign signFunc) *signer {
	return &signer{lifetime: lifetime, now: now, sign: sign, cache: map[sigKey]sigEntry{}}
}

// renewAfter is the age at which a cached sig is replaced: half its
// lifetime, so a sig in use always has a wide margin before Tencent's
// expiry check, even with clock skew between us and Tencent.
func (s *signer) renewAfter() time.Duration { return s.lifetime / 2 }

// sig returns a valid UserSig for the app admin, signing a new one when none
// is cached, the cached one is half-way to expiry, or the clock went back.
func (s *signer) sig(app uint64, key, identifier string) (string, error) {
	k := sigKey{app, identifier}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cache[k]; ok {
		age := now.Sub(e.signedAt)
		if age >= 0 && age < s.renewAfter() {
			return e.sig, nil
		}
	}
	sig, err := s.sign(app, key, identifier, int(s.lifetime/time.Second))
	if err != nil {
		return "", err
	}
	s.cache[k] = sigEntry{sig: sig, signedAt: now}
	return sig, nil
}

// drop forgets sig after Tencent rejected it as expired or invalidated. It
// only removes that exact sig, so a sig renewed meanwhile by a concurrent
// call survives.
func (s *signer) drop(app uint64, identifier, sig string) {
	k := sigKey{app, identifier}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cache[k]; ok && e.sig == sig {
		delete(s.cache, k)
	}
}
