package ui

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/timconsole/timconsole/server/api"
)

// TestDecodeEvent checks the hand decoder against encoding/json, on the
// shapes the BFF sends and on shapes it leaves to encoding/json.
func TestDecodeEvent(t *testing.T) {
	result := api.Event{Type: api.EventResult, Result: &api.ReceiptsResponse{
		App: "prod", GroupID: `@TGS#"quoted"\é`,
		Results: []api.Receipt{
			{Seq: 1, Read: 3, Unread: 4},
			{Seq: 2, Code: 10062, CodeText: "no receipt: \"x\"\n"},
			{Seq: 4294967295, Code: api.CodeNotFetched, CodeText: "timeout"},
		},
		Summary:  api.Summary{Messages: 3, WithReceipt: 1, Missing: 1, NotFetched: 1, TotalRead: 3, TotalUnread: 4, ReadRate: 3.0 / 7},
		Upstream: api.Upstream{Calls: 2, Retries: 1, ElapsedMS: 12},
		Partial:  true,
	}}
	sent, err := json.Marshal(result)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		string(sent),
		`{"type":"progress","done":2,"total":5}`,
		`{"type":"error","error":{"code":"upstream","message":"group gone","upstreamCode":10010}}`,
		`{"type":"result","result":{"app":"a","groupId":"g","results":[],"summary":{"messages":0},"upstream":{}}}`,
		` { "type" : "result" , "result" : { "results" : [ { "seq" : 7 , "read" : 1 , "unread" : 0 , "code" : 0 } ] } } `,
		`{"type":"result","result":null,"error":null}`,
		// Left to encoding/json: unknown keys, other cases, floats, nulls.
		`{"type":"result","extra":[1,{"a":"}"}],"result":{"results":[{"seq":1,"Read":2,"other":true}]}}`,
		`{"type":"result","result":{"results":[{"seq":1,"read":null,"codeText":null}]}}`,
		`{"type":"progress","done":1.5}`,
		`{"type":"result","result":{"results":[{"seq":-1}]}}`,
		`{"type":"progress"} trailing`,
		`{"type":"progress"`,
		`not json`,
	}
	for _, line := range lines {
		var want api.Event
		wantErr := json.Unmarshal([]byte(line), &want)
		got, err := decodeEvent([]byte(line))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("decodeEvent(%s) error = %v, want %v", line, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decodeEvent(%s) (-want +got):\n%s", line, diff)
		}
	}
}

// TestDecodeResult checks the plain JSON answer's decoder against
// encoding/json.
func TestDecodeResult(t *testing.T) {
	docs := []string{
		`{"app":"a","groupId":"g","results":[{"seq":1,"read":2,"unread":3,"code":0},{"seq":2,"code":10062,"codeText":"no \\"receipt\\""}],"summary":{"messages":2,"readRate":0.4},"upstream":{"calls":1},"partial":false}` + "\n",
		`{"results":[]}`,
		`{"results":[{"seq":1,"read":1.5}]}`,
		`{"results":[{"seq":1}],"extra":1}`,
		`null`,
		`{"results":[{"seq":1}]} trailing`,
		`{"results":`,
	}
	for _, doc := range docs {
		var want api.ReceiptsResponse
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, err := decodeResult([]byte(doc))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("decodeResult(%s) error = %v, want %v", doc, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(want, *got); diff != "" {
			t.Errorf("decodeResult(%s) (-want +got):\n%s", doc, diff)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(`{"type":"result","result":{"app":"a","results":[{"seq":1,"read":2,"unread":3,"code":0,"codeText":"x"}],"summary":{"messages":1},"partial":true}}`)
	f.Add(`{"type":"progress","done":1,"total":2}`)
	f.Fuzz(func(t *testing.T, line string) {
		var want api.Event
		wantErr := json.Unmarshal([]byte(line), &want)
		got, err := decodeEvent([]byte(line))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decodeEvent(%q) error = %v, want %v", line, err, wantErr)
		}
		if err == nil {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("decodeEvent(%q) (-want +got):\n%s", line, diff)
			}
		}
	})
}
