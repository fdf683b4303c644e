package bff

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/timconsole/timconsole/server/api"
)

// csvHeader names the CSV columns. read_rate is read/(read+unread) with four
// decimals, empty when the message has no receipt or no members. A seq a
// partial pull could not fetch has code -2 (api.CodeNotFetched), empty read
// and unread, and its cause in note.
var csvHeader = []string{"seq", "read", "unread", "read_rate", "code", "note"}

// writeCSV writes one row per receipt, in the order given. Every cell is a
// number or text from the console's own code table, so no cell can start a
// spreadsheet formula.
func writeCSV(w io.Writer, rs []api.Receipt) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, r := range rs {
		rate := ""
		if r.Code == 0 && r.Read+r.Unread > 0 {
			rate = strconv.FormatFloat(float64(r.Read)/float64(r.Read+r.Unread), 'f', 4, 64)
		}
		read, unread := strconv.Itoa(r.Read), strconv.Itoa(r.Unread)
		if r.Code == api.CodeNotFetched {
			read, unread = "", "" // unknown, not zero
		}
		row := []string{
			strconv.FormatUint(uint64(r.Seq), 10),
			read,
			unread,
			rate,
			strconv.Itoa(r.Code),
			safeCell(r.CodeText),
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// safeCell defuses text that a spreadsheet would run as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvFileName builds the attachment name receipts-<app>-<group>-<seqs>.csv
// from characters every file system and browser accepts.
func csvFileName(app, group string, seqs []uint32) string {
	name := "receipts-" + fileSafe(app, 40) + "-" + fileSafe(group, 48) + "-" + fileSafe(api.FormatSeqs(seqs), 60)
	return name + ".csv"
}

// fileSafe keeps letters, digits, '.', '_' and '-' (others become '_') and
// cuts long values, marking the cut with "~".
func fileSafe(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		case c == '.' && b.Len() > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max-1] + "~"
	}
	if out == "" {
		out = "_"
	}
	return out
}
