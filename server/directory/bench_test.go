package directory_test

import (
	"math"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/internal/testenv"
	"github.com/timconsole/timconsole/server/tim"
	"github.com/timconsole/timconsole/server/timemu"
)

// BenchmarkBuild100k builds the index of an app with 100,000 groups against
// the emulator enforcing Tencent's documented rates (get_appid_group_list 1
// call/s with 10,000 IDs a page, get_group_info 200 calls/s with 50 groups
// a call), through the client's default pacing, and reports the time
// against the ideal those two limits set: the slower of 9 s of list pages
// (the first is immediate) and 2,000 profile calls at 200/s. Goal ≤ 1.10.
func BenchmarkBuild100k(b *testing.B) {
	const groups = 100000
	e := testenv.StartEmulator(b, timemu.Config{})
	e.AddApp(app, key, admin)
	if err := e.Load(timemu.Generate(timemu.GenerateOptions{Seed: 1, SDKAppID: app, Messages: 10, ExtraGroups: groups - 8})); err != nil {
		b.Fatal(err)
	}
	c, err := tim.New(tim.Config{SDKAppID: app, Key: key, Identifier: admin, BaseURL: e.URL})
	if err != nil {
		b.Fatal(err)
	}
	pages := math.Ceil(groups / float64(tim.MaxGroupListPage))
	infoCalls := math.Ceil(groups / float64(tim.MaxGroupInfoIDs))
	ideal := time.Duration(math.Max(pages-1, infoCalls/200) * float64(time.Second))
	var took time.Duration
	for b.Loop() {
		done := make(chan time.Duration, 1)
		x := directory.New(c, directory.Config{Refresh: -1, OnBuild: func(n int, d time.Duration, err error) {
			if err != nil || n != groups {
				b.Errorf("build: %d groups, %v", n, err)
			}
			done <- d
		}})
		x.Refresh()
		select {
		case took = <-done:
		case <-time.After(2 * time.Minute):
			b.Fatal("the build did not finish in 2 minutes")
		}
		x.Close()
	}
	ratio := float64(took) / float64(ideal)
	b.ReportMetric(ratio, "ratio_to_ideal")
	b.ReportMetric(float64(e.PeakPerSecond(app)), "peak_calls_per_s")
	b.Logf("first index build of %d groups: %v against the ideal %v: ratio %.3f (goal <= 1.10); %d list and %d info calls",
		groups, took.Round(time.Millisecond), ideal, ratio, e.Calls(timemu.CmdGetGroupList), e.Calls(timemu.CmdGetGroupInfo))
}
