package bff_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/api"
)

// TestGroups searches the directory through the BFF: the first search
// starts the build and says so, later ones find groups by name and ID
// prefix; bad input is a 400 with every problem, an app without a
// directory or one the operator may not use is refused, and each search
// writes an audit record with the counts and no search text.
func TestGroups(t *testing.T) {
	e := newEnv(t, envOptions{})
	search := func(op any, query string) (int, *api.GroupsResponse, *api.Error) {
		t.Helper()
		return decodeAnswer[api.GroupsResponse](t, e.request(alice, http.MethodGet, api.PathGroups+"?"+query, nil))
	}
	status, first, _ := search(alice, "app=alpha")
	if status != http.StatusOK || first.App != "alpha" {
		t.Fatalf("first search: %d %+v", status, first)
	}
	var res *api.GroupsResponse
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, res, _ = search(alice, "app=alpha&q="+url.QueryEscape("all hands"))
		if res.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the directory was not ready in 30 s: %+v", res.Progress)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(res.Groups) != 1 || res.Groups[0].ID != allHands || res.Groups[0].MemberNum != 200 || !res.Groups[0].Receipts || res.BuiltAt == 0 {
		t.Errorf("search 'all hands': %+v", res)
	}
	_, res, _ = search(alice, "app=alpha&q="+url.QueryEscape("@TGS#2OPS"))
	if len(res.Groups) != 1 || res.Groups[0].ID != warRoom {
		t.Errorf("ID prefix search: %+v", res.Groups)
	}
	_, res, _ = search(alice, "app=alpha&type=AVChatRoom")
	if len(res.Groups) != 1 || res.Groups[0].Receipts {
		t.Errorf("AVChatRoom filter: %+v, want one group marked without receipts", res.Groups)
	}
	_, res, _ = search(alice, "app=alpha&limit=3")
	if len(res.Groups) != 3 || res.Cursor != "3" || res.Total < 8 {
		t.Errorf("page of 3: %d groups, cursor %q, total %d", len(res.Groups), res.Cursor, res.Total)
	}
	_, next, _ := search(alice, "app=alpha&limit=3&cursor="+res.Cursor)
	if len(next.Groups) != 3 || next.Groups[0].ID == res.Groups[0].ID {
		t.Errorf("second page: %+v", next.Groups)
	}

	status, _, apiErr := search(alice, "app=alpha&type=Nope&cursor=x&q="+strings.Repeat("a", 101))
	if status != http.StatusBadRequest || len(apiErr.Problems) != 3 {
		t.Errorf("bad input: %d %+v, want 400 with 3 problems", status, apiErr)
	}
	if status, _, apiErr := search(alice, "app=beta"); status != http.StatusBadRequest || apiErr.Problems[0].Field != "app" {
		t.Errorf("app without a directory: %d %+v, want 400 on app", status, apiErr)
	}
	resp := e.request(bob, http.MethodGet, api.PathGroups+"?app=beta", nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob on beta: %d, want 403", resp.StatusCode)
	}
	resp.Body.Close()

	var audits []map[string]any
	for _, rec := range e.auditRecords() {
		if rec["kind"] == "groups" {
			audits = append(audits, rec)
		}
	}
	if len(audits) < 5 {
		t.Fatalf("%d directory audit records, want one per search", len(audits))
	}
	for _, rec := range audits {
		for k, v := range rec {
			if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), "all hands") {
				t.Errorf("audit record holds the search text in %s: %v", k, rec)
			}
		}
	}
}
