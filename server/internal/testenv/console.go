package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// ConsoleBinary builds the console command once per test process, with the
// release flags of build.sh, and returns its path.
func ConsoleBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		dir, err := os.MkdirTemp("", "timconsole-testenv-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "console")
		// The go command inherits this process's environment (Env nil):
		// build.sh runs everything with GOWORK=off.
		cmd := exec.Command("go", "build", "-trimpath", "-o", buildBin, "./server/cmd/console")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./server/cmd/console: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildBin
}

// Console is one console process, serving on a listener the test made.
type Console struct {
	URL    string
	Stderr SyncBuffer

	tb   testing.TB
	cmd  *exec.Cmd
	done chan error
}

// StartConsole runs the console binary with exactly env as its environment
// (and args), handing it ln as a systemd-style activated socket
// (LISTEN_FDS=1, fd 3), so the test chooses the port before the console
// starts and no other process can take it. It returns once /readyz
// answers 200, and stops the process when the test ends.
func StartConsole(tb testing.TB, ln net.Listener, env map[string]string, args ...string) *Console {
	tb.Helper()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		tb.Fatalf("listener file: %v", err)
	}
	defer f.Close()
	c := &Console{URL: "http://" + ln.Addr().String(), tb: tb, done: make(chan error, 1)}
	c.cmd = exec.Command(ConsoleBinary(tb), args...)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.cmd.Env = append(c.cmd.Env, k+"="+env[k])
	}
	c.cmd.Env = append(c.cmd.Env, "LISTEN_FDS=1")
	c.cmd.ExtraFiles = []*os.File{f}
	c.cmd.Stdout = &c.Stderr
	c.cmd.Stderr = &c.Stderr
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("start the console: %v", err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	tb.Cleanup(c.Stop)
	exited := func() error {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("the console exited at start: %v", err)
		default:
			return nil
		}
	}
	if err := poll(c.URL+"/readyz", 30*time.Second, exited); err != nil {
		tb.Fatalf("%v\n%s", err, c.Stderr.String())
	}
	return c
}

// Stop sends SIGTERM and waits (at most 15 s) for a graceful exit; a
// console that does not exit in time, or exits with an error, fails the test.
func (c *Console) Stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	cmd := c.cmd
	c.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			c.tb.Errorf("the console exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		c.tb.Errorf("the console did not stop within 15s of SIGTERM")
	}
	if c.tb.Failed() {
		c.tb.Logf("console log:\n%s", c.Stderr.String())
	}
}
