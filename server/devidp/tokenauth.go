package devidp

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// tokenAuth enforces each client's TokenAuthMethod at the token endpoint,
// before zitadel's op (which accepts either method for any client), the way
// a strict provider does: the wrong method is 401 invalid_client, with an
// error_description whose decisive words come last, as ORY Hydra's do.
type tokenAuth struct {
	st       *storage
	next     http.Handler
	rejected atomic.Int64
}

func (t *tokenAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	basicID, _, basic := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := basicID
	if !basic {
		id = r.PostForm.Get("client_id")
	}
	want := t.st.tokenAuthMethod(id)
	used := "client_secret_post"
	if basic {
		used = "client_secret_basic"
	}
	if want != "" && want != used {
		t.rejected.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"error": "invalid_client",
			"error_description": "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). " +
				"The OAuth 2.0 Client supports client authentication method '" + want + "', but method '" + used + "' was requested. " +
				"You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept '" + used + "'.",
		})
		return
	}
	t.next.ServeHTTP(w, r)
}

// discoveryRewriter replaces token_endpoint_auth_methods_supported in the
// discovery document (Config.TokenAuthMethods): zitadel's op always lists
// client_secret_basic.
type discoveryRewriter struct {
	next    http.Handler
	methods []string
}

func (d discoveryRewriter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveRewritten(w, r, d.next, func(body []byte) ([]byte, bool) {
		var doc map[string]any
		if json.Unmarshal(body, &doc) != nil {
			return nil, false
		}
		doc["token_endpoint_auth_methods_supported"] = d.methods
		out, err := json.Marshal(doc)
		return out, err == nil
	})
}
