package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/api"
)

func TestParseSeqs(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []uint32
	}{
		{"single", "7", 0, []uint32{7}},
		{"range and single", "1-5, 777", 0, []uint32{1, 2, 3, 4, 5, 777}},
		{"spaces around dash", "1 - 3", 0, []uint32{1, 2, 3}},
		{"dedup and sort", "9, 3, 3, 1-4", 0, []uint32{1, 2, 3, 4, 9}},
		{"semicolons and newlines", "1;2\n3\t4", 0, []uint32{1, 2, 3, 4}},
		{"zero and max", "0, 4294967295", 0, []uint32{0, 4294967295}},
		{"exactly the cap", "1-10", 10, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"overlap counted once", "1-8, 3-10", 10, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := api.ParseSeqs(tt.in, tt.limit)
			if len(problems) != 0 {
				t.Fatalf("ParseSeqs(%q) problems = %v", tt.in, problems)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSeqs(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseSeqsProblems(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string // substrings of each problem, in order
	}{
		{"empty", "", 0, []string{"enter at least one"}},
		{"only commas", " , ,", 0, []string{"enter at least one"}},
		{"junk", "1, abc, 3", 0, []string{`at character 4: "abc" is not a number`}},
		{"fraction", "1.5", 0, []string{"not a whole number"}},
		{"negative", "-3", 0, []string{"start is missing a number"}},
		{"open range", "5-", 0, []string{"end is missing a number"}},
		{"reversed", "500-1", 0, []string{`"500-1" is reversed; write 1-500`}},
		{"too large", "4294967296", 0, []string{"larger than the largest seq"}},
		{"huge digits", "99999999999999999999999", 0, []string{"larger than the largest seq"}},
		{"overlong range", "1-1000000", 10000, []string{"holds 1000000 seqs; one query takes at most 10000"}},
		{"over the cap in total", "1-6, 10-15", 10, []string{"12 seqs requested; one query takes at most 10"}},
		{"every problem reported", "x, 9-1, y", 0, []string{`character 1: "x"`, "character 4: range", `character 9: "y"`}},
		{"chained dashes", "1-2-3", 0, []string{"start is missing a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := api.ParseSeqs(tt.in, tt.limit)
			if got != nil {
				t.Errorf("ParseSeqs(%q) = %v, want nil with problems", tt.in, got)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("ParseSeqs(%q) problems = %v, want %d", tt.in, problems, len(tt.want))
			}
			for i, p := range problems {
				if p.Field != "seqs" || !strings.Contains(p.Message, tt.want[i]) {
					t.Errorf("problem %d = %+v, want field seqs containing %q", i, p, tt.want[i])
				}
			}
		})
	}
}

func TestSeqSpecJSON(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []uint32
		problem string
	}{
		{"string", `{"seqs":"1-3"}`, []uint32{1, 2, 3}, ""},
		{"array", `{"seqs":[3,1,2,2]}`, []uint32{1, 2, 3}, ""},
		{"array with fraction", `{"seqs":[1,2.5]}`, nil, "seqs[1]"},
		{"array with negative", `{"seqs":[-1]}`, nil, "seqs[0]"},
		{"empty array", `{"seqs":[]}`, nil, "seqs"},
		{"missing", `{}`, nil, "seqs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req api.ReceiptsRequest
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.body, err)
			}
			got, problems := req.Seqs.Parse(100)
			if tt.problem != "" {
				if len(problems) == 0 || problems[0].Field != tt.problem {
					t.Fatalf("Parse problems = %v, want field %q", problems, tt.problem)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || len(problems) > 0 {
				t.Errorf("Parse (-want +got):\n%s problems %v", diff, problems)
			}
		})
	}
	for _, bad := range []string{`{"seqs":5}`, `{"seqs":["1"]}`, `{"seqs":{}}`} {
		var req api.ReceiptsRequest
		if err := json.Unmarshal([]byte(bad), &req); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, want a type error", bad)
		}
	}
}

func TestSeqSpecRoundTrip(t *testing.T) {
	for _, spec := range []api.SeqSpec{api.SeqText("1-5, 9"), api.SeqList(4, 2)} {
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		var back api.SeqSpec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		a, _ := spec.Parse(0)
		c, _ := back.Parse(0)
		if diff := cmp.Diff(a, c); diff != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", b, diff)
		}
	}
}

func TestFormatSeqs(t *testing.T) {
	if got, want := api.FormatSeqs([]uint32{1, 2, 3, 5, 7, 8}), "1-3,5,7-8"; got != want {
		t.Errorf("FormatSeqs = %q, want %q", got, want)
	}
	if got := api.FormatSeqs(nil); got != "" {
		t.Errorf("FormatSeqs(nil) = %q, want empty", got)
	}
}

func TestCheckGroupID(t *testing.T) {
	for _, ok := range []string{"@TGS#2TTV7VSII", "public123", strings.Repeat("a", 48)} {
		if p := api.CheckGroupID(ok); p != nil {
			t.Errorf("CheckGroupID(%q) = %v, want nil", ok, p)
		}
	}
	for _, bad := range []string{"", "a b", strings.Repeat("a", 49), "grp\x00", "grüppe"} {
		if p := api.CheckGroupID(bad); p == nil || p.Field != "groupId" {
			t.Errorf("CheckGroupID(%q) = %v, want a groupId problem", bad, p)
		}
	}
}

func TestSummarize(t *testing.T) {
	got := api.Summarize([]api.Receipt{{Seq: 1, Read: 3, Unread: 1}, {Seq: 2, Code: 10062}, {Seq: 3, Read: 1, Unread: 3}})
	want := api.Summary{Messages: 3, WithReceipt: 2, Missing: 1, TotalRead: 4, TotalUnread: 4, ReadRate: 0.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
}

// FuzzParseSeqs checks that no input panics, that accepted output is sorted,
// distinct and within the cap, and that formatting it parses back the same.
func FuzzParseSeqs(f *testing.F) {
	for _, s := range []string{"1-500, 777", "5-1", "a", "1 - 3;4\n", "4294967295", "0-4294967295", "--", "1-2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const limit = 1000
		got, problems := api.ParseSeqs(s, limit)
		if len(problems) > 0 {
			if got != nil {
				t.Fatalf("ParseSeqs(%q) returned seqs and problems", s)
			}
			return
		}
		if len(got) == 0 || len(got) > limit {
			t.Fatalf("ParseSeqs(%q) returned %d seqs", s, len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("ParseSeqs(%q) not sorted and distinct at %d: %v", s, i, got[i-1:i+1])
			}
		}
		back, problems := api.ParseSeqs(api.FormatSeqs(got), limit)
		if len(problems) > 0 || !cmp.Equal(back, got) {
			t.Fatalf("FormatSeqs round trip of %q failed: %v", s, problems)
		}
	})
}
