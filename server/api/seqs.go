package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxSeq is the largest message seq: Tencent's MsgSeq is an unsigned 32-bit value.
const MaxSeq = 1<<32 - 1

// SeqSpec is the seqs field of a query: either the text an operator typed
// ("1-500, 777") or a JSON array of numbers from a script. It keeps the input
// as given; Parse validates it, so the browser and the BFF apply one rule set.
type SeqSpec struct {
	Text   string
	List   []json.Number
	IsList bool
}

// SeqText returns a SeqSpec for the seq grammar.
func SeqText(s string) SeqSpec { return SeqSpec{Text: s} }

// SeqList returns a SeqSpec holding a JSON array of seqs.
func SeqList(seqs ...uint32) SeqSpec {
	l := make([]json.Number, len(seqs))
	for i, s := range seqs {
		l[i] = json.Number(strconv.FormatUint(uint64(s), 10))
	}
	return SeqSpec{List: l, IsList: true}
}

// MarshalJSON writes a string or an array, whichever the spec holds.
func (s SeqSpec) MarshalJSON() ([]byte, error) {
	if s.IsList {
		if s.List == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(s.List)
	}
	return json.Marshal(s.Text)
}

// UnmarshalJSON accepts a string or an array of numbers.
func (s *SeqSpec) UnmarshalJSON(b []byte) error {
	*s = SeqSpec{}
	t := strings.TrimSpace(string(b))
	switch {
	case strings.HasPrefix(t, `"`):
		return json.Unmarshal(b, &s.Text)
	case strings.HasPrefix(t, "["):
		s.IsList = true
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return errors.New("seqs must be a string such as \"1-500, 777\" or an array of numbers")
		}
		s.List = make([]json.Number, len(raw))
		for i, r := range raw {
			// A number is kept as written so Parse can report "1.5" or "-3"
			// with its position; anything else is a type error right here.
			if len(r) == 0 || r[0] == '"' {
				return fmt.Errorf("seqs[%d] is not a number", i)
			}
			if err := json.Unmarshal(r, &s.List[i]); err != nil {
				return fmt.Errorf("seqs[%d] is not a number", i)
			}
		}
		return nil
	case t == "null":
		return nil
	default:
		return errors.New("seqs must be a string such as \"1-500, 777\" or an array of numbers")
	}
}

// Parse validates the spec and returns its seqs deduplicated and sorted.
// limit caps how many distinct seqs one query may ask for (0 means no cap).
// All problems are reported, each saying what and where, so an operator can
// fix a long list in one go.
func (s SeqSpec) Parse(limit int) ([]uint32, []Problem) {
	if s.IsList {
		return parseList(s.List, limit)
	}
	return ParseSeqs(s.Text, limit)
}

// seqRange is an inclusive range of seqs.
type seqRange struct{ lo, hi uint64 }

// ParseSeqs parses the seq grammar: numbers and inclusive ranges ("a-b"),
// separated by commas, semicolons or white space. Positions in problems are
// 1-based character offsets into s.
func ParseSeqs(s string, limit int) ([]uint32, []Problem) {
	var (
		ranges   []seqRange
		problems []Problem
	)
	add := func(pos int, format string, args ...any) {
		problems = append(problems, Problem{Field: "seqs", Message: fmt.Sprintf("at character %d: ", pos) + fmt.Sprintf(format, args...)})
	}
	word := func(i int) (string, int) {
		j := i
		for j < len(s) && !isSeqSep(s[j]) && s[j] != '-' {
			j++
		}
		return s[i:j], j
	}
	for i := 0; i < len(s); {
		if isSeqSep(s[i]) {
			i++
			continue
		}
		start := i
		lo, j := word(i)
		i = j
		// A range may have spaces around its dash ("1 - 5").
		if k := skipSpaces(s, i); k < len(s) && s[k] == '-' {
			hi, e := word(skipSpaces(s, k+1))
			i = e
			item := s[start:i]
			a, errA := parseSeqNumber(lo)
			b, errB := parseSeqNumber(hi)
			switch {
			case errA != "":
				add(start+1, "range %q: start %s", item, errA)
			case errB != "":
				add(start+1, "range %q: end %s", item, errB)
			case a > b:
				add(start+1, "range %q is reversed; write %d-%d", item, b, a)
			case limit > 0 && b-a+1 > uint64(limit):
				add(start+1, "range %q holds %d seqs; one query takes at most %d", item, b-a+1, limit)
			default:
				ranges = append(ranges, seqRange{a, b})
			}
			continue
		}
		n, err := parseSeqNumber(lo)
		if err != "" {
			add(start+1, "%q %s", lo, err)
			continue
		}
		ranges = append(ranges, seqRange{n, n})
	}
	if len(problems) == 0 && len(ranges) == 0 {
		problems = append(problems, Problem{Field: "seqs", Message: "enter at least one message seq, such as 1-500, 777"})
	}
	return expand(ranges, limit, problems)
}

func parseList(list []json.Number, limit int) ([]uint32, []Problem) {
	var (
		ranges   []seqRange
		problems []Problem
	)
	for i, n := range list {
		v, err := parseSeqNumber(string(n))
		if err != "" {
			problems = append(problems, Problem{Field: fmt.Sprintf("seqs[%d]", i), Message: fmt.Sprintf("%q %s", string(n), err)})
			continue
		}
		ranges = append(ranges, seqRange{v, v})
	}
	if len(problems) == 0 && len(ranges) == 0 {
		problems = append(problems, Problem{Field: "seqs", Message: "enter at least one message seq"})
	}
	return expand(ranges, limit, problems)
}

// expand merges the ranges, checks the cap on distinct seqs before
// allocating anything, and lists the seqs in order.
func expand(ranges []seqRange, limit int, problems []Problem) ([]uint32, []Problem) {
	slices.SortFunc(ranges, func(a, b seqRange) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	merged := ranges[:0]
	for _, r := range ranges {
		if n := len(merged); n > 0 && r.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, r.hi)
			continue
		}
		merged = append(merged, r)
	}
	var total uint64
	for _, r := range merged {
		total += r.hi - r.lo + 1
	}
	if limit > 0 && total > uint64(limit) {
		problems = append(problems, Problem{Field: "seqs", Message: fmt.Sprintf("%d seqs requested; one query takes at most %d", total, limit)})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	out := make([]uint32, 0, total)
	for _, r := range merged {
		for v := r.lo; v <= r.hi; v++ {
			out = append(out, uint32(v))
		}
	}
	return out, nil
}

// parseSeqNumber parses one decimal seq and returns a problem text, or "".
func parseSeqNumber(s string) (uint64, string) {
	if s == "" {
		return 0, "is missing a number"
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			if c == '.' || c == 'e' || c == 'E' {
				return 0, "is not a whole number"
			}
			return 0, "is not a number"
		}
	}
	if len(s) > 10 {
		return 0, fmt.Sprintf("is larger than the largest seq %d", uint64(MaxSeq))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxSeq {
		return 0, fmt.Sprintf("is larger than the largest seq %d", uint64(MaxSeq))
	}
	return n, ""
}

func isSeqSep(c byte) bool {
	return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// FormatSeqs writes sorted, distinct seqs back in the compact grammar
// ("1-500,777"), for deep links, file names and the recent-queries list.
func FormatSeqs(seqs []uint32) string {
	var b strings.Builder
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(seqs[i]), 10))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.FormatUint(uint64(seqs[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}

// MaxGroupIDLen is the longest group ID Tencent accepts, in bytes.
const MaxGroupIDLen = 48

// CheckGroupID validates a group ID before any upstream call: 1 to 48
// printable ASCII characters without spaces. It returns nil when the ID is
// acceptable.
func CheckGroupID(id string) *Problem {
	switch {
	case id == "":
		return &Problem{Field: "groupId", Message: "enter a group ID"}
	case len(id) > MaxGroupIDLen:
		return &Problem{Field: "groupId", Message: fmt.Sprintf("group ID is %d bytes; at most %d", len(id), MaxGroupIDLen)}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= 0x20 || c >= 0x7f {
			return &Problem{Field: "groupId", Message: fmt.Sprintf("group ID has a space or an unsupported character at position %d; use printable ASCII only", i+1)}
		}
	}
	return nil
}
