package tim

import (
	"github.com/timconsole/timconsole/server/internal/testenv"

	"errors"
	"testing"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// vector is one shared UserSig test vector (testenv holds the one copy).
type vector = testenv.Vector

func mustLoadVectors(tb testing.TB) []vector { return testenv.Vectors(tb) }

// TestVectorsVerify checks every shared vector, in both layouts, against the
// vendor's verifier: the positive case at both ends of the validity window
// and each documented negative case.
func TestVectorsVerify(t *testing.T) {
	for i, v := range mustLoadVectors(t) {
		for layout, sig := range map[string]string{"v1.1": v.V11, "v1.4": v.V14} {
			t.Run(v.Identifier+"/"+layout, func(t *testing.T) {
				if got, want := v.Time+v.Expire, v.ValidUntil; got != want {
					t.Fatalf("vector %d: time+expire = %d, want valid_until %d", i, got, want)
				}
				tests := []struct {
					name    string
					app     uint64
					key, id string
					now     int64
					want    error
				}{
					{"at sign time", v.SDKAppID, v.Key, v.Identifier, v.Time, nil},
					{"last valid second", v.SDKAppID, v.Key, v.Identifier, v.ValidUntil, nil},
					{"expired", v.SDKAppID, v.Key, v.Identifier, v.ValidUntil + 1, tencentyun.ErrExpired},
					{"wrong key", v.SDKAppID, v.Key + "x", v.Identifier, v.Time, tencentyun.ErrSigNotMatch},
					{"wrong identifier", v.SDKAppID, v.Key, v.Identifier + "x", v.Time, tencentyun.ErrIdentifierNotMatch},
					{"wrong sdkappid", v.SDKAppID + 1, v.Key, v.Identifier, v.Time, tencentyun.ErrSdkAppIDNotMatch},
				}
				for _, tt := range tests {
					err := tencentyun.VerifyUserSig(tt.app, tt.key, tt.id, sig, time.Unix(tt.now, 0))
					if !errors.Is(err, tt.want) {
						t.Errorf("%s: VerifyUserSig = %v, want %v", tt.name, err, tt.want)
					}
				}
			})
		}
	}
}

// TestSignRoundTrip checks that what the client mints is accepted by the
// vendor's verifier with each vector's app, key and identifier.
func TestSignRoundTrip(t *testing.T) {
	for _, v := range mustLoadVectors(t) {
		t.Run(v.Identifier, func(t *testing.T) {
			before := time.Now()
			sig, err := signUserSig(v.SDKAppID, v.Key, v.Identifier, int(v.Expire))
			if err != nil {
				t.Fatal(err)
			}
			if err := tencentyun.VerifyUserSig(v.SDKAppID, v.Key, v.Identifier, sig, before); err != nil {
				t.Errorf("VerifyUserSig(fresh sig) = %v, want nil", err)
			}
			// Still valid at the end of its lifetime (plus the second that
			// may have ticked while signing), expired after it.
			if err := tencentyun.VerifyUserSig(v.SDKAppID, v.Key, v.Identifier, sig, before.Add(time.Duration(v.Expire)*time.Second)); err != nil {
				t.Errorf("VerifyUserSig(at expiry) = %v, want nil", err)
			}
			late := time.Now().Add(time.Duration(v.Expire+2) * time.Second)
			if err := tencentyun.VerifyUserSig(v.SDKAppID, v.Key, v.Identifier, sig, late); !errors.Is(err, tencentyun.ErrExpired) {
				t.Errorf("VerifyUserSig(after expiry) = %v, want %v", err, tencentyun.ErrExpired)
			}
			if err := tencentyun.VerifyUserSig(v.SDKAppID, v.Key+"x", v.Identifier, sig, before); !errors.Is(err, tencentyun.ErrSigNotMatch) {
				t.Errorf("VerifyUserSig(wrong key) = %v, want %v", err, tencentyun.ErrSigNotMatch)
			}
		})
	}
}

// fakeClock is a settable clock for tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// TestSignerRenewal drives the cache with an injected clock: one sig per
// (app, identifier), reused until half its lifetime, then renewed; a
// rejected sig is dropped and re-signed.
func TestSignerRenewal(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1700000000, 0)}
	var signed []string
	var expires []int
	sign := func(app uint64, key, id string, expire int) (string, error) {
		expires = append(expires, expire)
		sig, err := signUserSig(app, key, id, expire)
		signed = append(signed, sig)
		return sig, err
	}
	s := newSigner(24*time.Hour, clock.Now, sign)

	get := func(app uint64, id string) string {
		t.Helper()
		sig, err := s.sig(app, "key", id)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	steps := []struct {
		name      string
		advance   time.Duration
		app       uint64
		id        string
		wantSigns int
	}{
		{"first call signs", 0, 1400000000, "admin", 1},
		{"second call reuses", time.Minute, 1400000000, "admin", 1},
		{"other identifier signs its own", 0, 1400000000, "ops", 2},
		{"other app signs its own", 0, 1400000001, "admin", 3},
		{"just before half-life reuses", 12*time.Hour - 2*time.Minute, 1400000000, "admin", 3},
		{"at half-life renews", time.Minute, 1400000000, "admin", 4},
		{"renewed sig is reused", time.Hour, 1400000000, "admin", 4},
		{"clock going back renews", -2 * time.Hour, 1400000000, "admin", 5},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		get(st.app, st.id)
		if got := len(signed); got != st.wantSigns {
			t.Fatalf("%s: %d signs, want %d", st.name, got, st.wantSigns)
		}
	}
	for _, e := range expires {
		if e != 86400 {
			t.Errorf("signed with expire %d, want 86400", e)
		}
	}

	// Dropping a sig that is no longer cached leaves the cache alone.
	s.drop(1400000000, "admin", "stale")
	get(1400000000, "admin")
	if got, want := len(signed), 5; got != want {
		t.Errorf("after dropping a stale sig: %d signs, want %d", got, want)
	}
	s.drop(1400000000, "admin", signed[len(signed)-1])
	get(1400000000, "admin")
	if got, want := len(signed), 6; got != want {
		t.Errorf("after dropping the cached sig: %d signs, want %d", got, want)
	}
}
