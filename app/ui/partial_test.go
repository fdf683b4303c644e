package ui

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/api"
)

// TestMergeRetry: the answers of a retry of the not-fetched seqs replace
// those seqs in the partial result, in place; a seq still not fetched stays
// marked, and the summary follows the server's rule.
func TestMergeRetry(t *testing.T) {
	nf := func(seq uint32) api.Receipt {
		return api.Receipt{Seq: seq, Code: api.CodeNotFetched, CodeText: "Not fetched: Tencent answered HTTP 502."}
	}
	base := &api.ReceiptsResponse{
		App: "a", GroupID: "g", Partial: true,
		Results:  []api.Receipt{{Seq: 1, Read: 1, Unread: 1}, nf(2), nf(3), {Seq: 4, Code: 10062}},
		Upstream: api.Upstream{Calls: 4, Retries: 2, ElapsedMS: 100},
	}
	base.Summary = api.Summarize(base.Results)
	tests := []struct {
		name        string
		retry       []api.Receipt
		want        []api.Receipt
		wantPartial bool
	}{
		{
			name:  "all fetched",
			retry: []api.Receipt{{Seq: 2, Read: 3, Unread: 0}, {Seq: 3, Code: 10062}},
			want:  []api.Receipt{{Seq: 1, Read: 1, Unread: 1}, {Seq: 2, Read: 3}, {Seq: 3, Code: 10062}, {Seq: 4, Code: 10062}},
		},
		{
			name:        "one still failing",
			retry:       []api.Receipt{{Seq: 2, Read: 3, Unread: 0}, nf(3)},
			want:        []api.Receipt{{Seq: 1, Read: 1, Unread: 1}, {Seq: 2, Read: 3}, nf(3), {Seq: 4, Code: 10062}},
			wantPartial: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeRetry(base, &api.ReceiptsResponse{Results: tt.retry, Upstream: api.Upstream{Calls: 1, ElapsedMS: 10}})
			if diff := cmp.Diff(tt.want, got.Results); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if got.Partial != tt.wantPartial || got.Summary != api.Summarize(tt.want) {
				t.Errorf("partial %v, summary %+v; want %v, %+v", got.Partial, got.Summary, tt.wantPartial, api.Summarize(tt.want))
			}
			if got.Upstream.Calls != 5 || got.Upstream.ElapsedMS != 110 {
				t.Errorf("upstream %+v, want the retry's cost added", got.Upstream)
			}
			if base.Results[1].Code != api.CodeNotFetched {
				t.Error("mergeRetry changed the base result")
			}
		})
	}
	// The not-fetched tile shows only on partial results.
	names := func(s api.Summary) (out []string) {
		for _, tl := range tilesOf(s) {
			out = append(out, tl.Name)
		}
		return out
	}
	if n := names(base.Summary); len(n) != 7 || n[3] != "not-fetched" {
		t.Errorf("tiles of a partial result: %v, want not-fetched after missing", n)
	}
	if n := names(api.Summary{Messages: 3}); len(n) != 6 {
		t.Errorf("tiles of a complete result: %v, want 6", n)
	}
}
