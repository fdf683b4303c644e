//go:build e2e

package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// axeVersion is the axe-core the suite checks accessibility with. It comes
// from the npm registry through npm itself, into the git-ignored out/
// folder, once; a missing axe fails the suite, it never skips the checks.
const axeVersion = "4"

// axeSource is axe.min.js, read by TestMain.
var axeSource string

// loadAxe installs axe-core into out/node_modules unless it is there, and
// returns its source.
func loadAxe() (string, error) {
	out, err := filepath.Abs(filepath.Join("..", "..", "out"))
	if err != nil {
		return "", err
	}
	file := filepath.Join(out, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(file); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return "", fmt.Errorf("axe-core is not in %s and npm is not installed to fetch it: install npm (Debian's npm package), or run `npm install --prefix out axe-core@%s`", file, axeVersion)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", err
		}
		cmd := exec.Command(npm, "install", "--prefix", out, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "axe-core@"+axeVersion)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			return "", fmt.Errorf("npm install axe-core: %v", err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				return "", fmt.Errorf("npm install axe-core@%s: %v", axeVersion, err)
			}
		case <-time.After(3 * time.Minute):
			_ = cmd.Process.Kill()
			return "", fmt.Errorf("npm install axe-core@%s did not finish in 3 minutes", axeVersion)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read axe-core: %v", err)
	}
	if !strings.Contains(string(b), "axe") {
		return "", fmt.Errorf("%s is not axe-core", file)
	}
	return string(b), nil
}

// axeViolation is one rule axe-core found broken on a screen.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkA11y runs axe-core on the screen the browser shows, when it is one
// of the console's own pages (the app, the signed-out page; not the
// identity provider's or a test's). A critical or serious violation fails
// the test; moderate and minor ones are printed.
func (b *browser) checkA11y(screen string) {
	b.t.Helper()
	if !eval[bool](b, `document.querySelector('#console[data-mounted="true"], #signed-out[data-mounted="true"]') !== null`) {
		return
	}
	if !eval[bool](b, `typeof window.axe === 'object'`) {
		if axeSource == "" {
			b.t.Fatal("axe-core was not loaded by TestMain")
		}
		eval[bool](b, "(() => { "+axeSource+"\n; return true; })()")
	}
	vs := eval[[]axeViolation](b, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help,
		nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
	})))`)
	b.t.Logf("axe: %q has %d rule violations", screen, len(vs))
	for _, v := range vs {
		line := fmt.Sprintf("axe %s on %q: %s (%s) at %s", v.Impact, screen, v.ID, v.Help, strings.Join(v.Nodes, ", "))
		switch v.Impact {
		case "critical", "serious":
			b.t.Error(line)
		default:
			b.t.Log(line)
		}
	}
}
