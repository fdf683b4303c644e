package auth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// HandleLogout ends the session (POST /auth/logout): the registry entry is
// deleted first, so the old cookie is worthless even if the browser keeps it,
// then the browser is sent (303) to the provider's end_session_endpoint with
// id_token_hint, client_id and post_logout_redirect_uri. Without an
// end_session_endpoint the logout is local only. With "Accept:
// application/json" the answer is {"redirect": url} for a fetch-based logout.
//
// Only POST is accepted; the console's CrossOriginProtection (applied once,
// by the BFF, in front of every route) keeps pages on other origins from
// logging an operator out.
func (a *Auth) HandleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		var idToken string
		if sid := a.sessionID(r); sid != "" {
			s, err := a.reg.Get(r.Context(), sid)
			if err != nil && !errors.Is(err, ErrNotFound) {
				a.log.ErrorContext(r.Context(), "logout: session lookup", "err", err.Error())
				a.writeError(w, r, ErrStoreUnavailable)
				return
			}
			if err := a.reg.Delete(r.Context(), sid); err != nil {
				a.log.ErrorContext(r.Context(), "logout: delete session", "err", err.Error())
				a.writeError(w, r, ErrStoreUnavailable)
				return
			}
			if err == nil && s.ID != "" {
				idToken = s.IDToken
				a.log.LogAttrs(r.Context(), slog.LevelInfo, "audit",
					slog.String("event", "logout"),
					slog.String("sub", s.Operator.Subject),
					slog.String("email", s.Operator.Email),
				)
				if a.cfg.Hooks.OnLogout != nil {
					a.cfg.Hooks.OnLogout()
				}
			}
		}
		deleteCookie(w, SessionCookieName)
		target := a.logoutTarget(idToken)
		if wantsJSON(r) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(struct {
				Redirect string `json:"redirect"`
			}{target})
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// logoutTarget is where the browser goes after a logout: the provider's
// end_session_endpoint when there is one (it ends the IdP session too), else
// the post-logout URL or the console's root.
func (a *Auth) logoutTarget(idToken string) string {
	local := "/"
	if a.cfg.PostLogoutRedirectURL != "" {
		local = a.cfg.PostLogoutRedirectURL
	}
	if a.endSession == "" {
		return local
	}
	u, err := url.Parse(a.endSession)
	if err != nil {
		return local
	}
	q := u.Query()
	q.Set("client_id", a.cfg.ClientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	if a.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}
