// Package redisstoretest starts real redis-server processes for tests of
// redisstore and of the packages wired to it (the console, end-to-end runs),
// and lets them kill, restart and freeze the server to exercise outages.
// There is deliberately no fake: the behaviour under test is Redis's own.
package redisstoretest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ReadyTimeout bounds every wait for redis-server to accept connections.
const ReadyTimeout = 15 * time.Second

// Server is a real redis-server on 127.0.0.1, in its own temp dir, with
// persistence off, stopped when the test ends.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// Start starts redis-server on a free loopback port and waits until it
// accepts connections. It fails the test, never skips it, when redis-server
// is missing: CI installs the Debian package redis-server.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, nil)
}

// StartWith is Start with extra arguments computed from the chosen port;
// later arguments override earlier ones, so TLS is
// "--port 0 --tls-port <port> ...".
func StartWith(tb testing.TB, extra func(port int) []string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found (install the Debian package redis-server): %v", err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), port: freePort(tb)}
	s.args = []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}
	if extra != nil {
		s.args = append(s.args, extra(s.port)...)
	}
	tb.Cleanup(s.Kill)
	s.Restart()
	return s
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Restart starts the server again on the same port after Kill (Start calls
// it for the first start) and waits until its log says it accepts
// connections. The data is gone, as after a crash without persistence.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.tb.Fatal("redis-server already running")
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() // ends when the process does; Kill runs at Cleanup
	s.cmd, s.exited = cmd, exited
	s.starts++

	deadline := time.Now().Add(ReadyTimeout)
	logPath := filepath.Join(s.dir, "redis.log")
	for {
		b, _ := os.ReadFile(logPath)
		if bytes.Count(b, []byte("Ready to accept connections")) >= s.starts {
			return
		}
		select {
		case <-exited:
			s.cmd = nil
			s.tb.Fatalf("redis-server exited at start:\n%s", b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("redis-server not ready after %v:\n%s", ReadyTimeout, b)
		}
	}
}

// Kill ends the server with SIGKILL, as a crash or an OOM kill would, and
// waits for it to exit. Killing a stopped server is a no-op.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(ReadyTimeout):
		s.tb.Errorf("redis-server pid %d did not exit after SIGKILL", s.cmd.Process.Pid)
	}
	s.cmd = nil
}

// Freeze stops the process (SIGSTOP): connections are accepted but nothing
// answers, like a stalled server or a black-holed network. Thaw resumes it.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.tb.Fatal("redis-server not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.tb.Fatalf("signal redis-server: %v", err)
	}
}
