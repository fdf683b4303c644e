// Package authtest holds test helpers for auth: a settable clock and the
// conformance suite every auth.Registry implementation must pass, so the
// in-memory registry and a later shared one (Redis) behave the same.
package authtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/timconsole/timconsole/server/auth"
)

// Clock is a manual clock for tests: Now returns a fixed time until Advance
// moves it. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// RegistryTests runs the Registry contract against fresh registries from
// newRegistry. now is the clock the registry judges expiry by, and advance
// moves it (a Redis test can pass a fake-server fast-forward). Durations used
// are whole minutes, so millisecond-precision stores qualify.
func RegistryTests(t *testing.T, newRegistry func(t *testing.T) auth.Registry, now func() time.Time, advance func(d time.Duration)) {
	t.Helper()
	ctx := context.Background()
	session := func(id string, ttl time.Duration) auth.Session {
		n := now().Truncate(time.Millisecond)
		return auth.Session{
			ID:       id,
			Operator: auth.Operator{Subject: "sub-" + id, Email: id + "@ops.example", Name: "Op " + id, Groups: []string{"ops-admins"}},
			IDToken:  "raw-id-token-" + id,
			Created:  n,
			LastSeen: n,
			Expires:  n.Add(ttl),
		}
	}
	mustPut := func(t *testing.T, r auth.Registry, s auth.Session) {
		t.Helper()
		if err := r.Put(ctx, s); err != nil {
			t.Fatalf("Put(%q) = %v", s.ID, err)
		}
	}
	equalTimes := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

	t.Run("PutGet", func(t *testing.T) {
		r := newRegistry(t)
		want := session("a", time.Hour)
		mustPut(t, r, want)
		got, err := r.Get(ctx, "a")
		if err != nil {
			t.Fatalf("Get(a) = %v", err)
		}
		if diff := cmp.Diff(want, got, equalTimes); diff != "" {
			t.Errorf("Get(a) mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("GetUnknown", func(t *testing.T) {
		r := newRegistry(t)
		if _, err := r.Get(ctx, "nope"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
		}
	})
	t.Run("PutReplaces", func(t *testing.T) {
		r := newRegistry(t)
		mustPut(t, r, session("a", time.Hour))
		want := session("a", 2*time.Hour)
		want.Operator.Email = "other@ops.example"
		mustPut(t, r, want)
		got, err := r.Get(ctx, "a")
		if err != nil {
			t.Fatalf("Get(a) = %v", err)
		}
		if diff := cmp.Diff(want, got, equalTimes); diff != "" {
			t.Errorf("Get(a) after second Put mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("ReturnsCopies", func(t *testing.T) {
		r := newRegistry(t)
		s := session("a", time.Hour)
		mustPut(t, r, s)
		s.Operator.Groups[0] = "changed"
		got, _ := r.Get(ctx, "a")
		got.Operator.Groups[0] = "changed-again"
		again, _ := r.Get(ctx, "a")
		if g := again.Operator.Groups[0]; g != "ops-admins" {
			t.Errorf("stored group = %q after callers changed their copies, want ops-admins", g)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		r := newRegistry(t)
		mustPut(t, r, session("a", time.Hour))
		mustPut(t, r, session("b", time.Hour))
		if err := r.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete(a) = %v", err)
		}
		if _, err := r.Get(ctx, "a"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Get(a) after Delete = %v, want ErrNotFound", err)
		}
		if _, err := r.Get(ctx, "b"); err != nil {
			t.Errorf("Get(b) after Delete(a) = %v, want the session", err)
		}
		if err := r.Delete(ctx, "a"); err != nil {
			t.Errorf("second Delete(a) = %v, want nil", err)
		}
		if err := r.Delete(ctx, "never-existed"); err != nil {
			t.Errorf("Delete(unknown) = %v, want nil", err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		r := newRegistry(t)
		mustPut(t, r, session("short", 2*time.Minute))
		mustPut(t, r, session("long", 10*time.Minute))
		advance(time.Minute)
		if _, err := r.Get(ctx, "short"); err != nil {
			t.Fatalf("Get(short) before expiry = %v", err)
		}
		advance(2 * time.Minute)
		if _, err := r.Get(ctx, "short"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Get(short) after expiry = %v, want ErrNotFound", err)
		}
		if _, err := r.Get(ctx, "long"); err != nil {
			t.Errorf("Get(long) = %v, want the session", err)
		}
	})
	t.Run("TouchExtends", func(t *testing.T) {
		r := newRegistry(t)
		s := session("a", 2*time.Minute)
		mustPut(t, r, s)
		advance(time.Minute)
		seen := now().Truncate(time.Millisecond)
		if err := r.Touch(ctx, "a", seen, seen.Add(5*time.Minute)); err != nil {
			t.Fatalf("Touch(a) = %v", err)
		}
		advance(3 * time.Minute) // past the original expiry, before the new one
		got, err := r.Get(ctx, "a")
		if err != nil {
			t.Fatalf("Get(a) after Touch = %v", err)
		}
		if !got.LastSeen.Equal(seen) {
			t.Errorf("LastSeen = %v, want %v", got.LastSeen, seen)
		}
		if !got.Created.Equal(s.Created) {
			t.Errorf("Created = %v, want %v (Touch must not change it)", got.Created, s.Created)
		}
	})
	t.Run("TouchUnknownOrExpired", func(t *testing.T) {
		r := newRegistry(t)
		n := now()
		if err := r.Touch(ctx, "nope", n, n.Add(time.Hour)); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Touch(unknown) = %v, want ErrNotFound", err)
		}
		mustPut(t, r, session("a", time.Minute))
		advance(2 * time.Minute)
		n = now()
		if err := r.Touch(ctx, "a", n, n.Add(time.Hour)); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Touch(expired) = %v, want ErrNotFound (an expired session must not be revived)", err)
		}
		if _, err := r.Get(ctx, "a"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Get(a) after Touch(expired) = %v, want ErrNotFound", err)
		}
	})
	t.Run("Count", func(t *testing.T) {
		r := newRegistry(t)
		count := func(want int) {
			t.Helper()
			got, err := r.Count(ctx)
			if err != nil {
				t.Fatalf("Count = %v", err)
			}
			if got != want {
				t.Errorf("Count = %d, want %d", got, want)
			}
		}
		count(0)
		mustPut(t, r, session("a", 2*time.Minute))
		mustPut(t, r, session("b", 10*time.Minute))
		mustPut(t, r, session("c", 10*time.Minute))
		count(3)
		if err := r.Delete(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		count(2)
		advance(3 * time.Minute)
		count(1)
	})
	t.Run("Concurrent", func(t *testing.T) {
		r := newRegistry(t)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("w%d-%d", w, i)
					if err := r.Put(ctx, session(id, time.Hour)); err != nil {
						errs <- err
						return
					}
					if _, err := r.Get(ctx, id); err != nil {
						errs <- err
						return
					}
					if i%2 == 0 {
						if err := r.Delete(ctx, id); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent use: %v", err)
		}
		if got, err := r.Count(ctx); err != nil || got != workers*(each/2) {
			t.Errorf("Count after concurrent use = %d, %v; want %d", got, err, workers*(each/2))
		}
	})
}
