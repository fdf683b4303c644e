package timemu_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/timemu"
)

// TestGetReceipt checks the summary answer against the small fixture, byte
// for byte, including the per-item 10062 items without counts.
func TestGetReceipt(t *testing.T) {
	tests := []struct {
		name string
		cfg  timemu.Config
		seqs []uint32
		want string
	}{
		{
			name: "sender not counted",
			seqs: []uint32{1, 2, 3, 4, 5, 99, 1},
			want: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[` +
				`{"Code":0,"MsgSeq":1,"ReadNum":2,"UnreadNum":2},` +
				`{"Code":0,"MsgSeq":2,"ReadNum":2,"UnreadNum":2},` +
				`{"Code":10062,"MsgSeq":3},` +
				`{"Code":0,"MsgSeq":4,"ReadNum":0,"UnreadNum":5},` +
				`{"Code":0,"MsgSeq":5,"ReadNum":1,"UnreadNum":2},` +
				`{"Code":10062,"MsgSeq":99},` +
				`{"Code":0,"MsgSeq":1,"ReadNum":2,"UnreadNum":2}]}`,
		},
		{
			name: "sender counted",
			cfg:  timemu.Config{CountSender: true},
			seqs: []uint32{1, 4, 5},
			want: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[` +
				`{"Code":0,"MsgSeq":1,"ReadNum":3,"UnreadNum":2},` +
				`{"Code":0,"MsgSeq":4,"ReadNum":0,"UnreadNum":5},` +
				`{"Code":0,"MsgSeq":5,"ReadNum":1,"UnreadNum":2}]}`,
		},
		{
			name: "seq 0 and max",
			seqs: []uint32{0, 4294967295},
			want: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[` +
				`{"Code":10062,"MsgSeq":0},{"Code":10062,"MsgSeq":4294967295}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			got := e.call(t, timemu.CmdGetReceipt, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, testGroup, seqList(tt.seqs...)))
			if diff := cmp.Diff(tt.want, got.Raw); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReceiptGroupRules covers the group checks shared by the three receipt
// commands.
func TestReceiptGroupRules(t *testing.T) {
	e := newEnv(t, timemu.Config{MaxSeqList: 3})
	members := make([]string, 201)
	for i := range members {
		members[i] = fmt.Sprintf(`{"Member_Account":"u%03d"}`, i)
	}
	mustOK(t, "create big group", e.call(t, timemu.CmdCreateGroup,
		`{"Type":"Public","GroupId":"big-group","Name":"Big","MemberList":[`+strings.Join(members, ",")+`]}`))
	mustOK(t, "send to big group", e.call(t, timemu.CmdSendGroupMsg,
		`{"GroupId":"big-group","From_Account":"u000","Random":1,"NeedReadReceipt":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}`))

	bodies := map[string]func(group, seqs string) string{
		timemu.CmdGetReceipt: func(g, s string) string { return fmt.Sprintf(`{"GroupId":%s,"MsgSeqList":%s}`, g, s) },
		timemu.CmdGetReceiptDetail: func(g, s string) string {
			return fmt.Sprintf(`{"GroupId":%s,"MsgSeq":1,"Filter":0,"Cursor":"","Count":10}`, g)
		},
		timemu.CmdMarkRead: func(g, s string) string {
			return fmt.Sprintf(`{"GroupId":%s,"From_Account":"bob","MsgSeqList":%s}`, g, s)
		},
	}
	tests := []struct {
		name, group, seqs string
		want              int
		only              string // command the case applies to; "" = all
	}{
		{name: "OK", group: `"@TGS#2TTV7VSII"`, seqs: seqList(1), want: 0},
		{name: "Work type", group: `"work-team"`, seqs: seqList(1), want: 0, only: timemu.CmdGetReceipt},
		{name: "unknown group", group: `"no-such-group"`, seqs: seqList(1), want: timemu.CodeGroupNotFound},
		{name: "group ID with space", group: `"a b"`, seqs: seqList(1), want: timemu.CodeInvalidGroupID},
		{name: "group ID empty", group: `""`, seqs: seqList(1), want: timemu.CodeInvalidGroupID},
		{name: "group ID missing", group: `null`, seqs: seqList(1), want: timemu.CodeInvalidGroupID},
		{name: "group ID too long", group: `"` + strings.Repeat("g", 49) + `"`, seqs: seqList(1), want: timemu.CodeInvalidGroupID},
		{name: "group ID non-ASCII", group: `"grüppe"`, seqs: seqList(1), want: timemu.CodeInvalidGroupID},
		{name: "AVChatRoom", group: `"live-room"`, seqs: seqList(1), want: timemu.CodePermission},
		{name: "Community", group: `"community-1"`, seqs: seqList(1), want: timemu.CodePermission},
		{name: "over 200 members", group: `"big-group"`, seqs: seqList(1), want: timemu.CodePermission},
		{name: "MsgSeqList empty", group: `"@TGS#2TTV7VSII"`, seqs: `[]`, want: timemu.CodeInvalidParam, only: timemu.CmdGetReceipt},
		{name: "MsgSeqList missing", group: `"@TGS#2TTV7VSII"`, seqs: `null`, want: timemu.CodeInvalidParam, only: timemu.CmdGetReceipt},
		{name: "MsgSeq missing", group: `"@TGS#2TTV7VSII"`, seqs: `[{}]`, want: timemu.CodeInvalidParam, only: timemu.CmdGetReceipt},
		{name: "MsgSeqList at cap", group: `"@TGS#2TTV7VSII"`, seqs: seqList(1, 2, 3), want: 0, only: timemu.CmdGetReceipt},
		{name: "MsgSeqList over cap", group: `"@TGS#2TTV7VSII"`, seqs: seqList(1, 2, 3, 4), want: timemu.CodeInvalidParam, only: timemu.CmdGetReceipt},
		{name: "mark empty list", group: `"@TGS#2TTV7VSII"`, seqs: `[]`, want: timemu.CodeInvalidParam, only: timemu.CmdMarkRead},
	}
	for _, tt := range tests {
		for _, cmd := range []string{timemu.CmdGetReceipt, timemu.CmdGetReceiptDetail, timemu.CmdMarkRead} {
			if tt.only != "" && tt.only != cmd {
				continue
			}
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				got := e.call(t, cmd, bodies[cmd](tt.group, tt.seqs))
				if got.Code != tt.want {
					t.Errorf("ErrorCode = %d, want %d (%s)", got.Code, tt.want, got.Raw)
				}
			})
		}
	}
}

// detailPage is the decoded detail answer.
type detailPage struct {
	IsFinished int
	IsFinish   *int
	MsgSeq     uint32
	Cursor     string
	ReadList   *[]struct{ Read_Account string }
	UnreadList *[]struct{ Unread_Account string }
}

func decodeDetail(t testing.TB, r result) detailPage {
	t.Helper()
	mustOK(t, "detail", r)
	var p detailPage
	if err := json.Unmarshal([]byte(r.Raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func detailBody(group string, seq uint32, filter int, cursor string, count int) string {
	return fmt.Sprintf(`{"GroupId":%q,"MsgSeq":%d,"Filter":%d,"Cursor":%q,"Count":%d}`, group, seq, filter, cursor, count)
}

// TestDetail checks the detail answer's shape and parameter rules.
func TestDetail(t *testing.T) {
	t.Run("shape", func(t *testing.T) {
		e := newEnv(t, timemu.Config{})
		got := e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 1, 0, "", 10))
		want := `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","IsFinished":1,"MsgSeq":1,"Cursor":"","ReadList":[{"Read_Account":"bob"},{"Read_Account":"carol"}]}`
		if diff := cmp.Diff(want, got.Raw); diff != "" {
			t.Errorf("read page (-want +got):\n%s", diff)
		}
		got = e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 4, 0, "", 10))
		want = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","IsFinished":1,"MsgSeq":4,"Cursor":"","ReadList":[]}`
		if diff := cmp.Diff(want, got.Raw); diff != "" {
			t.Errorf("empty read page (-want +got):\n%s", diff)
		}
		got = e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 1, 1, "", 1))
		p := decodeDetail(t, got)
		if p.ReadList != nil || p.UnreadList == nil || len(*p.UnreadList) != 1 || (*p.UnreadList)[0].Unread_Account != "dave" || p.IsFinished != 0 || p.Cursor == "" || p.IsFinish != nil {
			t.Errorf("first unread page of 1 = %s, want only UnreadList [dave], IsFinished 0, a cursor, no IsFinish", got.Raw)
		}
	})
	t.Run("IsFinish", func(t *testing.T) {
		e := newEnv(t, timemu.Config{EmitIsFinish: true})
		p := decodeDetail(t, e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 1, 0, "", 1)))
		if p.IsFinish == nil || *p.IsFinish != 0 || p.IsFinished != 0 {
			t.Errorf("page 1: IsFinished %d, IsFinish %v; want both 0", p.IsFinished, p.IsFinish)
		}
		p = decodeDetail(t, e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 1, 0, p.Cursor, 1)))
		if p.IsFinish == nil || *p.IsFinish != 1 || p.IsFinished != 1 {
			t.Errorf("page 2: IsFinished %d, IsFinish %v; want both 1", p.IsFinished, p.IsFinish)
		}
	})

	e := newEnv(t, timemu.Config{})
	cursor := decodeDetail(t, e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 4, 1, "", 1))).Cursor
	tests := []struct {
		name string
		body string
		want int
	}{
		{"Flag and Num", fmt.Sprintf(`{"GroupId":%q,"MsgSeq":1,"Flag":0,"Cursor":"","Num":5}`, testGroup), 0},
		{"no Cursor field", fmt.Sprintf(`{"GroupId":%q,"MsgSeq":1,"Filter":0,"Count":5}`, testGroup), 0},
		{"Count 200", detailBody(testGroup, 1, 0, "", 200), 0},
		{"Count 201 clamped", detailBody(testGroup, 1, 0, "", 201), 0},
		{"Count huge clamped", detailBody(testGroup, 1, 0, "", 2000000000), 0},
		{"Count over int32", detailBody(testGroup, 1, 0, "", 1) + "x", timemu.CodeJSONParse},
		{"Count 0", detailBody(testGroup, 1, 0, "", 0), timemu.CodeInvalidParam},
		{"Count negative", detailBody(testGroup, 1, 0, "", -1), timemu.CodeInvalidParam},
		{"Count missing", fmt.Sprintf(`{"GroupId":%q,"MsgSeq":1,"Filter":0,"Cursor":""}`, testGroup), timemu.CodeInvalidParam},
		{"Filter missing", fmt.Sprintf(`{"GroupId":%q,"MsgSeq":1,"Cursor":"","Count":5}`, testGroup), timemu.CodeInvalidParam},
		{"Filter 2", detailBody(testGroup, 1, 2, "", 5), timemu.CodeInvalidParam},
		{"Filter string", fmt.Sprintf(`{"GroupId":%q,"MsgSeq":1,"Filter":"0","Cursor":"","Count":5}`, testGroup), timemu.CodeInvalidParam},
		{"MsgSeq missing", fmt.Sprintf(`{"GroupId":%q,"Filter":0,"Cursor":"","Count":5}`, testGroup), timemu.CodeInvalidParam},
		{"seq without receipt", detailBody(testGroup, 3, 0, "", 5), timemu.CodeReceiptNotExists},
		{"seq unknown", detailBody(testGroup, 99, 0, "", 5), timemu.CodeReceiptNotExists},
		{"cursor OK", detailBody(testGroup, 4, 1, cursor, 1), 0},
		{"cursor garbage", detailBody(testGroup, 4, 1, "not a cursor", 1), timemu.CodeInvalidParam},
		{"cursor of another seq", detailBody(testGroup, 1, 1, cursor, 1), timemu.CodeInvalidParam},
		{"cursor of another filter", detailBody(testGroup, 4, 0, cursor, 1), timemu.CodeInvalidParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.call(t, timemu.CmdGetReceiptDetail, tt.body); got.Code != tt.want {
				t.Errorf("ErrorCode = %d, want %d (%s)", got.Code, tt.want, got.Raw)
			}
		})
	}
	t.Run("Count over 200 rejected", func(t *testing.T) {
		e := newEnv(t, timemu.Config{RejectCountOver200: true})
		if got := e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 1, 0, "", 201)); got.Code != timemu.CodeInvalidParam {
			t.Errorf("ErrorCode = %d, want %d", got.Code, timemu.CodeInvalidParam)
		}
		if got := e.call(t, timemu.CmdGetReceiptDetail, detailBody(testGroup, 1, 0, "", 200)); got.Code != 0 {
			t.Errorf("Count 200: ErrorCode = %d, want 0", got.Code)
		}
	})
}

// pageAll pulls every page of one list; it fails the test on a loop that
// does not end.
func pageAll(t testing.TB, e *env, group string, seq uint32, filter, count int) (members []string, calls int) {
	t.Helper()
	cursor := ""
	for calls < 1000 {
		p := decodeDetail(t, e.call(t, timemu.CmdGetReceiptDetail, detailBody(group, seq, filter, cursor, count)))
		calls++
		if p.MsgSeq != seq {
			t.Fatalf("MsgSeq = %d, want %d", p.MsgSeq, seq)
		}
		n := 0
		if p.ReadList != nil {
			for _, m := range *p.ReadList {
				members = append(members, m.Read_Account)
			}
			n = len(*p.ReadList)
		}
		if p.UnreadList != nil {
			for _, m := range *p.UnreadList {
				members = append(members, m.Unread_Account)
			}
			n = len(*p.UnreadList)
		}
		if n > min(count, 200) {
			t.Fatalf("page of %d members for Count %d", n, count)
		}
		if p.IsFinished == 1 {
			if p.Cursor != "" {
				t.Errorf("last page has cursor %q", p.Cursor)
			}
			return members, calls
		}
		if p.Cursor == "" || n == 0 {
			t.Fatalf("unfinished page with cursor %q and %d members", p.Cursor, n)
		}
		cursor = p.Cursor
	}
	t.Fatalf("paging did not finish after %d calls", calls)
	return nil, calls
}

// TestDetailPagingExactlyOnce pages the 200-member demo group with several
// page sizes and compares with the ground truth and the summary counts.
func TestDetailPagingExactlyOnce(t *testing.T) {
	e := newEnv(t, timemu.Config{RateLimit: -1})
	const group = "@TGS#2ALLHANDS"
	if err := e.emu.Load(timemu.Generate(timemu.GenerateOptions{Seed: 7, SDKAppID: testApp, Messages: 2000})); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint32{1000, 1990, 2000} {
		read, unread, ok := e.emu.Receipt(testApp, group, seq)
		if !ok {
			t.Fatalf("seq %d has no receipt in the generated data", seq)
		}
		sum := e.call(t, timemu.CmdGetReceipt, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, group, seqList(seq)))
		wantSum := fmt.Sprintf(`"ReadNum":%d,"UnreadNum":%d`, len(read), len(unread))
		if !strings.Contains(sum.Raw, wantSum) {
			t.Errorf("seq %d: summary %s, want %s", seq, sum.Raw, wantSum)
		}
		for _, count := range []int{1, 3, 7, 50, 199, 200, 500} {
			for filter, want := range [][]string{read, unread} {
				t.Run(fmt.Sprintf("seq=%d/count=%d/filter=%d", seq, count, filter), func(t *testing.T) {
					got, calls := pageAll(t, e, group, seq, filter, count)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("members (-want +got):\n%s", diff)
					}
					if wantCalls := max(1, (len(want)+min(count, 200)-1)/min(count, 200)); calls != wantCalls {
						t.Errorf("%d calls for %d members, want %d", calls, len(want), wantCalls)
					}
				})
			}
		}
	}
	t.Run("reads change between pages", func(t *testing.T) {
		const seq = 1500
		_, unread, _ := e.emu.Receipt(testApp, group, seq)
		if len(unread) <= 10 {
			t.Fatalf("seq %d has %d unread members, want more than one page", seq, len(unread))
		}
		first := decodeDetail(t, e.call(t, timemu.CmdGetReceiptDetail, detailBody(group, seq, 1, "", 10)))
		var got []string
		for _, m := range *first.UnreadList {
			got = append(got, m.Unread_Account)
		}
		// A member of the first page and one of the last page read it.
		for _, m := range []string{unread[0], unread[len(unread)-1]} {
			mustOK(t, "mark", e.call(t, timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"From_Account":%q,"MsgSeqList":%s}`, group, m, seqList(seq))))
		}
		cursor := first.Cursor
		for i := 0; cursor != "" && i < 100; i++ {
			p := decodeDetail(t, e.call(t, timemu.CmdGetReceiptDetail, detailBody(group, seq, 1, cursor, 10)))
			for _, m := range *p.UnreadList {
				got = append(got, m.Unread_Account)
			}
			cursor = p.Cursor
		}
		want := slices.Clone(unread[:len(unread)-1])
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("members across pages (-want +got):\n%s", diff)
		}
	})
}
