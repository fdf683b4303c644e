package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// ErrNoSession means "not signed in": no cookie, an undecodable cookie (e.g.
// made with a retired key), or an unknown, expired or timed-out session.
var ErrNoSession = errors.New("no valid session")

// sidKey is the only value in the session cookie.
const sidKey = "sid"

// randomToken returns 32 bytes from the CSPRNG, base64url: 256 bits, used for
// session IDs, state and nonce.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error; it crashes the program if the OS has no randomness
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID decodes the session cookie. A missing or undecodable cookie (a
// retired key, tampering) is simply "no session".
func (a *Auth) sessionID(r *http.Request) string {
	s, err := a.sessionStore.New(r, SessionCookieName)
	if err != nil || s.IsNew {
		return ""
	}
	sid, _ := s.Values[sidKey].(string)
	return sid
}

// loadSession finds the request's live session and records the activity.
// Idle and absolute timeouts are checked here, with the injected clock, even
// if the registry would have forgotten the session on its own.
func (a *Auth) loadSession(r *http.Request) (Session, error) {
	sid := a.sessionID(r)
	if sid == "" {
		return Session{}, ErrNoSession
	}
	ctx := r.Context()
	s, err := a.reg.Get(ctx, sid)
	if errors.Is(err, ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, storeError(err)
	}
	now := a.now()
	if now.Sub(s.LastSeen) >= a.cfg.IdleTimeout || now.Sub(s.Created) >= a.cfg.AbsoluteTimeout {
		if err := a.reg.Delete(ctx, sid); err != nil {
			return Session{}, storeError(err)
		}
		return Session{}, ErrNoSession
	}
	s.LastSeen, s.Expires = now, a.expires(s.Created, now)
	if err := a.reg.Touch(ctx, sid, s.LastSeen, s.Expires); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Session{}, ErrNoSession
		}
		return Session{}, storeError(err)
	}
	return s, nil
}

// storeError classifies a Registry failure other than ErrNotFound: the
// store is unavailable. The cause stays in the text for the log.
func storeError(err error) error {
	return fmt.Errorf("session registry: %w: %w", ErrStoreUnavailable, err)
}

func (a *Auth) expires(created, lastSeen time.Time) time.Time {
	idle := lastSeen.Add(a.cfg.IdleTimeout)
	abs := created.Add(a.cfg.AbsoluteTimeout)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// newSession stores a fresh session for op and returns the cookie that names
// it. A new ID every time: an ID planted before login is never adopted.
func (a *Auth) newSession(ctx context.Context, op Operator, rawIDToken string) (*http.Cookie, Session, error) {
	now := a.now()
	s := Session{
		ID:       randomToken(),
		Operator: op,
		IDToken:  rawIDToken,
		Created:  now,
		LastSeen: now,
		Expires:  a.expires(now, now),
	}
	if err := a.reg.Put(ctx, s); err != nil {
		return nil, Session{}, storeError(err)
	}
	value, err := securecookie.EncodeMulti(SessionCookieName, map[any]any{sidKey: s.ID}, a.sessionStore.Codecs...)
	if err != nil {
		return nil, Session{}, fmt.Errorf("encode session cookie: %v", err)
	}
	return sessions.NewCookie(SessionCookieName, value, a.sessionStore.Options), s, nil
}

// MintSession creates a real session for op without a login, and returns its
// cookie. It exists for tests of other packages (the BFF's handlers, e2e
// set-up) that are not about SSO; production code never calls it.
func (a *Auth) MintSession(ctx context.Context, op Operator) (*http.Cookie, error) {
	c, _, err := a.newSession(ctx, op, "")
	return c, err
}

// deleteCookie expires a cookie in the browser, keeping the attributes the
// __Host- prefix demands so the browser accepts the deletion.
func deleteCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

type operatorKey struct{}

// OperatorFrom returns the operator RequireOperator put into the request
// context.
func OperatorFrom(ctx context.Context) (Operator, bool) {
	op, ok := ctx.Value(operatorKey{}).(Operator)
	return op, ok
}

// RequireOperator guards /api/*: without a live session it answers 401 JSON
// with the login URL (never a redirect: fetch() would follow it into the IdP's
// HTML); with one it passes the Operator on in the context.
func (a *Auth) RequireOperator(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.loadSession(r)
		if errors.Is(err, ErrNoSession) {
			if _, cerr := r.Cookie(SessionCookieName); cerr == nil {
				deleteCookie(w, SessionCookieName)
			}
			a.writeError(w, r, ErrNoSession)
			return
		}
		if err != nil {
			// Fail closed and keep the cookie: the session may well be
			// alive once the store is back.
			a.log.ErrorContext(r.Context(), "session lookup", "err", err.Error())
			a.writeError(w, r, ErrStoreUnavailable)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, s.Operator)))
	})
}

// writePlainError is the built-in Config.WriteError: a plain-text status
// line, 401 for ErrNoSession and 503 for ErrStoreUnavailable. The console
// passes the BFF's writer instead, which owns the JSON shape and the
// statuses of every answer.
func writePlainError(w http.ResponseWriter, _ *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNoSession):
		status = http.StatusUnauthorized
	case errors.Is(err, ErrStoreUnavailable):
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}
