package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/auth/authtest"
	"github.com/timconsole/timconsole/server/redisstore"
)

// TestRegistry_Conformance runs the one registry suite against the in-memory
// default and the Redis registry. The Redis registry judges expiry by the
// injected clock, as the memory one does, so the suite's Advance works
// without waiting for real TTLs (which are computed from the same clock and
// only garbage-collect).
func TestRegistry_Conformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		clock := authtest.NewClock(time.Now())
		authtest.RegistryTests(t, func(t *testing.T) auth.Registry {
			return auth.NewMemoryRegistry(clock.Now)
		}, clock.Now, clock.Advance)
	})
	t.Run("redis", func(t *testing.T) {
		srv := mustStartRedis(t)
		clock := authtest.NewClock(time.Now())
		authtest.RegistryTests(t, func(t *testing.T) auth.Registry {
			cfg := storeConfig(srv)
			cfg.KeyPrefix = uniquePrefix()
			cfg.Now = clock.Now
			return mustNew(t, cfg).Registry()
		}, clock.Now, clock.Advance)
	})
}

func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func testSession(id string, now time.Time, ttl time.Duration) auth.Session {
	return auth.Session{
		ID:       id,
		Operator: auth.Operator{Subject: "sub-1", Email: "op@corp.example", Name: "Op", Groups: []string{"ops-admins"}},
		IDToken:  "header.payload.signature",
		Created:  now,
		LastSeen: now,
		Expires:  now.Add(ttl),
	}
}

// TestRegistry_NoRawIDs reads back every key and value the registry wrote
// and looks for the session IDs: they are bearer secrets and must only be
// stored hashed.
func TestRegistry_NoRawIDs(t *testing.T) {
	srv := mustStartRedis(t)
	cfg := storeConfig(srv)
	s := mustNew(t, cfg)
	reg := s.Registry()
	ctx := context.Background()

	var ids []string
	now := time.Now()
	for i := range 5 {
		id := randomID(t)
		ids = append(ids, id)
		if err := reg.Put(ctx, testSession(id, now, time.Hour)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if i%2 == 0 {
			if err := reg.Touch(ctx, id, now, now.Add(30*time.Minute)); err != nil {
				t.Fatalf("Touch: %v", err)
			}
		}
	}
	if err := reg.Delete(ctx, ids[4]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := reg.Count(ctx); err != nil {
		t.Fatalf("Count: %v", err)
	}
	lim, err := s.NewLimiter(redisstore.LimiterConfig{SDKAppID: 1400000000, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := lim.Wait(ctx); err != nil {
		t.Fatalf("limiter Wait: %v", err)
	}

	rdb := srv.Client(t)
	var blob strings.Builder
	keys := 0
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		keys++
		if !strings.HasPrefix(key, redisstore.DefaultKeyPrefix) {
			t.Errorf("key %q is outside the key prefix %q", key, redisstore.DefaultKeyPrefix)
		}
		blob.WriteString(key + "\n")
		switch typ := rdb.Type(ctx, key).Val(); typ {
		case "string":
			blob.WriteString(rdb.Get(ctx, key).Val())
		case "hash":
			for k, v := range rdb.HGetAll(ctx, key).Val() {
				blob.WriteString(k + "=" + v + "\n")
			}
		case "zset":
			for _, m := range rdb.ZRange(ctx, key, 0, -1).Val() {
				blob.WriteString(m + "\n")
			}
		default:
			t.Errorf("unexpected key %q of type %s", key, typ)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	// 4 sessions, the index, the limiter's state.
	if keys != 6 {
		t.Errorf("SCAN found %d keys, want 6:\n%s", keys, blob.String())
	}
	for _, id := range ids {
		if strings.Contains(blob.String(), id) {
			t.Errorf("raw session ID %q found in Redis:\n%s", id, blob.String())
		}
	}
}

// TestRegistry_TTL checks that Redis forgets a session when it expires:
// the key's TTL is Expires, and Touch moves both; Delete removes key and
// index entry.
func TestRegistry_TTL(t *testing.T) {
	srv := mustStartRedis(t)
	reg := mustNew(t, storeConfig(srv)).Registry()
	rdb := srv.Client(t)
	ctx := context.Background()

	pttl := func(id string) time.Duration {
		t.Helper()
		var found time.Duration
		n := 0
		iter := rdb.Scan(ctx, 0, redisstore.DefaultKeyPrefix+"session:*", 100).Iterator()
		for iter.Next(ctx) {
			n++
			found = rdb.PTTL(ctx, iter.Val()).Val()
		}
		if n != 1 {
			t.Fatalf("found %d session keys, want 1", n)
		}
		return found
	}
	within := func(what string, got, want time.Duration) {
		t.Helper()
		// The test's own Redis round trips take some of the TTL.
		if got > want || got < want-time.Minute {
			t.Errorf("%s: PTTL = %v, want about %v", what, got, want)
		}
	}

	id := randomID(t)
	now := time.Now()
	if err := reg.Put(ctx, testSession(id, now, 90*time.Minute)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	within("after Put", pttl(id), 90*time.Minute)

	seen := time.Now()
	if err := reg.Touch(ctx, id, seen, seen.Add(20*time.Minute)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	within("after Touch", pttl(id), 20*time.Minute)
	got, err := reg.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !got.LastSeen.Equal(seen) || !got.Expires.Equal(seen.Add(20*time.Minute)) {
		t.Errorf("after Touch LastSeen, Expires = %v, %v; want %v, %v", got.LastSeen, got.Expires, seen, seen.Add(20*time.Minute))
	}
	if got.ID != id {
		t.Errorf("Get returned ID %q, want the caller's", got.ID)
	}

	if err := reg.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		keys := rdb.Keys(ctx, "*").Val()
		t.Errorf("after Delete Redis holds %d keys %v, want none", n, keys)
	}

	// A session put already expired leaves nothing behind.
	if err := reg.Put(ctx, testSession(randomID(t), now.Add(-time.Hour), time.Minute)); err != nil {
		t.Fatalf("Put(expired): %v", err)
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		t.Errorf("after Put(expired) Redis holds %d keys, want none", n)
	}
}

// TestRegistry_SharedByReplicas is the point of the package: a session made
// through one replica's store is seen by another's, and a logout through
// either ends it for both.
func TestRegistry_SharedByReplicas(t *testing.T) {
	srv := mustStartRedis(t)
	a := mustNew(t, storeConfig(srv)).Registry()
	b := mustNew(t, storeConfig(srv)).Registry()
	ctx := context.Background()

	id := randomID(t)
	want := testSession(id, time.Now(), time.Hour)
	if err := a.Put(ctx, want); err != nil {
		t.Fatalf("A.Put: %v", err)
	}
	got, err := b.Get(ctx, id)
	if err != nil {
		t.Fatalf("B.Get: %v", err)
	}
	if got.Operator.Email != want.Operator.Email || got.IDToken != want.IDToken {
		t.Errorf("B.Get = %+v, want %+v", got, want)
	}
	if n, err := b.Count(ctx); err != nil || n != 1 {
		t.Errorf("B.Count = %d, %v; want 1", n, err)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatalf("B.Delete: %v", err)
	}
	if _, err := a.Get(ctx, id); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("A.Get after B.Delete = %v, want ErrNotFound", err)
	}
}

// TestRegistry_Unavailable: with Redis gone (killed, or frozen so nothing
// answers) every method fails with ErrUnavailable, never ErrNotFound (which
// auth would turn into "signed out"), and within the configured timeouts;
// once Redis is back the registry works again.
func TestRegistry_Unavailable(t *testing.T) {
	srv := mustStartRedis(t)
	ctx := context.Background()
	id := randomID(t)
	now := time.Now()
	if err := mustNew(t, storeConfig(srv)).Registry().Put(ctx, testSession(id, now, time.Hour)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	cfg := storeConfig(srv)
	cfg.DialTimeout, cfg.ReadTimeout, cfg.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	reg := mustNew(t, cfg).Registry()

	calls := []struct {
		name string
		call func() error
	}{
		{"Put", func() error { return reg.Put(ctx, testSession(randomID(t), now, time.Hour)) }},
		{"Get", func() error { _, err := reg.Get(ctx, id); return err }},
		{"Touch", func() error { return reg.Touch(ctx, id, now, now.Add(time.Hour)) }},
		{"Delete", func() error { return reg.Delete(ctx, id) }},
		{"Count", func() error { _, err := reg.Count(ctx); return err }},
	}
	// Liveness bound, not a speed check: a call that ignored the timeouts
	// would block until the test binary's own timeout.
	const bound = 10 * time.Second
	check := func(t *testing.T) {
		for _, c := range calls {
			start := time.Now()
			err := c.call()
			if !errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("%s = %v, want ErrUnavailable", c.name, err)
			}
			if errors.Is(err, auth.ErrNotFound) {
				t.Errorf("%s = %v: an outage must not look like a missing session", c.name, err)
			}
			if d := time.Since(start); d > bound {
				t.Errorf("%s took %v, want it bounded by the timeouts", c.name, d)
			}
		}
	}

	t.Run("Frozen", func(t *testing.T) {
		srv.Freeze()
		defer srv.Thaw()
		check(t)
	})
	t.Run("Killed", func(t *testing.T) {
		srv.Kill()
		check(t)
	})

	srv.Start()
	id2 := randomID(t)
	// The client may need a moment to notice the server is back.
	waitFor(t, "the registry to work again", readyTimeout, func() bool {
		return reg.Put(ctx, testSession(id2, now, time.Hour)) == nil
	})
	if _, err := reg.Get(ctx, id2); err != nil {
		t.Errorf("Get after restart = %v", err)
	}
	// Nothing was persisted: sessions from before the crash are gone, and
	// that is "not found" (sign in again), not an error.
	if _, err := reg.Get(ctx, id); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Get(old session) after restart = %v, want ErrNotFound", err)
	}
}

// TestRegistry_CanceledContext: the caller's own cancellation is reported
// as such, not as a Redis outage.
func TestRegistry_CanceledContext(t *testing.T) {
	srv := mustStartRedis(t)
	reg := mustNew(t, storeConfig(srv)).Registry()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := reg.Get(ctx, "x")
	if !errors.Is(err, context.Canceled) || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Get(canceled ctx) = %v, want context.Canceled and not ErrUnavailable", err)
	}
}

// TestRegistry_OperatorFormat pins the stored operator's JSON: explicit,
// versioned field names, not Go's; and a record of the untagged version 0
// still reads back the same operator.
func TestRegistry_OperatorFormat(t *testing.T) {
	srv := mustStartRedis(t)
	cfg := storeConfig(srv)
	cfg.KeyPrefix = uniquePrefix()
	reg := mustNew(t, cfg).Registry()
	ctx := context.Background()
	id := randomID(t)
	s := testSession(id, time.Now(), time.Hour)
	if err := reg.Put(ctx, s); err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client(t)
	keys, err := rdb.Keys(ctx, cfg.KeyPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var key string
	for _, k := range keys {
		if rdb.Type(ctx, k).Val() == "hash" {
			key = k
		}
	}
	if key == "" {
		t.Fatalf("no session hash among %q", keys)
	}
	const want = `{"v":1,"subject":"sub-1","email":"op@corp.example","name":"Op","groups":["ops-admins"]}`
	if got := rdb.HGet(ctx, key, "op").Val(); got != want {
		t.Errorf("stored operator %s, want %s", got, want)
	}
	// Version 0, as replicas before the tags wrote it.
	rdb.HSet(ctx, key, "op", `{"Subject":"sub-1","Email":"op@corp.example","Name":"Op","Groups":["ops-admins"]}`)
	got, err := reg.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Operator.Subject != s.Operator.Subject || got.Operator.Email != s.Operator.Email || got.Operator.Name != s.Operator.Name || strings.Join(got.Operator.Groups, ",") != "ops-admins" || got.Operator.Version != 0 {
		t.Errorf("version-0 record read back as %+v, want %+v", got.Operator, s.Operator)
	}
	// A format from a newer console is refused, not misread.
	rdb.HSet(ctx, key, "op", `{"v":2,"subject":"sub-1"}`)
	if _, err := reg.Get(ctx, id); err == nil {
		t.Error("a version-2 record was accepted")
	}
}

// TestLimiterPerCommand: a command's budget has a key of its own, so the
// group list's 1 call/s and the app's 200 calls/s never share a bucket.
func TestLimiterPerCommand(t *testing.T) {
	srv := mustStartRedis(t)
	cfg := storeConfig(srv)
	cfg.KeyPrefix = uniquePrefix()
	s := mustNew(t, cfg)
	ctx := context.Background()
	app, err := s.NewLimiter(redisstore.LimiterConfig{SDKAppID: 1400000000, Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.NewLimiter(redisstore.LimiterConfig{SDKAppID: 1400000000, Command: "get_appid_group_list", Rate: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := list.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := srv.Client(t).Keys(ctx, cfg.KeyPrefix+"rate:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{cfg.KeyPrefix + "rate:1400000000", cfg.KeyPrefix + "rate:1400000000:get_appid_group_list"}
	if !slices.Equal(keys, want) {
		t.Errorf("limiter keys %q, want %q", keys, want)
	}
}
