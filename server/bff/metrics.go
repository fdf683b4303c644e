package bff

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/timconsole/timconsole/server/tim"
)

// Metrics holds the console's Prometheus collectors on their own registry,
// so tests can build as many servers as they like without "duplicate
// registration" panics and nothing leaks in from package globals.
type Metrics struct {
	reg              *prometheus.Registry
	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
	upstreamCalls    *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	limiterWait      *prometheus.HistogramVec
	activeSessions   prometheus.Gauge
	logins           *prometheus.CounterVec
	pullsInFlight    prometheus.Gauge
	limiterDegraded  *prometheus.GaugeVec
	sessionStoreUp   prometheus.Gauge
}

// NewMetrics registers the console's metrics plus the Go runtime and process
// collectors on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "timconsole_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "timconsole_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"route"}),
		upstreamCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "timconsole_upstream_calls_total",
			Help: "Tencent Chat REST calls, by app, command and Tencent ErrorCode (-1: network or HTTP failure).",
		}, []string{"app", "command", "code"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "timconsole_upstream_call_duration_seconds",
			Help:    "Latency of one Tencent Chat REST call (one attempt), by app and command.",
			Buckets: prometheus.DefBuckets,
		}, []string{"app", "command"}),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "timconsole_limiter_wait_seconds",
			Help:    "Time a call waited for the per-app rate limiter.",
			Buckets: []float64{.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"app"}),
		activeSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "timconsole_active_sessions",
			Help: "Operator sessions alive at the last scrape.",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "timconsole_logins_total",
			Help: "Login attempts, by outcome.",
		}, []string{"outcome"}),
		pullsInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "timconsole_pulls_in_flight",
			Help: "Receipt queries running now, over all operators.",
		}),
		limiterDegraded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "timconsole_limiter_degraded",
			Help: "1 while the app's fleet-wide rate limiter cannot reach its shared store and paces this replica at its local share (rate ÷ replicas), else 0. Only apps with a shared limiter have a series.",
		}, []string{"app"}),
		sessionStoreUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "timconsole_session_store_up",
			Help: "1 if the session store answered at the last scrape or readiness probe, 0 if not (sessions then fail closed with 503). Always 1 for the in-process store.",
		}),
	}
	m.sessionStoreUp.Set(1)
	m.reg.MustRegister(
		m.httpRequests, m.httpDuration, m.upstreamCalls, m.upstreamDuration,
		m.limiterWait, m.activeSessions, m.logins, m.pullsInFlight,
		m.limiterDegraded, m.sessionStoreUp,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// SetLimiterDegraded records whether app's shared rate limiter is pacing at
// its local share; the wiring calls it on every switch and probe.
func (m *Metrics) SetLimiterDegraded(appID string, degraded bool) {
	m.limiterDegraded.WithLabelValues(appID).Set(boolGauge(degraded))
}

// SetSessionStoreUp records whether the session store answered.
func (m *Metrics) SetSessionStoreUp(up bool) { m.sessionStoreUp.Set(boolGauge(up)) }

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Registry exposes the registry so tests and wiring can gather or add to it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// TimHooks returns the tim client hooks that feed the upstream metrics of
// one app.
func (m *Metrics) TimHooks(appID string) tim.Hooks {
	return tim.Hooks{
		OnCall: func(command string, code int, d time.Duration) {
			m.upstreamCalls.WithLabelValues(appID, command, strconv.Itoa(code)).Inc()
			m.upstreamDuration.WithLabelValues(appID, command).Observe(d.Seconds())
		},
		OnLimiterWait: func(d time.Duration) {
			m.limiterWait.WithLabelValues(appID).Observe(d.Seconds())
		},
	}
}

// OnLogin counts a login outcome; it is auth.Hooks.OnLogin.
func (m *Metrics) OnLogin(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

func (m *Metrics) observeHTTP(route, method string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// handleMetrics serves /metrics. At scrape time it runs the readiness
// checks (which feed their own gauges) and reads the session count; a count
// the store cannot give (-1) leaves the gauge as it was rather than export
// a nonsense value, and timconsole_session_store_up says why.
func handleMetrics(m *Metrics, sessions func(ctx context.Context) int, checks []ReadyCheck) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		runChecks(ctx, checks, map[string]any{})
		if sessions != nil {
			if n := sessions(ctx); n >= 0 {
				m.activeSessions.Set(float64(n))
			}
		}
		h.ServeHTTP(w, r)
	})
}
