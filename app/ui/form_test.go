package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

func testMe() *api.Me {
	return &api.Me{
		Operator: api.Operator{Subject: "u1", Name: "Ada Lovelace", Email: "ada@example.com"},
		Apps: []api.App{
			{ID: "prod", Name: "Production", SDKAppID: 1400000001, Region: "Singapore", MaxSeqs: 10000},
			{ID: "small", Name: "Small", SDKAppID: 1400000002, Region: "Frankfurt", MaxSeqs: 100},
		},
	}
}

func TestCheckForm(t *testing.T) {
	me := testMe()
	tests := []struct {
		name    string
		in      formInput
		me      *api.Me
		wantOK  bool
		count   int
		cap     int
		nearCap bool
		app     string // substring of the app problem
		group   string // substring of the group problem
		seqs    []string
	}{
		{name: "valid", in: formInput{"prod", "@TGS#1", "1-500, 777"}, me: me, wantOK: true, count: 501, cap: 10000},
		{name: "group trimmed", in: formInput{"prod", "  g1 ", "7"}, me: me, wantOK: true, count: 1, cap: 10000},
		{name: "no app", in: formInput{"", "g1", "7"}, me: me, count: 1, cap: 10000, app: "choose an app"},
		{name: "unknown app", in: formInput{"nope", "g1", "7"}, me: me, count: 1, cap: 10000, app: "may not query app nope"},
		{name: "app unchecked while me loads", in: formInput{"nope", "g1", "7"}, me: nil, wantOK: true, count: 1, cap: defaultMaxSeqs},
		{name: "empty group", in: formInput{"prod", "", "7"}, me: me, count: 1, cap: 10000, group: "enter a group ID"},
		{name: "group with space", in: formInput{"prod", "a b", "7"}, me: me, count: 1, cap: 10000, group: "position 2"},
		{name: "empty seqs", in: formInput{"prod", "g1", ""}, me: me, cap: 10000, seqs: []string{"enter at least one"}},
		{name: "bad seqs, all reported", in: formInput{"prod", "g1", "x, 9-1"}, me: me, cap: 10000, seqs: []string{`"x" is not a number`, "reversed"}},
		{name: "per-app cap", in: formInput{"small", "g1", "1-101"}, me: me, cap: 100, seqs: []string{"holds 101 seqs; one query takes at most 100"}},
		{name: "near the cap", in: formInput{"small", "g1", "1-95"}, me: me, wantOK: true, count: 95, cap: 100, nearCap: true},
		{name: "just under near", in: formInput{"small", "g1", "1-89"}, me: me, wantOK: true, count: 89, cap: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkForm(tt.in, tt.me)
			if got.OK() != tt.wantOK {
				t.Errorf("OK() = %v, want %v (check %+v)", got.OK(), tt.wantOK, got)
			}
			if got.Count != tt.count || got.Cap != tt.cap || got.NearCap != tt.nearCap {
				t.Errorf("count, cap, nearCap = %d, %d, %v; want %d, %d, %v", got.Count, got.Cap, got.NearCap, tt.count, tt.cap, tt.nearCap)
			}
			checkProblem(t, "app", got.AppProblem, tt.app)
			checkProblem(t, "group", got.GroupProblem, tt.group)
			if len(got.SeqProblems) != len(tt.seqs) {
				t.Fatalf("seq problems = %q, want %d", got.SeqProblems, len(tt.seqs))
			}
			for i, p := range got.SeqProblems {
				checkProblem(t, "seqs", p, tt.seqs[i])
			}
		})
	}
}

func checkProblem(t *testing.T, field, got, want string) {
	t.Helper()
	if (want == "") != (got == "") || !strings.Contains(got, want) {
		t.Errorf("%s problem = %q, want one containing %q", field, got, want)
	}
}

func TestFormQueryIsCanonical(t *testing.T) {
	in := formInput{App: "prod", Group: " g1 ", Seqs: "9, 3-5, 4, 1"}
	c := checkForm(in, testMe())
	got := c.query(in)
	want := query{App: "prod", Group: "g1", Seqs: "1,3-5,9", Count: 5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

func TestSeqHint(t *testing.T) {
	me := testMe()
	tests := []struct {
		in        formInput
		text      string
		wantLevel string
	}{
		{formInput{"prod", "g", ""}, "e.g. 1-500, 777 · up to 10000", hintInfo},
		{formInput{"prod", "g", "1-500"}, "500 seqs · at most 10000", hintInfo},
		{formInput{"prod", "g", "1"}, "1 seq ·", hintInfo},
		{formInput{"small", "g", "1-95"}, "95 seqs · close to the cap of 100", hintWarn},
		{formInput{"prod", "g", "1-9500"}, "9500 seqs · close to the cap of 10000", hintWarn},
		{formInput{"prod", "g", "a, b"}, `"a" is not a number (+1 more problem)`, hintError},
		// The server's own wording (api.ParseSeqs), unchanged.
		{formInput{"prod", "g", "1-10001"}, "holds 10001 seqs; one query takes at most 10000", hintError},
		{formInput{"prod", "g", "1-6000, 7000-12000"}, "11001 seqs requested; one query takes at most 10000", hintError},
	}
	for _, tt := range tests {
		text, level := seqHint(tt.in, checkForm(tt.in, me))
		if !strings.Contains(text, tt.text) || level != tt.wantLevel {
			t.Errorf("seqHint(%q) = %q, %q; want one containing %q, %q", tt.in.Seqs, text, level, tt.text, tt.wantLevel)
		}
		// One way of writing numbers on this line, whoever wrote the text:
		// a comma between digits would read as a seq separator.
		if regexp.MustCompile(`\d,\d`).MatchString(text) {
			t.Errorf("seqHint(%q) = %q writes a number with a thousands separator", tt.in.Seqs, text)
		}
	}
}

// loadedForm is a mounted-in-the-browser form with the operator's apps.
func loadedForm(in formInput) *queryForm {
	me := testMe()
	f := &queryForm{Apps: me.Apps, MaxSeqs: me.MaxSeqs, MeStatus: loaded, Ready: true}
	f.OnInit()
	f.in = in
	f.recheck()
	return f
}

// TestFormRendersValidation renders the form as the operator types and
// checks the live hint and the invalid markers.
func TestFormRendersValidation(t *testing.T) {
	f := loadedForm(formInput{App: "prod", Group: "g1", Seqs: "1-20, 30"})

	// Section > [H1, Form > [app, group, seqs, submit]]; seqs > [label, input, hint].
	if err := app.Match(app.Text("21 seqs · at most 10000"), f.Render(), 1, 2, 2, 0); err != nil {
		t.Errorf("seq count hint: %v", err)
	}

	f.in.Seqs = "1-20, x"
	f.recheck()
	if err := app.Match(app.Text(`at character 7: "x" is not a number`), f.Render(), 1, 2, 2, 0); err != nil {
		t.Errorf("seq problem hint: %v", err)
	}

	// An untouched empty group shows its quiet hint; after Pull, the problem.
	f.in = formInput{App: "prod", Group: "", Seqs: "1"}
	f.recheck()
	if err := app.Match(app.Text("As shown in the Chat console"), f.Render(), 1, 1, 2, 0); err != nil {
		t.Errorf("quiet group hint: %v", err)
	}
	f.touched = true
	if err := app.Match(app.Text("enter a group ID"), f.Render(), 1, 1, 2, 0); err != nil {
		t.Errorf("group problem after submit: %v", err)
	}
}

// TestFormLockedBeforeMount checks the prerendered form: every control is
// disabled (set to true, never to "false") until the wasm has mounted.
func TestFormLockedBeforeMount(t *testing.T) {
	f := &queryForm{}
	f.OnInit()
	want := app.Button().ID("pull-button").Type("submit").Class("btn", "btn-primary").Text("Pull").Disabled(true)
	if err := app.Match(want, f.Render(), 1, 3, 1); err != nil {
		t.Errorf("pull button before mount: %v", err)
	}
	f = loadedForm(formInput{})
	want = app.Button().ID("pull-button").Type("submit").Class("btn", "btn-primary").Text("Pull")
	if err := app.Match(want, f.Render(), 1, 3, 1); err != nil {
		t.Errorf("pull button after mount: %v", err)
	}
}

// TestFormPrefill checks the inputs: a navigation's pre-fill replaces what
// was typed, a page render without one keeps it, and the apps arriving
// pick a valid app.
func TestFormPrefill(t *testing.T) {
	f := &queryForm{Prefill: formInput{App: "gone", Group: "g1", Seqs: "1-5"}, Nav: 1}
	f.OnInit()
	if f.in.Group != "g1" || f.in.App != "gone" {
		t.Fatalf("after the first pre-fill: %+v", f.in)
	}
	f.in.Group = "typed"
	f.Busy = true // another input changes: what was typed stays
	f.OnUpdate(app.Context{})
	if f.in.Group != "typed" {
		t.Errorf("a page render without navigation replaced the typed group: %+v", f.in)
	}
	me := testMe()
	f.Apps, f.MaxSeqs, f.MeStatus = me.Apps, me.MaxSeqs, loaded
	f.OnUpdate(app.Context{})
	if f.in.App != "prod" {
		t.Errorf("app %q after the apps arrived, want the first valid one (prod)", f.in.App)
	}
	f.Prefill, f.Nav = formInput{App: "small", Group: "g2", Seqs: "7"}, 2
	f.OnUpdate(app.Context{})
	if f.in != f.Prefill || !f.check.OK() {
		t.Errorf("after a navigation: %+v, check %+v; want the pre-fill", f.in, f.check)
	}
}

// formHarness loads a form on the host and records the actions it posts.
type formHarness struct {
	*queryForm
	ctx   *app.Context
	pulls *[]query
	bad   *int
}

func (h formHarness) OnPreRender(ctx app.Context) {
	*h.ctx = ctx
	ctx.Handle(actionPull, func(_ app.Context, a app.Action) { *h.pulls = append(*h.pulls, a.Value.(query)) })
	ctx.Handle(actionFormInvalid, func(app.Context, app.Action) { *h.bad++ })
}

// TestQueryFormSubmit checks Pull: an invalid form shows every problem and
// posts only actionFormInvalid; a valid one posts the canonical query.
func TestQueryFormSubmit(t *testing.T) {
	me := testMe()
	h := formHarness{
		queryForm: &queryForm{Apps: me.Apps, MaxSeqs: me.MaxSeqs, MeStatus: loaded, Ready: true},
		ctx:       new(app.Context), pulls: new([]query), bad: new(int),
	}
	e := app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()

	tests := []struct {
		name string
		in   formInput
	}{
		{"bad seqs", formInput{App: "prod", Group: "g1", Seqs: "1-20, x"}},
		{"over the cap", formInput{App: "prod", Group: "g1", Seqs: "1-10001"}},
		{"no group", formInput{App: "prod", Group: " ", Seqs: "1"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.in, h.touched = tt.in, false
			h.submit(*h.ctx)
			e.ConsumeAll()
			if h.check.OK() || !h.touched {
				t.Errorf("check %+v, touched %v; want the problems shown", h.check, h.touched)
			}
			if *h.bad != i+1 || len(*h.pulls) != 0 {
				t.Errorf("%d invalid and %d pulls posted, want %d and none", *h.bad, len(*h.pulls), i+1)
			}
		})
	}

	h.in = formInput{App: "prod", Group: " g1 ", Seqs: "9, 3-5, 4, 1"}
	h.submit(*h.ctx)
	e.ConsumeAll()
	want := []query{{App: "prod", Group: "g1", Seqs: "1,3-5,9", Count: 5}}
	if diff := cmp.Diff(want, *h.pulls); diff != "" {
		t.Errorf("pulls posted (-want +got):\n%s", diff)
	}
}
