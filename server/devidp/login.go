package devidp

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// login serves the provider's own sign-in form. Field names (username,
// password, a submit button) are what the plain-HTTP and browser tests fill in.
type login struct {
	storage  *storage
	callback func(ctx context.Context, requestID string) string
	log      *slog.Logger
	// formAction is the page's CSP form-action directive; see formAction.
	formAction string
}

// formAction lists where the login form may lead. Browsers apply
// form-action to every redirect that follows a submission, so besides this
// provider it must allow the origins of the clients' redirect URIs, or
// Chromium blocks the final hop back to the application.
func formAction(clients []Client) string {
	srcs := []string{"'self'"}
	for _, c := range clients {
		for _, r := range c.RedirectURIs {
			u, err := url.Parse(r)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				continue
			}
			if o := u.Scheme + "://" + u.Host; !strings.Contains(" "+strings.Join(srcs, " ")+" ", " "+o+" ") {
				srcs = append(srcs, o)
			}
		}
	}
	slices.Sort(srcs[1:])
	return "form-action " + strings.Join(srcs, " ")
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · timconsole dev IdP</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>Sign in</h1>
<p>Development identity provider. Not for production use.</p>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form method="POST" action="/login/username">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<p><label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus value="{{.Username}}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button id="submit" type="submit">Login</button></p>
</form>
</main>
</body>
</html>
`))

type loginData struct{ ID, Username, Error string }

func (l *login) render(w http.ResponseWriter, status int, d loginData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; "+l.formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	loginPage.Execute(w, d)
}

// form shows the login form for a pending auth request.
func (l *login) form(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if !l.storage.requestExists(id) {
		http.Error(w, "unknown or expired login request; start again from the application", http.StatusBadRequest)
		return
	}
	l.render(w, http.StatusOK, loginData{ID: id})
}

// submit checks the password and, on success, hands the auth request back to
// the op package, which redirects to the client with a code.
func (l *login) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("authRequestID")
	username := r.PostForm.Get("username")
	if !l.storage.requestExists(id) {
		http.Error(w, "unknown or expired login request; start again from the application", http.StatusBadRequest)
		return
	}
	u, ok := l.storage.checkPassword(username, r.PostForm.Get("password"))
	if !ok {
		l.log.Info("devidp login failed", "username", username)
		l.render(w, http.StatusOK, loginData{ID: id, Username: username, Error: "username or password wrong"})
		return
	}
	if err := l.storage.completeLogin(id, u); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l.log.Info("devidp login", "username", username, "sub", u.ID)
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

// clientList returns the registered clients, for the login page's CSP.
func (s *storage) clientList() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, *c)
	}
	return out
}
