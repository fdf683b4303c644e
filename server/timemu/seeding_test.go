package timemu_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/timemu"
)

const textBody = `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}]`

// TestSeedThroughREST builds a group and its receipts with the same REST
// calls a real deployment would use, then reads them back.
func TestSeedThroughREST(t *testing.T) {
	e := newEnv(t, timemu.Config{})
	call := func(cmd, body string) result {
		t.Helper()
		return e.call(t, cmd, body)
	}
	r := call(timemu.CmdCreateGroup, `{"Owner_Account":"owner","Type":"Private","Name":"Seeded","MemberList":[{"Member_Account":"m1"},{"Member_Account":"m2"},{"Member_Account":"owner"}]}`)
	mustOK(t, "create", r)
	group, _ := r.Body["GroupId"].(string)
	if !strings.HasPrefix(group, "@TGS#") {
		t.Fatalf("generated GroupId = %q, want @TGS#…", group)
	}

	send := func(from, extra string) (uint32, result) {
		t.Helper()
		r := call(timemu.CmdSendGroupMsg, fmt.Sprintf(`{"GroupId":%q,"From_Account":%q,"Random":123,"MsgBody":%s%s}`, group, from, textBody, extra))
		if r.Code != 0 {
			return 0, r
		}
		var seq uint32
		fmt.Sscan(fmt.Sprint(r.Body["MsgSeq"]), &seq)
		return seq, r
	}
	s1, r := send("m1", `,"NeedReadReceipt":1`)
	mustOK(t, "send 1", r)
	for _, k := range []string{"MsgTime", "MsgSeq", "MsgDropReason"} {
		if _, ok := r.Body[k]; !ok {
			t.Errorf("send answer lacks %s: %s", k, r.Raw)
		}
	}
	s2, _ := send("m2", `,"IsNeedReadReceipt":1`)
	s3, _ := send("m1", ``)
	s4, _ := send("", `,"NeedReadReceipt":1`) // sent by the admin
	if want := []uint32{1, 2, 3, 4}; !cmp.Equal(want, []uint32{s1, s2, s3, s4}) {
		t.Errorf("seqs = %v, want %v", []uint32{s1, s2, s3, s4}, want)
	}
	mustOK(t, "add", call(timemu.CmdAddGroupMember, fmt.Sprintf(`{"GroupId":%q,"MemberList":[{"Member_Account":"late"},{"Member_Account":"m1"}]}`, group)))
	s5, _ := send("late", `,"NeedReadReceipt":1`)

	mark := func(from string, seqs ...uint32) result {
		t.Helper()
		return call(timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"From_Account":%q,"MsgSeqList":%s}`, group, from, seqList(seqs...)))
	}
	mustOK(t, "mark m2", mark("m2", s1, s4, s5))
	mustOK(t, "mark late", mark("late", s1, s4)) // joined after: not in the audience
	mustOK(t, "mark m1 own", mark("m1", s1))     // own message: ignored
	mustOK(t, "mark twice", mark("m2", s1))

	got := call(timemu.CmdGetReceipt, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, group, seqList(s1, s2, s3, s4, s5)))
	want := `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[` +
		`{"Code":0,"MsgSeq":1,"ReadNum":1,"UnreadNum":1},` + // owner, m2
		`{"Code":0,"MsgSeq":2,"ReadNum":0,"UnreadNum":2},` + // owner, m1
		`{"Code":10062,"MsgSeq":3},` +
		`{"Code":0,"MsgSeq":4,"ReadNum":1,"UnreadNum":2},` + // owner, m1, m2
		`{"Code":0,"MsgSeq":5,"ReadNum":1,"UnreadNum":2}]}` // owner, m1, m2
	if diff := cmp.Diff(want, got.Raw); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	read, unread, ok := e.emu.Receipt(testApp, group, s4)
	if !ok || !cmp.Equal(read, []string{"m2"}) || !cmp.Equal(unread, []string{"owner", "m1"}) {
		t.Errorf("Receipt(seq 4) = %v, %v, %v; want [m2], [owner m1], true", read, unread, ok)
	}

	info := call(timemu.CmdGetGroupInfo, fmt.Sprintf(`{"GroupIdList":[%q,"missing-group"]}`, group))
	mustOK(t, "info", info)
	for _, s := range []string{`"Type":"Private"`, `"MemberNum":4`, `"NextMsgSeq":6`, `"Owner_Account":"owner"`, `{"Member_Account":"late"}`, `"GroupId":"missing-group","ErrorCode":10010`} {
		if !strings.Contains(info.Raw, s) {
			t.Errorf("get_group_info answer lacks %s: %s", s, info.Raw)
		}
	}

	tests := []struct {
		name, cmd, body string
		want            int
	}{
		{"send no body", timemu.CmdSendGroupMsg, fmt.Sprintf(`{"GroupId":%q,"From_Account":"m1"}`, group), timemu.CodeInvalidParam},
		{"send non-member", timemu.CmdSendGroupMsg, fmt.Sprintf(`{"GroupId":%q,"From_Account":"stranger","MsgBody":%s}`, group, textBody), timemu.CodePermission},
		{"send NeedReadReceipt 2", timemu.CmdSendGroupMsg, fmt.Sprintf(`{"GroupId":%q,"MsgBody":%s,"NeedReadReceipt":2}`, group, textBody), timemu.CodeInvalidParam},
		{"send unknown group", timemu.CmdSendGroupMsg, fmt.Sprintf(`{"GroupId":"nope","MsgBody":%s}`, textBody), timemu.CodeGroupNotFound},
		{"send as admin", timemu.CmdSendGroupMsg, fmt.Sprintf(`{"GroupId":%q,"From_Account":%q,"MsgBody":%s}`, group, testAdmin, textBody), 0},
		{"mark non-member", timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"From_Account":"stranger","MsgSeqList":%s}`, group, seqList(1)), timemu.CodePermission},
		{"mark no From_Account", timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, group, seqList(1)), timemu.CodeInvalidParam},
		{"mark seq without receipt", timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"From_Account":"m1","MsgSeqList":%s}`, group, seqList(2, 3)), timemu.CodeReceiptNotExists},
		{"mark 50 seqs", timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"From_Account":"m1","MsgSeqList":%s}`, group, seqList(repeat(2, 50)...)), 0},
		{"mark 51 seqs", timemu.CmdMarkRead, fmt.Sprintf(`{"GroupId":%q,"From_Account":"m1","MsgSeqList":%s}`, group, seqList(repeat(2, 51)...)), timemu.CodeInvalidParam},
		{"create ID in use", timemu.CmdCreateGroup, fmt.Sprintf(`{"Type":"Public","GroupId":%q,"Name":"x"}`, group), timemu.CodeGroupIDUsed},
		{"create bad ID", timemu.CmdCreateGroup, `{"Type":"Public","GroupId":"a b","Name":"x"}`, timemu.CodeInvalidGroupID},
		{"create bad type", timemu.CmdCreateGroup, `{"Type":"Secret","Name":"x"}`, timemu.CodeInvalidParam},
		{"create no name", timemu.CmdCreateGroup, `{"Type":"Public"}`, timemu.CodeInvalidParam},
		{"create Meeting", timemu.CmdCreateGroup, `{"Type":"Meeting","GroupId":"meet-1","Name":"x"}`, 0},
		{"create AVChatRoom", timemu.CmdCreateGroup, `{"Type":"AVChatRoom","GroupId":"av-1","Name":"x"}`, 0},
		{"create Work over 200", timemu.CmdCreateGroup, `{"Type":"Work","Name":"x","MemberList":[` + members(201) + `]}`, timemu.CodeGroupFull},
		{"add to unknown group", timemu.CmdAddGroupMember, `{"GroupId":"nope","MemberList":[{"Member_Account":"a"}]}`, timemu.CodeGroupNotFound},
		{"add nobody", timemu.CmdAddGroupMember, fmt.Sprintf(`{"GroupId":%q,"MemberList":[]}`, group), timemu.CodeInvalidParam},
		{"add over the cap", timemu.CmdAddGroupMember, fmt.Sprintf(`{"GroupId":%q,"MemberList":[%s]}`, group, members(200)), timemu.CodeGroupFull},
		{"info no IDs", timemu.CmdGetGroupInfo, `{"GroupIdList":[]}`, timemu.CodeInvalidParam},
		{"destroy unknown", timemu.CmdDestroyGroup, `{"GroupId":"nope"}`, timemu.CodeGroupNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(tt.cmd, tt.body); got.Code != tt.want {
				t.Errorf("ErrorCode = %d, want %d (%s)", got.Code, tt.want, got.Raw)
			}
		})
	}
	// The refused mark of 2 and 3 changed nothing.
	if r, _, _ := e.emu.Receipt(testApp, group, 2); len(r) != 1 {
		t.Errorf("seq 2 read by %v after the 50-seq mark, want [m1]", r)
	}

	mustOK(t, "destroy", call(timemu.CmdDestroyGroup, fmt.Sprintf(`{"GroupId":%q}`, group)))
	if got := call(timemu.CmdGetReceipt, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, group, seqList(1))); got.Code != timemu.CodeGroupNotFound {
		t.Errorf("after destroy: ErrorCode = %d, want %d", got.Code, timemu.CodeGroupNotFound)
	}
}

func repeat(seq uint32, n int) []uint32 {
	s := make([]uint32, n)
	for i := range s {
		s[i] = seq
	}
	return s
}

func members(n int) string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf(`{"Member_Account":"x%04d"}`, i)
	}
	return strings.Join(m, ",")
}

// TestConcurrentUse runs writers and readers of one group at once (run with
// -race); the final counts must add up.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, timemu.Config{RateLimit: -1})
	mustOK(t, "create", e.call(t, timemu.CmdCreateGroup, `{"Type":"ChatRoom","GroupId":"race","Name":"r","Owner_Account":"o","MemberList":[`+members(20)+`]}`))
	const msgs = 10
	for range msgs {
		mustOK(t, "send", e.call(t, timemu.CmdSendGroupMsg, `{"GroupId":"race","From_Account":"o","NeedReadReceipt":1,"MsgBody":`+textBody+`}`))
	}
	q := e.query(t)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				member := fmt.Sprintf("x%04d", (w*20+i)%20)
				e.post(t, timemu.CmdMarkRead, q, fmt.Sprintf(`{"GroupId":"race","From_Account":%q,"MsgSeqList":%s}`, member, seqList(1+uint32(i%msgs))))
				e.post(t, timemu.CmdGetReceipt, q, `{"GroupId":"race","MsgSeqList":`+seqList(1, 2, 3)+`}`)
				e.post(t, timemu.CmdGetReceiptDetail, q, detailBody("race", 1, 0, "", 5))
				e.post(t, timemu.CmdGetGroupInfo, q, `{"GroupIdList":["race"]}`)
			}
		}()
	}
	wg.Wait()
	for seq := uint32(1); seq <= msgs; seq++ {
		read, unread, ok := e.emu.Receipt(testApp, "race", seq)
		if !ok || len(read)+len(unread) != 20 {
			t.Errorf("seq %d: %d read + %d unread, want 20 in all", seq, len(read), len(unread))
		}
	}
	if got := e.emu.Calls(timemu.CmdMarkRead); got != 120 {
		t.Errorf("Calls(group_msg_receipt) = %d, want 120", got)
	}
}
