package auth

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/timconsole/timconsole/server/api"
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

// SecurityHeaders sets the console's security headers on every response,
// before the handler runs, so error pages and the wasm shell get them too.
// HSTS is added only on TLS connections (it would pin a plain-HTTP dev setup).
func SecurityHeaders(idpOrigin string) func(http.Handler) http.Handler {
	csp := CSP(idpOrigin)
	return func(h http.Handler) http.Handler {
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
}

// NoStore keeps /auth/* and /api/* answers (identities, receipts, login
// redirects) out of every cache.
func NoStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// CrossOrigin refuses cross-origin unsafe requests (POST, PUT, DELETE, ...)
// with net/http.CrossOriginProtection: SameSite=Lax does not stop a
// same-site sibling origin. There are no trusted origins and no bypass
// patterns; GET, HEAD and OPTIONS pass, which is why no handler may change
// state on them. A refusal is a 403 JSON *api.Error.
func CrossOrigin(h http.Handler) http.Handler {
	c := http.NewCrossOriginProtection()
	c.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, &api.Error{Code: api.ECodeForbidden, Message: "Cross-origin request refused."})
	}))
	return c.Handler(h)
}

// errStore is what WriteError gets when the Registry failed: the BFF finds
// the *api.Error (message, code) and ErrStoreUnavailable (503, Retry-After)
// in it.
var errStore = fmt.Errorf("%w: %w", ErrStoreUnavailable, &api.Error{
	Code:      api.ECodeUnavailable,
	Message:   "The session store is unavailable; try again in a minute.",
	Retryable: true,
})
