package ui

import (
	"strconv"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// defaultMaxSeqs is the cap used before /api/me told us the app's own.
const defaultMaxSeqs = 10000

// nearCapRatio is where the seq counter turns into a warning: close enough
// to the cap that one more range would be refused.
const nearCapRatio = 0.9

// formInput is what the operator typed.
type formInput struct {
	App   string
	Group string
	Seqs  string
}

// formCheck is the live validation of the form, recomputed on every
// keystroke with the same rules the BFF applies (api.ParseSeqs,
// api.CheckGroupID), so a query that passes here is not refused there.
type formCheck struct {
	Seqs    []uint32
	Count   int
	Cap     int
	NearCap bool
	// Problems by field: "app", "groupId", "seqs".
	AppProblem   string
	GroupProblem string
	SeqProblems  []string
}

// OK reports whether the query may be sent.
func (c formCheck) OK() bool {
	return c.AppProblem == "" && c.GroupProblem == "" && len(c.SeqProblems) == 0
}

// query returns the canonical query of a valid form.
func (c formCheck) query(in formInput) query {
	return query{App: in.App, Group: strings.TrimSpace(in.Group), Seqs: api.FormatSeqs(c.Seqs), Count: c.Count}
}

// seqCap is the largest seq count the chosen app accepts.
func seqCap(me *api.Me, appID string) int {
	if me != nil {
		for _, a := range me.Apps {
			if a.ID == appID && a.MaxSeqs > 0 {
				return a.MaxSeqs
			}
		}
		if me.MaxSeqs > 0 {
			return me.MaxSeqs
		}
	}
	return defaultMaxSeqs
}

// checkForm validates the form. me may be nil while /api/me is loading; the
// app is then not checked (the BFF still is the authority).
func checkForm(in formInput, me *api.Me) formCheck {
	c := formCheck{Cap: seqCap(me, in.App)}
	switch {
	case in.App == "":
		c.AppProblem = "choose an app"
	case me != nil && !hasApp(me, in.App):
		c.AppProblem = "you may not query app " + in.App + ", or it does not exist"
	}
	if p := api.CheckGroupID(strings.TrimSpace(in.Group)); p != nil {
		c.GroupProblem = p.Message
	}
	seqs, problems := api.ParseSeqs(in.Seqs, c.Cap)
	for _, p := range problems {
		c.SeqProblems = append(c.SeqProblems, p.Message)
	}
	c.Seqs = seqs
	c.Count = len(seqs)
	c.NearCap = c.Count > 0 && float64(c.Count) >= nearCapRatio*float64(c.Cap)
	return c
}

func hasApp(me *api.Me, id string) bool {
	for _, a := range me.Apps {
		if a.ID == id {
			return true
		}
	}
	return false
}

// Hint levels of the seq counter.
const (
	hintInfo  = "info"
	hintWarn  = "warn"
	hintError = "error"
)

// seqHint is the line under the seqs input: the count, or the first
// problem once the operator has typed something.
//
// Its numbers are plain digits (hintNum), unlike the rest of the page: the
// same line shows api.ParseSeqs' messages, which the server shares and
// which write "one query takes at most 10000"; and in the seq grammar a
// comma separates seqs, so "10,000" next to the input reads as seqs 10 and
// 0. Counts away from the input (tiles, progress, table) keep separators.
func seqHint(in formInput, c formCheck) (text, level string) {
	switch {
	case strings.TrimSpace(in.Seqs) == "":
		return "e.g. 1-500, 777 · up to " + hintNum(c.Cap), hintInfo
	case len(c.SeqProblems) > 0:
		text = c.SeqProblems[0]
		if n := len(c.SeqProblems) - 1; n > 0 {
			text += " (+" + hintNum(n) + " more " + plural(n, "problem", "problems") + ")"
		}
		return text, hintError
	case c.NearCap:
		return hintNum(c.Count) + " " + plural(c.Count, "seq", "seqs") + " · close to the cap of " + hintNum(c.Cap), hintWarn
	default:
		return hintNum(c.Count) + " " + plural(c.Count, "seq", "seqs") + " · at most " + hintNum(c.Cap), hintInfo
	}
}

// hintNum writes a number of the seqs hint the way api.ParseSeqs does.
func hintNum(n int) string { return strconv.Itoa(n) }
