package bff

import (
	"net/http"
	"net/url"
	"strings"
)

// CSP returns the Content-Security-Policy for the console. script-src needs
// 'wasm-unsafe-eval' for the Go WebAssembly UI; form-action lists the IdP's
// origin because the logout form's redirect to end_session is governed by it.
func CSP(idpOrigin string) string {
	formAction := "'self'"
	if o := originOf(idpOrigin); o != "" {
		formAction += " " + o
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' 'wasm-unsafe-eval'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"worker-src 'self'",
		"manifest-src 'self'",
		"base-uri 'none'",
		"object-src 'none'",
		"frame-ancestors 'none'",
		"form-action " + formAction,
	}, "; ")
}

// originOf reduces a URL to "scheme://host[:port]", or "" when it is not an
// http(s) URL or its host holds anything that could break out of the CSP.
func originOf(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	for _, r := range u.Host {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)
		if !ok {
			return "" // keeps CSP syntax out of the header
		}
	}
	return u.Scheme + "://" + u.Host
}

// securityHeaders sets the console's security headers on every response,
// before the handler runs, so error pages and the wasm shell get them too.
// HSTS is added only on TLS connections (it would pin a plain-HTTP dev setup).
func securityHeaders(idpOrigin string, h http.Handler) http.Handler {
	csp := CSP(idpOrigin)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		hd.Set("X-Frame-Options", "DENY")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		h.ServeHTTP(w, r)
	})
}

// NoStore keeps /auth/* and /api/* answers (identities, receipts, login
// redirects) out of every cache.
func NoStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// Edge wraps h in what every answer of the console gets, once: the
// security headers (CSP with d.IdPOrigin in form-action) and
// cross-origin protection, whose refusals are audited through d.Logger.
// NewServer applies it; a test that mounts auth's handlers by hand
// applies it to be served the way the console serves them.
func Edge(d Deps, h http.Handler) http.Handler {
	if d.Logger == nil {
		d.Logger = discardLogger
	}
	return securityHeaders(d.IdPOrigin, crossOrigin(d.Logger, d.TrustedProxies, h))
}
