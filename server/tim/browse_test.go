package tim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// TestBrowseCommands runs the browse calls against the emulator's generated
// app: the directory paged to the end, group profiles with per-group codes,
// a history paged down from the newest message, and nicknames with an
// unknown account left out.
func TestBrowseCommands(t *testing.T) {
	e := testenv.StartEmulator(t, timemu.Config{RateLimit: -1})
	e.AddApp(testApp, testKey, testAdmin)
	now := time.Now().Unix()
	f := timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: testApp, Messages: 100, ExtraGroups: 25, Now: now})
	if err := e.Load(f); err != nil {
		t.Fatal(err)
	}
	c := mustClient(t, e.URL, nil)
	ctx := context.Background()

	var ids []string
	next := uint64(0)
	for range 20 {
		p, err := c.GroupList(ctx, next, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 33 {
			t.Errorf("Total %d, want 33", p.Total)
		}
		ids = append(ids, p.IDs...)
		if next = p.Next; next == 0 {
			break
		}
	}
	if len(ids) != 33 {
		t.Fatalf("listed %d groups, want 33", len(ids))
	}

	infos, err := c.GroupInfos(ctx, []string{allHands, "@TGS#2NOSUCH", "bad id"})
	if err != nil {
		t.Fatal(err)
	}
	if g := infos[0]; g.Code != 0 || g.Name != "All hands" || g.MemberNum != 200 || g.NextMsgSeq != 101 || g.LastMsgTime <= now-3600 {
		t.Errorf("all hands: %+v", g)
	}
	if infos[1].Code != timemu.CodeGroupNotFound || infos[2].Code != timemu.CodeInvalidGroupID {
		t.Errorf("per-group codes %d, %d; want 10010, 10015", infos[1].Code, infos[2].Code)
	}
	if _, err := c.GroupInfos(ctx, make([]string, 51)); err == nil {
		t.Error("51 group IDs: no error, want ErrInvalid")
	}

	seen := 0
	before := uint32(0)
	for range 10 {
		p, err := c.GroupHistory(ctx, allHands, before, 20, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Messages) == 0 {
			break
		}
		for i, m := range p.Messages {
			if i > 0 && m.Seq >= p.Messages[i-1].Seq {
				t.Fatalf("not newest first: %d after %d", m.Seq, p.Messages[i-1].Seq)
			}
			if m.Placeholder == 0 && (len(m.Body) == 0 || m.Time == 0 || !strings.HasPrefix(m.Body[0].Type, "TIM")) {
				t.Errorf("seq %d: %+v, want a body and a time", m.Seq, m)
			}
		}
		seen += len(p.Messages)
		low := p.Messages[len(p.Messages)-1].Seq
		if low <= 1 {
			break
		}
		before = low - 1
	}
	recalled := 0
	for _, m := range f.Apps[0].Groups[0].Messages {
		if m.Recalled {
			recalled++
		}
	}
	if seen != 100-recalled {
		t.Errorf("paged %d messages, want %d (100 less %d recalled)", seen, 100-recalled, recalled)
	}

	members := append([]string{f.Apps[0].Groups[0].Owner}, f.Apps[0].Groups[0].Members[:3]...)
	nicks, err := c.Nicknames(ctx, append(members, "nobody.at.all"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if nicks[m] == "" || nicks[m] != f.Apps[0].Nicks[m] {
			t.Errorf("nickname of %s = %q, want %q", m, nicks[m], f.Apps[0].Nicks[m])
		}
	}
	if _, ok := nicks["nobody.at.all"]; ok {
		t.Error("an unknown account got a nickname")
	}
}

// TestGroupListOwnLimiter: get_appid_group_list is paced at its documented
// 1 call/s by a limiter of its own, so the emulator enforcing that rate
// never refuses a directory walk, and receipt calls are not held behind it.
func TestGroupListOwnLimiter(t *testing.T) {
	e := testenv.StartEmulator(t, timemu.Config{})
	e.AddApp(testApp, testKey, testAdmin)
	if err := e.Load(timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: testApp, Messages: 100, ExtraGroups: 20})); err != nil {
		t.Fatal(err)
	}
	c := mustClient(t, e.URL, func(c *tim.Config) { c.RateLimit = 200; c.MaxAttempts = 1 })
	ctx := context.Background()
	next := uint64(0)
	for page := range 3 {
		p, err := c.GroupList(ctx, next, 10, "")
		if err != nil {
			t.Fatalf("page %d: %v (a refusal means the client exceeded 1 call/s)", page, err)
		}
		next = p.Next
	}
	// A receipt call right after is not queued behind the 1/s limiter.
	if _, err := c.GroupMsgReceipts(ctx, allHands, []uint32{50}); err != nil {
		t.Fatal(err)
	}
	if n := e.Calls(timemu.CmdGetGroupList); n != 3 {
		t.Errorf("the emulator saw %d list calls, want 3", n)
	}
}
