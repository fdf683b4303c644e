package profiles_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/profiles"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// TestCache reads 250 accounts through the emulator 100 at a time, serves
// them from memory until the TTL passes, and remembers accounts without a
// nickname as such.
func TestCache(t *testing.T) {
	const app, key, admin = 1400000010, "profiles-key", "administrator"
	e := testenv.StartEmulator(t, timemu.Config{RateLimit: -1})
	e.AddApp(app, key, admin)
	nicks := map[string]string{}
	var members []string
	for i := range 250 {
		acct := fmt.Sprintf("user%03d", i)
		members = append(members, acct)
		if i%10 != 0 {
			nicks[acct] = fmt.Sprintf("User %d", i)
		}
	}
	if err := e.Load(&timemu.Fixture{Apps: []timemu.FixtureApp{{SDKAppID: app, Nicks: nicks,
		Groups: []timemu.FixtureGroup{{ID: "@TGS#2P", Type: timemu.TypePublic, Name: "P", Members: members}}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := tim.New(tim.Config{SDKAppID: app, Key: key, Identifier: admin, BaseURL: e.URL})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cache := profiles.New(c, time.Minute, clock)
	ctx := context.Background()

	got, err := cache.Nicknames(ctx, append(members, "stranger"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(nicks) || got["user001"] != "User 1" {
		t.Errorf("%d nicknames, user001 %q; want %d and \"User 1\"", len(got), got["user001"], len(nicks))
	}
	if _, ok := got["user000"]; ok {
		t.Error("an account without a nickname got one")
	}
	if n := e.Calls(timemu.CmdPortraitGet); n != 3 {
		t.Errorf("%d portrait_get calls for 251 accounts, want 3", n)
	}
	if _, err := cache.Nicknames(ctx, members[:120]); err != nil {
		t.Fatal(err)
	}
	if n := e.Calls(timemu.CmdPortraitGet); n != 3 {
		t.Errorf("%d calls after a cached read, want still 3", n)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := cache.Nicknames(ctx, members[:120]); err != nil {
		t.Fatal(err)
	}
	if n := e.Calls(timemu.CmdPortraitGet); n != 5 {
		t.Errorf("%d calls after the TTL, want 5 (120 accounts again)", n)
	}
}
