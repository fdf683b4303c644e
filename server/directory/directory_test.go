package directory_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

const (
	app   = 1400000009
	key   = "directory-test-key"
	admin = "administrator"
)

// world is the emulator, at Tencent's documented rates, with the generated
// demo groups, 300 small ones and a group with a Chinese name.
func world(t *testing.T) (*testenv.Emulator, *tim.Client) {
	t.Helper()
	e := testenv.StartEmulator(t, timemu.Config{})
	e.AddApp(app, key, admin)
	f := timemu.Generate(timemu.GenerateOptions{Seed: 3, SDKAppID: app, Messages: 50, ExtraGroups: 300, Now: time.Now().Unix()})
	f.Apps[0].Groups = append(f.Apps[0].Groups, timemu.FixtureGroup{ID: "@TGS#2ZHOPS", Type: timemu.TypeWork, Name: "运维值班群", Members: []string{"alice.chen"},
		Messages: []timemu.FixtureMessage{{Seq: 1, From: "alice.chen", Time: time.Now().Unix() - 60, Text: "你好"}}})
	if err := e.Load(f); err != nil {
		t.Fatal(err)
	}
	c, err := tim.New(tim.Config{SDKAppID: app, Key: key, Identifier: admin, BaseURL: e.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

// ready searches until the first build has finished (bounded).
func ready(t *testing.T, x *directory.Index) directory.Result {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := x.Search(directory.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ready {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index was not built in 30 s: %+v", r.Progress)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIndex builds the index on the first search, within the vendor's
// rates (the emulator enforces them: a refusal would fail the build), and
// answers searches by name, Chinese included, by ID prefix and by type,
// newest last message first, with receipt-less types marked.
func TestIndex(t *testing.T) {
	e, c := world(t)
	var builds atomic.Int32
	x := directory.New(c, directory.Config{Refresh: -1, OnBuild: func(n int, _ time.Duration, err error) {
		if err != nil {
			t.Errorf("build failed: %v", err)
		}
		builds.Add(1)
	}})
	t.Cleanup(x.Close)
	if n := e.TotalCalls(); n != 0 {
		t.Fatalf("%d calls before the first search, want 0", n)
	}
	first, err := x.Search(directory.Query{})
	if err != nil || first.Ready {
		t.Fatalf("first search: %+v, %v; want the build under way", first, err)
	}
	all := ready(t, x)
	if all.Total != 8+300+1 || len(all.Groups) != directory.DefaultPage || all.Next != directory.DefaultPage {
		t.Errorf("all: total %d, page %d, next %d; want 309 and a default page of %d", all.Total, len(all.Groups), all.Next, directory.DefaultPage)
	}
	for i := 1; i < len(all.Groups); i++ {
		if all.Groups[i].LastMsgTime > all.Groups[i-1].LastMsgTime {
			t.Fatalf("not newest first at %d: %d after %d", i, all.Groups[i].LastMsgTime, all.Groups[i-1].LastMsgTime)
		}
	}
	// get_appid_group_list: one page for 309 groups; get_group_info: 7 calls.
	if got, want := e.Calls(timemu.CmdGetGroupList), 1; got != want {
		t.Errorf("%d list calls, want %d", got, want)
	}
	if got, want := e.Calls(timemu.CmdGetGroupInfo), 7; got != want {
		t.Errorf("%d info calls, want %d", got, want)
	}

	ids := func(r directory.Result) []string {
		var out []string
		for _, g := range r.Groups {
			out = append(out, g.ID)
		}
		return out
	}
	for _, tt := range []struct {
		q    directory.Query
		want []string
	}{
		{directory.Query{Text: "ALL HANDS"}, []string{"@TGS#2ALLHANDS"}},
		{directory.Query{Text: "值班"}, []string{"@TGS#2ZHOPS"}},
		{directory.Query{Text: "@TGS#2ALL"}, []string{"@TGS#2ALLHANDS"}},
		{directory.Query{Text: "livestream"}, []string{"@TGS#aLIVELAUNCH"}},
		{directory.Query{Text: "no such group"}, nil},
	} {
		r, _ := x.Search(tt.q)
		if got := ids(r); !slices.Equal(got, tt.want) {
			t.Errorf("search %+v = %v, want %v", tt.q, got, tt.want)
		}
	}
	r, _ := x.Search(directory.Query{Text: "livestream"})
	if len(r.Groups) != 1 || r.Groups[0].Receipts {
		t.Errorf("the AVChatRoom is not marked as without receipts: %+v", r.Groups)
	}
	work, _ := x.Search(directory.Query{Type: "Private", Limit: 200})
	work2, _ := x.Search(directory.Query{Type: "Work", Limit: 200})
	if work.Total != work2.Total || work.Total < 300 {
		t.Errorf("Private %d and Work %d should be one type of at least 300 groups", work.Total, work2.Total)
	}
	// Paging reaches every match once.
	seen := map[string]bool{}
	for off := 0; ; {
		p, _ := x.Search(directory.Query{Offset: off, Limit: 64})
		for _, g := range p.Groups {
			if seen[g.ID] {
				t.Fatalf("%s on two pages", g.ID)
			}
			seen[g.ID] = true
		}
		if p.Next == 0 {
			break
		}
		off = p.Next
	}
	if len(seen) != 309 {
		t.Errorf("paged %d groups, want 309", len(seen))
	}
	if n := builds.Load(); n > 1 {
		t.Errorf("%d builds, want 1 (searches answer from the index)", n)
	}
}

// TestIndexKeepsOldOnFailure: a rebuild that fails keeps the last complete
// index and reports the failure.
func TestIndexKeepsOldOnFailure(t *testing.T) {
	e, c := world(t)
	done := make(chan error, 4)
	x := directory.New(c, directory.Config{Refresh: -1, OnBuild: func(_ int, _ time.Duration, err error) { done <- err }})
	t.Cleanup(x.Close)
	before := ready(t, x)
	<-done
	e.Inject(timemu.Fault{Kind: timemu.FaultCode, Code: 10002, Always: true, Command: timemu.CmdGetGroupInfo})
	x.Refresh()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the faulted rebuild succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the rebuild did not end in 30 s")
	}
	after, _ := x.Search(directory.Query{})
	if !after.Ready || after.Total != before.Total || after.Err == nil {
		t.Errorf("after a failed rebuild: ready %v, total %d (was %d), err %v; want the old index and the error", after.Ready, after.Total, before.Total, after.Err)
	}
}
