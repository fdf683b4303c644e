package timemu_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/timemu"
)

var update = flag.Bool("update", false, "update golden files")

// TestTranscript replays a fixed session against the small fixture and
// compares every answer, byte for byte, with testdata/transcript.golden.
// Run with -update after an intended change and review the diff.
func TestTranscript(t *testing.T) {
	e := newEnv(t, timemu.Config{EmitIsFinish: true})
	e.clock.Set(time.Unix(1750000000, 0))
	steps := []struct{ cmd, body string }{
		{timemu.CmdGetReceipt, `{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":1},{"MsgSeq":2},{"MsgSeq":3},{"MsgSeq":4},{"MsgSeq":5},{"MsgSeq":6}]}`},
		{timemu.CmdGetReceiptDetail, `{"GroupId":"@TGS#2TTV7VSII","MsgSeq":4,"Filter":1,"Cursor":"","Count":2}`},
		{timemu.CmdGetReceiptDetail, `{"GroupId":"@TGS#2TTV7VSII","MsgSeq":4,"Filter":1,"Cursor":"djE6NDoxOjI","Count":2}`},
		{timemu.CmdGetReceiptDetail, `{"GroupId":"@TGS#2TTV7VSII","MsgSeq":4,"Filter":1,"Cursor":"djE6NDoxOjQ","Count":2}`},
		{timemu.CmdSendGroupMsg, `{"GroupId":"@TGS#2TTV7VSII","From_Account":"erin","Random":42,"NeedReadReceipt":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}`},
		{timemu.CmdMarkRead, `{"GroupId":"@TGS#2TTV7VSII","From_Account":"bob","MsgSeqList":[{"MsgSeq":6}]}`},
		{timemu.CmdGetReceipt, `{"GroupId":"@TGS#2TTV7VSII","MsgSeqList":[{"MsgSeq":6}]}`},
		{timemu.CmdCreateGroup, `{"Owner_Account":"zed","Type":"Meeting","Name":"Bridge","MemberList":[{"Member_Account":"yan"}]}`},
		{timemu.CmdAddGroupMember, `{"GroupId":"work-team","MemberList":[{"Member_Account":"bob"},{"Member_Account":"carol"}]}`},
		{timemu.CmdGetGroupInfo, `{"GroupIdList":["work-team","gone"]}`},
		{timemu.CmdDestroyGroup, `{"GroupId":"work-team"}`},
		{timemu.CmdGetReceipt, `{"GroupId":"live-room","MsgSeqList":[{"MsgSeq":1}]}`},
	}
	var b strings.Builder
	for _, s := range steps {
		got := e.call(t, s.cmd, s.body)
		fmt.Fprintf(&b, "> %s %s\n< %s\n", s.cmd, s.body, got.Raw)
	}
	const golden = "testdata/transcript.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
}
