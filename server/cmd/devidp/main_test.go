package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunPrintsIssuerAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-redirect-base", "http://127.0.0.1:9"},
			func(k string) string {
				if k == "DEVIDP_CLIENT_SECRET" {
					return "pinned-secret"
				}
				return ""
			}, pw, io.Discard)
		pw.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		lines[k] = v
		if k == "ISSUER" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	issuer := lines["ISSUER"]
	if !strings.HasPrefix(issuer, "http://localhost:") {
		t.Fatalf("ISSUER = %q, want http://localhost:<port>; output %v", issuer, lines)
	}
	if lines["CLIENT_SECRET"] != "pinned-secret" || lines["CLIENT_ID"] != "timconsole" {
		t.Errorf("demo client lines = %v", lines)
	}
	users := 0
	for k := range lines {
		if strings.HasPrefix(k, "USER ") {
			users++
		}
	}
	if users != 3 {
		t.Errorf("printed %d demo users, want 3: %v", users, lines)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(strings.Replace(issuer, "localhost", "127.0.0.1", 1) + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after ctx was cancelled")
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "0.0.0.0:0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("run -addr 0.0.0.0:0 = %v, want a loopback refusal", err)
	}
}

func TestRunWithFixtureFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	os.WriteFile(path, []byte(`{"users":[{"username":"a","password":"p"}],"clients":[{"id":"c","secret":"s","redirect_uris":["http://127.0.0.1:1/cb"]}]}`), 0o600)
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-fixture", path}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	first, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "ISSUER=http://localhost:") {
		t.Errorf("first line = %q, %v; want only ISSUER= (no demo credentials with a fixture)", first, err)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v", err)
	}
	if err := run(t.Context(), []string{"-fixture", filepath.Join(t.TempDir(), "missing.json")}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("run with a missing fixture file succeeded")
	}
}
