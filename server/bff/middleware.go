package bff

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/timconsole/timconsole/server/api"
)

// routeKey holds the matched ServeMux pattern of a request, so the metrics
// middleware outside the mux can label by route without a label per URL.
type routeKey struct{}

type routeInfo struct{ pattern string }

// capturePattern copies the pattern the mux matched into the request's
// routeInfo. The mux sets Request.Pattern on the request it was given, and
// middleware in between may have cloned it, so the copy happens right here.
func capturePattern(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if ri, ok := r.Context().Value(routeKey{}).(*routeInfo); ok {
			ri.pattern = r.Pattern
		}
	})
}

// instrument counts every request by route pattern and status.
func instrument(m *Metrics, now func() time.Time, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		ri := &routeInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, ri)))
		route := ri.pattern
		if route == "" {
			route = "unmatched" // refused before routing (cross-origin check)
		}
		m.observeHTTP(route, r.Method, rec.code(), now().Sub(start))
	})
}

// statusRecorder remembers the status a handler wrote. Unwrap lets
// http.ResponseController reach Flush and the write deadline underneath.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// limitBody caps every request body; reading past the cap fails with
// *http.MaxBytesError, which writeError turns into 413.
func limitBody(n int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		h.ServeHTTP(w, r)
	})
}

// withDeadline gives a handler a context deadline, and the connection a
// write deadline a little later, so neither a slow upstream nor a slow
// reader can hold a request for ever.
func withDeadline(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		// Not every ResponseWriter supports deadlines (httptest recorders);
		// the context deadline still applies.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + 5*time.Second))
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// pullLimiter bounds each operator's concurrent receipt queries: one
// operator's scripts cannot queue the shared per-app rate budget for
// everyone else.
type pullLimiter struct {
	mu      sync.Mutex
	running map[string]int
	max     int
	m       *Metrics
}

func newPullLimiter(max int, m *Metrics) *pullLimiter {
	return &pullLimiter{running: make(map[string]int), max: max, m: m}
}

// acquire takes a slot for the operator, or reports false when all of
// theirs are in use. release must be called once for each true.
func (p *pullLimiter) acquire(subject string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running[subject] >= p.max {
		return false
	}
	p.running[subject]++
	p.m.pullsInFlight.Inc()
	return true
}

func (p *pullLimiter) release(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running[subject]--; p.running[subject] <= 0 {
		delete(p.running, subject)
	}
	p.m.pullsInFlight.Dec()
}

// clientIP names the client for logs: the peer address, or, when the peer
// is a trusted proxy, the nearest X-Forwarded-For entry that is not one.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed hop: trust nothing beyond the proxy
		}
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// crossOrigin refuses cross-origin unsafe requests (POST, PUT, DELETE, ...)
// with net/http.CrossOriginProtection, once, in front of every route: no
// trusted origins and no bypass patterns. GET, HEAD and OPTIONS pass, which
// is why no handler changes state on them. A refusal is a 403 JSON error and
// one audit record (kind "cross_origin": route, origin, Sec-Fetch-Site and
// client address), because the audit log is where a security team looks;
// /metrics counts it too (route "unmatched": it never reaches the mux).
func crossOrigin(logger *slog.Logger, proxies []netip.Prefix, h http.Handler) http.Handler {
	c := http.NewCrossOriginProtection()
	c.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.LogAttrs(r.Context(), slog.LevelInfo, "audit",
			slog.String("kind", "cross_origin"),
			slog.String("outcome", api.ECodeForbidden),
			slog.String("method", r.Method),
			slog.String("route", cut(r.URL.Path, 200)),
			slog.String("origin", cut(r.Header.Get("Origin"), 200)),
			slog.String("secFetchSite", cut(r.Header.Get("Sec-Fetch-Site"), 40)),
			slog.String("client", clientIP(r, proxies)),
		)
		writeError(w, r, logger, errorf(api.ECodeForbidden, "Cross-origin request refused."))
	}))
	return c.Handler(h)
}
