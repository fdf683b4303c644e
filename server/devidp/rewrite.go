package devidp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// audienceRewriter implements Client.IDTokenAudience: it replaces aud in the
// token endpoint's ID token and signs it again with the provider's key, so a
// relying party's audience check can be tested in a full login. zitadel's op
// always adds the client ID to aud, hence the rewrite after the fact.
type audienceRewriter struct {
	st   *storage
	next http.Handler
}

func (a audienceRewriter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveRewritten(w, r, a.next, a.rewrite)
}

// serveRewritten runs next into a recorder and sends its answer with the body
// of a 200 replaced by rewrite's, when rewrite reports one.
func serveRewritten(w http.ResponseWriter, r *http.Request, next http.Handler, rewrite func([]byte) ([]byte, bool)) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		if out, ok := rewrite(body); ok {
			body = out
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	w.Write(body)
}

func (a audienceRewriter) rewrite(body []byte) ([]byte, bool) {
	var resp map[string]any
	if json.Unmarshal(body, &resp) != nil {
		return nil, false
	}
	raw, _ := resp["id_token"].(string)
	if raw == "" {
		return nil, false
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, false
	}
	payload, err := jws.Verify(&a.st.key.key.PublicKey)
	if err != nil {
		return nil, false
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil, false
	}
	azp, _ := claims["azp"].(string)
	a.st.mu.Lock()
	c := a.st.clients[azp]
	a.st.mu.Unlock()
	if c == nil || len(c.IDTokenAudience) == 0 {
		return nil, false
	}
	claims["aud"] = c.IDTokenAudience
	delete(claims, "azp")
	payload, err = json.Marshal(claims)
	if err != nil {
		return nil, false
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: a.st.key.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", a.st.key.id))
	if err != nil {
		return nil, false
	}
	signed, err := signer.Sign(payload)
	if err != nil {
		return nil, false
	}
	compact, err := signed.CompactSerialize()
	if err != nil {
		return nil, false
	}
	resp["id_token"] = compact
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(resp) != nil {
		return nil, false
	}
	return []byte(strings.TrimSuffix(buf.String(), "\n")), true
}
