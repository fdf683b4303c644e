package timemu_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/timemu"
)

// browseFixture is an app with a few groups of every type, a history with
// every kind of message, a recalled and a deleted one, and nicknames.
func browseFixture(now time.Time) *timemu.Fixture {
	day := int64(24 * 3600)
	t0 := now.Unix() - 10*day
	var msgs []timemu.FixtureMessage
	kinds := []string{"text", "image", "file", "sound", "video", "location", "face", "custom"}
	for seq := uint32(1); seq <= 45; seq++ {
		m := timemu.FixtureMessage{Seq: seq, From: []string{"alice", "bob", "carol"}[seq%3], Receipt: true,
			Time: t0 + int64(seq)*day/5, Kind: kinds[seq%uint32(len(kinds))]}
		if m.Kind == "text" {
			m.Text = fmt.Sprintf("message %d 你好", seq)
		}
		m.Recalled = seq == 40
		m.Deleted = seq == 41
		msgs = append(msgs, m)
	}
	groups := []timemu.FixtureGroup{
		{ID: "@TGS#2HIST", Type: timemu.TypePublic, Name: "History", Members: []string{"alice", "bob", "carol"}, Messages: msgs},
		{ID: "@TGS#2LIVE", Type: timemu.TypeAVChatRoom, Name: "Live", Members: []string{"alice"}},
	}
	for i := range 25 {
		groups = append(groups, timemu.FixtureGroup{ID: fmt.Sprintf("@TGS#2W%03d", i), Type: []string{timemu.TypeWork, timemu.TypePrivate, timemu.TypeMeeting}[i%3], Name: fmt.Sprintf("Team %d", i), Members: []string{"dave"}})
	}
	return &timemu.Fixture{Apps: []timemu.FixtureApp{{SDKAppID: testApp, Groups: groups,
		Nicks: map[string]string{"alice": "Alice 王", "bob": "Bob"}}}}
}

func browseEnv(t *testing.T, cfg timemu.Config) *env {
	t.Helper()
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1 // rates have their own test
	}
	e := newEnv(t, cfg)
	if err := e.emu.Load(browseFixture(e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestGroupList pages get_appid_group_list to the end with a 64-bit cursor,
// filters by type (Work and Private are one type), and refuses bad input.
func TestGroupList(t *testing.T) {
	e := browseEnv(t, timemu.Config{})
	var all []string
	next := uint64(0)
	total := -1
	for page := 0; page < 100; page++ {
		got := e.call(t, timemu.CmdGetGroupList, fmt.Sprintf(`{"Limit":10,"Next":%d}`, next))
		if got.Code != 0 {
			t.Fatalf("page %d: code %d", page, got.Code)
		}
		var ans struct {
			TotalCount  int
			GroupIDList []struct{ GroupId string }
			Next        uint64
		}
		if err := json.Unmarshal([]byte(got.Raw), &ans); err != nil {
			t.Fatal(err)
		}
		if total >= 0 && ans.TotalCount != total {
			t.Errorf("TotalCount changed from %d to %d between pages", total, ans.TotalCount)
		}
		total = ans.TotalCount
		if len(ans.GroupIDList) > 10 {
			t.Errorf("page of %d, want ≤ 10", len(ans.GroupIDList))
		}
		for _, g := range ans.GroupIDList {
			all = append(all, g.GroupId)
		}
		if ans.Next == 0 {
			break
		}
		if ans.Next <= 1<<32 {
			t.Errorf("Next %d fits in 32 bits; the emulator keeps cursors above 2^32", ans.Next)
		}
		next = ans.Next
	}
	// 27 groups of the fixture and 4 of testdata/small.json.
	if len(all) != 31 || total != 31 || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != 31 {
		t.Errorf("listed %d groups (total %d), want all 31 once, in order: %v", len(all), total, all)
	}
	for _, tt := range []struct {
		body string
		code int
		n    int
	}{
		{`{}`, 0, 31},
		{`{"GroupType":"Work"}`, 0, 18}, // Work and Private
		{`{"GroupType":"Private"}`, 0, 18},
		{`{"GroupType":"Meeting"}`, 0, 8},
		{`{"GroupType":"AVChatRoom"}`, 0, 2},
		{`{"GroupType":"Public"}`, 0, 2},
		{`{"GroupType":"Community"}`, 0, 1},
		{`{"Limit":20000}`, 0, 31}, // clamped to 10000
		{`{"GroupType":"Nope"}`, timemu.CodeInvalidParam, 0},
		{`{"Limit":-1}`, timemu.CodeInvalidParam, 0},
		{`{"Next":12345}`, timemu.CodeInvalidParam, 0},
	} {
		got := e.call(t, timemu.CmdGetGroupList, tt.body)
		n := 0
		if l, ok := got.Body["GroupIdList"].([]any); ok {
			n = len(l)
		}
		if got.Code != tt.code || n != tt.n {
			t.Errorf("%s: code %d with %d groups, want %d with %d", tt.body, got.Code, n, tt.code, tt.n)
		}
		if tt.code == 0 && fmt.Sprint(got.Body["TotalCount"]) != fmt.Sprint(tt.n) {
			t.Errorf("%s: TotalCount %v, want %d", tt.body, got.Body["TotalCount"], tt.n)
		}
	}
}

type historyPage struct {
	IsFinished int
	RspMsgList []struct {
		From_Account string
		IsPlaceMsg   int
		MsgSeq       uint32
		MsgTimeStamp int64
		MsgBody      []struct {
			MsgType    string
			MsgContent map[string]any
		}
	}
}

func (e *env) history(t *testing.T, body string) (int, historyPage) {
	t.Helper()
	got := e.call(t, timemu.CmdGroupMsgGetSimple, body)
	var p historyPage
	if got.Code == 0 {
		if err := json.Unmarshal([]byte(got.Raw), &p); err != nil {
			t.Fatal(err)
		}
	}
	return got.Code, p
}

// TestGroupMsgGetSimple pages a history newest first with an inclusive
// ReqMsgSeq, at most 20 a call, with recalled messages left out unless
// asked for, deleted ones as placeholders, and the documented refusals.
func TestGroupMsgGetSimple(t *testing.T) {
	e := browseEnv(t, timemu.Config{})
	var seen []uint32
	body := `{"GroupId":"@TGS#2HIST","ReqMsgNumber":20}`
	for page := 0; page < 10; page++ {
		code, p := e.history(t, body)
		if code != 0 || p.IsFinished != 1 {
			t.Fatalf("page %d: code %d, IsFinished %d", page, code, p.IsFinished)
		}
		if len(p.RspMsgList) == 0 {
			break
		}
		for _, m := range p.RspMsgList {
			seen = append(seen, m.MsgSeq)
		}
		low := p.RspMsgList[len(p.RspMsgList)-1].MsgSeq
		if low <= 1 {
			break
		}
		body = fmt.Sprintf(`{"GroupId":"@TGS#2HIST","ReqMsgNumber":20,"ReqMsgSeq":%d}`, low-1)
	}
	var want []uint32
	for s := uint32(45); s >= 1; s-- {
		if s != 40 { // recalled: left out by default
			want = append(want, s)
		}
	}
	if !slices.Equal(seen, want) {
		t.Errorf("paged seqs %v, want %v (newest first, no recalled)", seen, want)
	}

	code, p := e.history(t, `{"GroupId":"@TGS#2HIST","ReqMsgNumber":6,"ReqMsgSeq":42,"WithRecalledMsg":1}`)
	if code != 0 || len(p.RspMsgList) != 6 {
		t.Fatalf("code %d, %d messages, want 6", code, len(p.RspMsgList))
	}
	byS := map[uint32]int{}
	for i, m := range p.RspMsgList {
		byS[m.MsgSeq] = i
	}
	m40, m41, m42 := p.RspMsgList[byS[40]], p.RspMsgList[byS[41]], p.RspMsgList[byS[42]]
	if m42.MsgSeq != 42 || m42.IsPlaceMsg != 0 || len(m42.MsgBody) != 1 || m42.MsgTimeStamp == 0 || m42.From_Account != "alice" {
		t.Errorf("seq 42: %+v, want alice's message with its body and time", m42)
	}
	if m41.IsPlaceMsg != 1 || len(m41.MsgBody) != 0 {
		t.Errorf("deleted seq 41: %+v, want IsPlaceMsg 1 and no body", m41)
	}
	if m40.IsPlaceMsg != 2 || len(m40.MsgBody) != 0 {
		t.Errorf("recalled seq 40 with WithRecalledMsg: %+v, want IsPlaceMsg 2 and no body", m40)
	}
	// Every kind of message, and a text message's text.
	code, p = e.history(t, `{"GroupId":"@TGS#2HIST","ReqMsgNumber":16,"ReqMsgSeq":16}`)
	types := map[string]bool{}
	for _, m := range p.RspMsgList {
		for _, b := range m.MsgBody {
			types[b.MsgType] = true
			if b.MsgType == "TIMTextElem" && b.MsgContent["Text"] != fmt.Sprintf("message %d 你好", m.MsgSeq) {
				t.Errorf("seq %d text %v", m.MsgSeq, b.MsgContent["Text"])
			}
		}
	}
	if code != 0 || len(types) != 8 {
		t.Errorf("code %d, message types %v, want all 8", code, types)
	}

	for _, tt := range []struct {
		body         string
		code, n, fin int
	}{
		{`{"GroupId":"@TGS#2HIST","ReqMsgNumber":30}`, 0, 20, 0}, // more than 20: capped, not finished
		{`{"GroupId":"@TGS#2HIST","ReqMsgNumber":5,"ReqMsgSeq":3}`, 0, 3, 1},
		{`{"GroupId":"@TGS#2HIST","ReqMsgNumber":5,"ReqMsgSeq":999}`, 0, 5, 1}, // above NextMsgSeq: from the newest
		{`{"GroupId":"@TGS#2HIST"}`, timemu.CodeInvalidParam, 0, 0},
		{`{"GroupId":"@TGS#2HIST","ReqMsgNumber":0}`, timemu.CodeInvalidParam, 0, 0},
		{`{"GroupId":"@TGS#2NOPE","ReqMsgNumber":5}`, timemu.CodeGroupNotFound, 0, 0},
		{`{"GroupId":"bad id","ReqMsgNumber":5}`, timemu.CodeInvalidGroupID, 0, 0},
		{`{"GroupId":"@TGS#2LIVE","ReqMsgNumber":5}`, timemu.CodePermission, 0, 0}, // AVChatRoom: no history
	} {
		code, p := e.history(t, tt.body)
		if code != tt.code || len(p.RspMsgList) != tt.n || (code == 0 && p.IsFinished != tt.fin) {
			t.Errorf("%s: code %d, %d messages, IsFinished %d; want %d, %d, %d", tt.body, code, len(p.RspMsgList), p.IsFinished, tt.code, tt.n, tt.fin)
		}
	}
}

// TestHistoryRetention: messages older than Config.Retention are
// placeholders, and a page of nothing but expired ones is IsFinished 2.
func TestHistoryRetention(t *testing.T) {
	e := browseEnv(t, timemu.Config{Retention: 5 * 24 * time.Hour})
	code, p := e.history(t, `{"GroupId":"@TGS#2HIST","ReqMsgNumber":5,"ReqMsgSeq":5}`)
	if code != 0 || p.IsFinished != 2 || len(p.RspMsgList) != 5 || p.RspMsgList[0].IsPlaceMsg != 1 {
		t.Errorf("old page: code %d, IsFinished %d, %+v; want 5 placeholders and IsFinished 2", code, p.IsFinished, p.RspMsgList)
	}
	code, p = e.history(t, `{"GroupId":"@TGS#2HIST","ReqMsgNumber":5}`)
	if code != 0 || p.IsFinished != 1 || p.RspMsgList[0].IsPlaceMsg != 0 {
		t.Errorf("recent page: code %d, IsFinished %d, want real messages", code, p.IsFinished)
	}
}

// TestPortraitGet reads nicknames of up to 100 accounts: an account in no
// group and without a profile is a per-account 40003, the rest succeed.
func TestPortraitGet(t *testing.T) {
	e := browseEnv(t, timemu.Config{})
	got := e.call(t, timemu.CmdPortraitGet, `{"To_Account":["alice","carol","nobody"],"TagList":["Tag_Profile_IM_Nick"]}`)
	var ans struct {
		UserProfileItem []struct {
			To_Account  string
			ProfileItem []struct{ Tag, Value string }
			ResultCode  int
		}
		Fail_Account []string
	}
	if err := json.Unmarshal([]byte(got.Raw), &ans); err != nil || got.Code != 0 {
		t.Fatalf("code %d: %v %s", got.Code, err, got.Raw)
	}
	if len(ans.UserProfileItem) != 3 {
		t.Fatalf("%d items, want 3", len(ans.UserProfileItem))
	}
	alice, carol, nobody := ans.UserProfileItem[0], ans.UserProfileItem[1], ans.UserProfileItem[2]
	if alice.ResultCode != 0 || len(alice.ProfileItem) != 1 || alice.ProfileItem[0].Value != "Alice 王" {
		t.Errorf("alice: %+v, want her nickname", alice)
	}
	if carol.ResultCode != 0 || len(carol.ProfileItem) != 0 {
		t.Errorf("carol (a member without a nickname): %+v, want no tags and code 0", carol)
	}
	if nobody.ResultCode != timemu.CodeProfileNotFound || !slices.Equal(ans.Fail_Account, []string{"nobody"}) {
		t.Errorf("nobody: %+v, Fail_Account %v; want 40003 and listed", nobody, ans.Fail_Account)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprint("u", i))
	}
	for _, tt := range []struct {
		body string
		code int
	}{
		{`{"To_Account":[],"TagList":["Tag_Profile_IM_Nick"]}`, timemu.CodeProfileNoAccount},
		{`{"TagList":["Tag_Profile_IM_Nick"]}`, timemu.CodeProfileNoAccount},
		{`{"To_Account":["alice"],"TagList":[]}`, timemu.CodeProfileInvalidParam},
		{`{"To_Account":["alice"],"TagList":["Tag_Nope"]}`, timemu.CodeProfileUnknownTag},
		{`{"To_Account":["alice"],"TagList":["Tag_Profile_Custom_Team"]}`, 0},
		{fmt.Sprintf(`{"To_Account":[%s],"TagList":["Tag_Profile_IM_Nick"]}`, strings.Join(many, ",")), timemu.CodeProfileInvalidParam},
	} {
		if got := e.call(t, timemu.CmdPortraitGet, tt.body); got.Code != tt.code {
			t.Errorf("%.60s: code %d, want %d", tt.body, got.Code, tt.code)
		}
	}
	// Under the wrong service it is an unknown command.
	if got := e.do(t, "POST", "/v4/group_open_http_svc/portrait_get", e.query(t).Encode(), `{}`); got.Code != timemu.CodeUnknownCommand {
		t.Errorf("portrait_get under group_open_http_svc: code %d, want %d", got.Code, timemu.CodeUnknownCommand)
	}
}

// TestGenerateContent: the generated history has times in the week before
// Now, every kind of message, announcements in English and Chinese, a few
// recalled messages and a nickname for every account; ExtraGroups scales
// the directory.
func TestGenerateContent(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Unix()
	f := timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: testApp, Now: now, ExtraGroups: 1000})
	fa := f.Apps[0]
	if n := len(fa.Groups); n != 8+1000 {
		t.Fatalf("%d groups, want 1008", n)
	}
	kinds := map[string]int{}
	recalled, chinese := 0, 0
	for _, g := range fa.Groups[:8] {
		last := int64(0)
		for _, m := range g.Messages {
			if m.Time < now-7*24*3600 || m.Time > now || m.Time < last {
				t.Fatalf("%s seq %d: time %d outside the week before %d or out of order", g.ID, m.Seq, m.Time, now)
			}
			last = m.Time
			kinds[m.Kind]++
			if m.Recalled {
				recalled++
			}
			for _, r := range m.Text {
				if r >= 0x4e00 && r <= 0x9fff {
					chinese++
					break
				}
			}
		}
	}
	if len(kinds) != 8 || recalled == 0 || chinese == 0 || kinds["text"] < kinds["image"] {
		t.Errorf("kinds %v, %d recalled, %d Chinese texts", kinds, recalled, chinese)
	}
	for _, g := range fa.Groups {
		for _, m := range append([]string{g.Owner}, g.Members...) {
			if fa.Nicks[m] == "" {
				t.Fatalf("member %s of %s has no nickname", m, g.ID)
			}
		}
	}
	// The receipts are those of the data set before content was added.
	plain := timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: testApp})
	for i, m := range plain.Apps[0].Groups[0].Messages {
		got := fa.Groups[0].Messages[i]
		if got.Receipt != m.Receipt || got.From != m.From || string(got.ReadBits) != string(m.ReadBits) {
			t.Fatalf("seq %d: receipts changed with Now/ExtraGroups", m.Seq)
		}
	}
	e := newEnv(t, timemu.Config{RateLimit: -1})
	if err := e.emu.Load(f); err != nil {
		t.Fatal(err)
	}
	if got := e.call(t, timemu.CmdGetGroupList, `{"Limit":1}`); fmt.Sprint(got.Body["TotalCount"]) != "1012" {
		t.Errorf("TotalCount %v, want 1012 (1008 generated, 4 of small.json)", got.Body["TotalCount"])
	}
}
