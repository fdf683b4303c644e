package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/server/api"
)

func TestWarmupResultHasEveryKindOfRow(t *testing.T) {
	r := warmupResult(chartMaxBars + 60)
	s := r.Summary
	if s.Missing == 0 || s.NotFetched == 0 || s.WithReceipt == 0 || !r.Partial {
		t.Errorf("summary = %+v, partial %v: want rows of every kind", s, r.Partial)
	}
	if g := chartLayout(r.Results, chartW, chartH); !g.Bucketed {
		t.Errorf("the second stage's chart is not bucketed")
	}
}

// TestWarmupOnlyWithoutResult checks that the synthetic result is never
// drawn beside a real one or during a pull: they share element IDs.
func TestWarmupOnlyWithoutResult(t *testing.T) {
	tests := []struct {
		name string
		c    console
		want bool
	}{
		{"first stage", console{warm: warmFirst}, true},
		{"second stage", console{warm: warmNext}, true},
		{"not started", console{}, false},
		{"done", console{warm: warmDone}, false},
		{"pulling", console{warm: warmFirst, pulling: true}, false},
		{"result shown", console{warm: warmNext, shown: newResult(query{}, &api.ReceiptsResponse{})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.api = &client{}
			html := app.HTMLString(c.Render())
			if got := strings.Contains(html, `id="warmup"`); got != tt.want {
				t.Errorf("warm-up drawn = %v, want %v", got, tt.want)
			}
			if tt.want && !strings.Contains(html, `aria-hidden="true"`) {
				t.Errorf("the warm-up is not hidden from assistive technology")
			}
		})
	}
}
