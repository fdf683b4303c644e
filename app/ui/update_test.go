package ui

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ctxProbe is an empty component that hands its context to the test: the
// host test engine calls OnPreRender, never OnMount.
type ctxProbe struct {
	app.Compo
	ctx app.Context
	ok  bool
}

func (p *ctxProbe) OnPreRender(ctx app.Context) { p.ctx, p.ok = ctx, true }
func (p *ctxProbe) Render() app.UI              { return app.Div() }

func mustProbe(t *testing.T) (app.Context, app.TestEngine) {
	t.Helper()
	p := &ctxProbe{}
	e := app.NewTestEngine()
	if err := e.Load(p); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if !p.ok {
		t.Fatal("OnPreRender did not run")
	}
	return p.ctx, e
}

// consumeWithin runs the engine until it is idle, failing the test instead
// of hanging when a timer chain never ends.
func consumeWithin(t *testing.T, e app.TestEngine, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		e.ConsumeAll()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("the engine is still busy after %v: a timer chain did not stop", d)
	}
}

// TestUpdateWatchPoke walks the check decisions with a fake clock: only
// while running and visible, and at most once per MinGap.
func TestUpdateWatchPoke(t *testing.T) {
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	visible := true
	checks := 0
	w := updateWatch{
		Every: updateEvery, MinGap: time.Minute,
		Now:     func() time.Time { return now },
		Visible: func() bool { return visible },
		Check:   func() { checks++ },
	}
	steps := []struct {
		name    string
		advance time.Duration
		visible bool
		run     bool // the watch is running
		want    bool // a check is sent
	}{
		{"not started", 0, true, false, false},
		{"first visible", 0, true, true, true},
		{"visible again 30s later", 30 * time.Second, true, true, false},
		{"hidden after a minute", 31 * time.Second, false, true, false},
		{"visible after a minute", 0, true, true, true},
		{"ten minutes later", 10 * time.Minute, true, true, true},
		{"stopped", 10 * time.Minute, true, false, false},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		visible = st.visible
		w.running = st.run
		before := checks
		if got := w.poke(); got != st.want || checks-before != boolInt(st.want) {
			t.Errorf("%s: poke() = %v with %d checks, want %v", st.name, got, checks-before, st.want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestUpdateWatchTimer runs the real ctx.After chain with a short period:
// it checks on the visible ticks only, and ends once stopped.
func TestUpdateWatchTimer(t *testing.T) {
	ctx, e := mustProbe(t)
	script := []bool{true, false, true, true} // visibility at each tick
	clock := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	var (
		w       updateWatch
		tick    int
		checked []int
	)
	w = updateWatch{
		Every: time.Millisecond, MinGap: time.Minute,
		Now: func() time.Time { return clock },
		Visible: func() bool {
			tick++
			clock = clock.Add(updateEvery) // each tick is a period later
			if tick > len(script) {
				w.stop()
				return false
			}
			return script[tick-1]
		},
		Check: func() { checked = append(checked, tick) },
	}
	w.start(ctx)
	w.start(ctx) // a second start while running adds no second chain
	consumeWithin(t, e, 10*time.Second)
	if diff := cmp.Diff([]int{1, 3, 4}, checked); diff != "" {
		t.Errorf("checked at ticks (-want +got):\n%s", diff)
	}
	if tick != len(script)+1 {
		t.Errorf("%d ticks, want %d: the chain ran on after the stop, or twice", tick, len(script)+1)
	}
}

// TestUpdateWatchStaleTimer checks that a timer left from an earlier start
// (the component was dismounted and mounted again) neither checks nor
// re-arms.
func TestUpdateWatchStaleTimer(t *testing.T) {
	ctx, e := mustProbe(t)
	calls := 0
	w := updateWatch{
		Every: time.Millisecond, MinGap: time.Minute, Now: time.Now,
		Visible: func() bool { calls++; return true },
		Check:   func() {},
	}
	w.start(ctx)
	w.stop()
	stale := w.gen - 1 // the generation of the chain just stopped
	w.running = true   // a new mount runs, with a timer far away
	w.gen++
	w.schedule(ctx, stale)
	consumeWithin(t, e, 10*time.Second)
	if calls != 0 {
		t.Errorf("stale timers called Visible %d times, want 0", calls)
	}
}
