package timemu_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/timemu"
)

func TestGenerate(t *testing.T) {
	opts := timemu.GenerateOptions{Seed: 42, SDKAppID: testApp}
	f := timemu.Generate(opts)
	// JSON comparison: cmp on 20,000 messages takes minutes.
	if !bytes.Equal(mustJSON(t, f), mustJSON(t, timemu.Generate(opts))) {
		t.Fatal("Generate is not deterministic")
	}
	if bytes.Equal(mustJSON(t, f), mustJSON(t, timemu.Generate(timemu.GenerateOptions{Seed: 43, SDKAppID: testApp}))) {
		t.Error("seeds 42 and 43 gave the same data set")
	}

	types := map[string]int{}
	var ratios []float64
	maxMessages := 0
	for i, g := range f.Apps[0].Groups {
		want := timemu.DemoGroups(0)[i]
		if g.ID != want.ID || g.Type != want.Type || len(g.Members)+1 != want.Members || len(g.Messages) != want.Messages {
			t.Errorf("group %d = %s %s %d members %d messages, want %+v", i, g.ID, g.Type, len(g.Members)+1, len(g.Messages), want)
		}
		types[g.Type]++
		maxMessages = max(maxMessages, len(g.Messages))
		if g.Type == timemu.TypeAVChatRoom || len(g.Members)+1 > timemu.MaxReceiptMembers {
			continue
		}
		// Read ratio of receipt messages: oldest fifth vs newest fifth
		// (leaving out the last 20, which are still being read).
		n := len(g.Messages)
		oldR, newR := readRatio(g, 0, n/5), readRatio(g, n-n/5-20, n-20)
		if oldR >= newR {
			t.Errorf("%s: read ratio oldest %.2f, newest %.2f; want it to decay with age", g.ID, oldR, newR)
		}
		ratios = append(ratios, readRatio(g, 0, n))
		without := 0
		for _, m := range g.Messages {
			if !m.Receipt {
				without++
			}
		}
		if without == 0 || without > n/4 {
			t.Errorf("%s: %d of %d messages without receipt, want some but not most", g.ID, without, n)
		}
	}
	for _, typ := range []string{timemu.TypePublic, timemu.TypeAVChatRoom} {
		if types[typ] == 0 {
			t.Errorf("no %s group", typ)
		}
	}
	if types[timemu.TypePrivate]+types[timemu.TypeWork] < 2 || types[timemu.TypeChatRoom]+types[timemu.TypeMeeting] < 2 || types[timemu.TypePublic] < 2 {
		t.Errorf("group types %v, want at least two of each supported type", types)
	}
	if maxMessages < 10000 {
		t.Errorf("biggest group has %d messages, want at least 10000", maxMessages)
	}
	lo, hi := ratios[0], ratios[0]
	for _, r := range ratios {
		lo, hi = min(lo, r), max(hi, r)
	}
	if hi-lo < 0.1 {
		t.Errorf("overall read ratios %v do not vary by group", ratios)
	}
}

// readRatio is the share of audience members who read the receipt messages
// in g.Messages[from:to].
func readRatio(g timemu.FixtureGroup, from, to int) float64 {
	audience := len(g.Members) // members + owner, minus the sender
	reads, total := 0, 0
	for _, m := range g.Messages[from:to] {
		if m.Receipt {
			reads += m.ReadBits.Count()
			total += audience
		}
	}
	return float64(reads) / float64(total)
}

// TestGeneratedServed loads the generated set and checks a 50-seq summary
// against the ground truth, and the refusals of the unsupported groups.
func TestGeneratedServed(t *testing.T) {
	e := newEnv(t, timemu.Config{})
	if err := e.emu.Load(timemu.Generate(timemu.GenerateOptions{Seed: 1, SDKAppID: testApp})); err != nil {
		t.Fatal(err)
	}
	const group = "@TGS#2ALLHANDS"
	var seqs []uint32
	var want []string
	for s := uint32(11951); s <= 12000; s++ {
		seqs = append(seqs, s)
		if read, unread, ok := e.emu.Receipt(testApp, group, s); ok {
			if len(read)+len(unread) > 199 {
				t.Errorf("seq %d: audience %d, want at most 199", s, len(read)+len(unread))
			}
			want = append(want, fmt.Sprintf(`{"Code":0,"MsgSeq":%d,"ReadNum":%d,"UnreadNum":%d}`, s, len(read), len(unread)))
		} else {
			want = append(want, fmt.Sprintf(`{"Code":10062,"MsgSeq":%d}`, s))
		}
	}
	got := e.call(t, timemu.CmdGetReceipt, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, group, seqList(seqs...)))
	wantRaw := `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupMsgReceiptList":[` + strings.Join(want, ",") + `]}`
	if diff := cmp.Diff(wantRaw, got.Raw); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	for _, g := range []string{"town-hall-emea", "@TGS#aLIVELAUNCH"} {
		if got := e.call(t, timemu.CmdGetReceipt, fmt.Sprintf(`{"GroupId":%q,"MsgSeqList":%s}`, g, seqList(100))); got.Code != timemu.CodePermission {
			t.Errorf("%s: ErrorCode = %d, want %d", g, got.Code, timemu.CodePermission)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixtureRoundTrip(t *testing.T) {
	f := timemu.Generate(timemu.GenerateOptions{Seed: 3, SDKAppID: testApp, Key: "k", Admins: []string{"administrator"}, Messages: 300})
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := timemu.LoadFixture(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	emu := timemu.New(timemu.Config{})
	if err := emu.Load(got); err != nil {
		t.Fatalf("Load of a fixture with its key: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, fixture, wantErr string
	}{
		{"unknown field", `{"apps":[{"sdkAppId":1,"key":"k","groupz":[]}]}`, "unknown field"},
		{"not JSON", `{"apps":`, "fixture"},
		{"bad readBits", `{"apps":[{"sdkAppId":1,"key":"k","groups":[{"id":"g","type":"Public","name":"n","members":["a"],"messages":[{"seq":1,"readBits":"zz"}]}]}]}`, "readBits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := timemu.LoadFixture(strings.NewReader(tt.fixture))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadFixture error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}

	bad := &timemu.Fixture{Apps: []timemu.FixtureApp{
		{SDKAppID: 7, Groups: []timemu.FixtureGroup{{ID: "g", Type: "Public", Name: "n"}}},
		{SDKAppID: testApp, Key: "k", Groups: []timemu.FixtureGroup{
			{ID: "a b", Type: "Public", Name: "n"},
			{ID: "t", Type: "Secret", Name: "n"},
			{ID: "d", Type: "Public", Name: "n", Members: []string{"x"}, Messages: []timemu.FixtureMessage{{Seq: 1}, {Seq: 1}}},
			{ID: "r", Type: "Public", Name: "n", Members: []string{"x"}, Messages: []timemu.FixtureMessage{{Seq: 1, Read: []string{"y"}}}},
			{ID: "big", Type: "Work", Name: "n", Members: make([]string, 201)},
			{ID: "ok", Type: "Public", Name: "n"},
			{ID: "ok", Type: "Public", Name: "n"},
		}},
	}}
	for i := range bad.Apps[1].Groups[4].Members {
		bad.Apps[1].Groups[4].Members[i] = fmt.Sprint("m", i)
	}
	emu := timemu.New(timemu.Config{})
	err := emu.Load(bad)
	if err == nil {
		t.Fatal("Load of a bad fixture succeeded")
	}
	for _, want := range []string{"app 7: unknown app and no key", `"a b"`, `unknown type "Secret"`, "duplicate seq 1", `reader "y"`, "201 members", "duplicate group ID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load error lacks %q:\n%v", want, err)
		}
	}
	if _, _, ok := emu.Receipt(testApp, "ok", 1); ok {
		t.Error("a failed Load changed the data")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		timemu.Generate(timemu.GenerateOptions{Seed: 1, SDKAppID: testApp})
	}
}

func BenchmarkLoadGenerated(b *testing.B) {
	f := timemu.Generate(timemu.GenerateOptions{Seed: 1, SDKAppID: testApp})
	for b.Loop() {
		emu := timemu.New(timemu.Config{})
		emu.AddApp(testApp, testKey, testAdmin)
		if err := emu.Load(f); err != nil {
			b.Fatal(err)
		}
	}
}
