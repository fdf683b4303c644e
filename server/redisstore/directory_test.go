package redisstore_test

import (
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// TestSharedDirectory: two replicas share one index through Redis. The
// first to search builds and publishes it; the second loads it and calls
// Tencent not at all, and its searches answer the same.
func TestSharedDirectory(t *testing.T) {
	const app, key, admin = 1400000011, "dir-key", "administrator"
	srv := mustStartRedis(t)
	e := testenv.StartEmulator(t, timemu.Config{})
	e.AddApp(app, key, admin)
	if err := e.Load(timemu.Generate(timemu.GenerateOptions{Seed: 5, SDKAppID: app, Messages: 20, ExtraGroups: 500})); err != nil {
		t.Fatal(err)
	}
	cfg := storeConfig(srv)
	cfg.KeyPrefix = uniquePrefix()
	replica := func() *directory.Index {
		s := mustNew(t, cfg)
		c, err := tim.New(tim.Config{SDKAppID: app, Key: key, Identifier: admin, BaseURL: e.URL})
		if err != nil {
			t.Fatal(err)
		}
		x := directory.New(c, directory.Config{Refresh: -1, Shared: s.Directory(app), PollEvery: 20 * time.Millisecond})
		t.Cleanup(x.Close)
		return x
	}
	ready := func(x *directory.Index) directory.Result {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := x.Search(directory.Query{Text: "all hands"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Ready {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatal("not ready in 30 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a := replica()
	ra := ready(a)
	list, info := e.Calls(timemu.CmdGetGroupList), e.Calls(timemu.CmdGetGroupInfo)
	if list != 1 || info != 11 {
		t.Fatalf("the first replica made %d list and %d info calls, want 1 and 11", list, info)
	}
	b := replica()
	rb := ready(b)
	if e.Calls(timemu.CmdGetGroupList) != list || e.Calls(timemu.CmdGetGroupInfo) != info {
		t.Errorf("the second replica called Tencent (%d list, %d info calls in all); it should load the shared index",
			e.Calls(timemu.CmdGetGroupList), e.Calls(timemu.CmdGetGroupInfo))
	}
	if len(ra.Groups) != 1 || len(rb.Groups) != 1 || rb.Groups[0].ID != ra.Groups[0].ID || rb.Total != ra.Total || !rb.Built.Equal(ra.Built) {
		t.Errorf("replicas disagree: %+v vs %+v", ra, rb)
	}
}
