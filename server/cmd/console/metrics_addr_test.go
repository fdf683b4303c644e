package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsAddr: with server.metrics_addr set, /metrics is served on that
// listener only: the console's own listener answers 404 for it, and the
// metrics listener serves nothing else.
func TestMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the replica listens there itself
	f := startFleet(t, fleetOptions{replicas: 1, rate: 200, env: env{"TIMCONSOLE_SERVER_METRICS_ADDR": addr}})
	base := f.Replicas[0].URL

	if status, _ := getBody(t, base+"/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the console's listener: %d, want 404", status)
	}
	status, body := getBody(t, "http://"+addr+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, "timconsole_http_requests_total") {
		t.Errorf("GET /metrics on metrics_addr: %d, want 200 with the console's metrics", status)
	}
	for _, path := range []string{"/", "/healthz", "/api/me"} {
		if status, _ := getBody(t, "http://"+addr+path); status != http.StatusNotFound {
			t.Errorf("GET %s on metrics_addr: %d, want 404", path, status)
		}
	}
}
