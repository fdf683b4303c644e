//go:build e2e

package e2e_test

import (
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// setTheme makes the page see prefers-color-scheme as theme, as an operator
// whose system is set to it would.
func (b *browser) setTheme(theme string) {
	b.t.Helper()
	params := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, params); err != nil {
		b.t.Fatalf("emulate %s theme: %v", theme, err)
	}
}

// TestScreenshots draws the screens ops staff live in, in the light and the
// dark theme, for people to look at (issue 6): the main screen, a 50-seq
// result, the drill-down, and a bucketed 5,000-seq result. It also checks
// that each screen really is what its picture is named for, and that the two
// themes differ.
func TestScreenshots(t *testing.T) {
	s := startStack(t, stackOptions{})
	b := newBrowser(t)
	b.signedInAt(s, s.URL+"/", "alice")

	background := map[string]string{}
	for _, theme := range []string{"light", "dark"} {
		b.setTheme(theme)
		b.navigate(s.URL + "/")
		b.waitMounted()
		b.waitFor("the empty form", `document.querySelector('#operator') !== null && document.querySelector('#results') === null`, 20*time.Second)
		background[theme] = eval[string](b, `getComputedStyle(document.body).backgroundColor`)
		b.screenshot(theme + "-1-main")

		// The big group's first 480 messages predate its receipt switch.
		b.navigate(withPageSize(deepLink(s, bigGroup, "1001-1050"), drillPageSize))
		b.waitMounted()
		b.waitFor("50 bars", `document.querySelectorAll('#chart rect.bar-read').length === 50`, 30*time.Second)
		b.screenshot(theme + "-2-result-50")

		b.click("row-1007")
		b.waitFor("the drill-down members", `document.querySelectorAll('#drilldown li.member').length > 0`, 20*time.Second)
		b.screenshot(theme + "-3-drilldown")

		b.navigate(deepLink(s, bigGroup, "1001-6000"))
		b.waitMounted()
		b.waitFor("the bucketed chart", `document.querySelector('#progress') === null && document.querySelector('.bucket-note') !== null`, 60*time.Second)
		b.screenshot(theme + "-4-result-5000-bucketed")
	}
	if background["light"] == background["dark"] {
		t.Errorf("light and dark themes share the background %s; the dark theme did not apply", background["light"])
	}
	finish(t, b, s, true)
}
