package main

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/timconsole/timconsole/server/auth"
)

// Secrets and files: *_file settings, session key pairs, CA bundles.

// loadSecretFiles reads every *_file secret. A secret given both directly
// and as a file is a problem: which one wins would be a guess.
func loadSecretFiles(cfg *Config, p *problems) {
	read := func(what, path string, into *Secret) {
		if path == "" {
			return
		}
		if *into != "" {
			p.add("%s is set both directly and as a file; set one", what)
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			p.add("%s: read %s: %v", what, path, errors.Unwrap(err))
			return
		}
		*into = Secret(strings.TrimSpace(string(b)))
		if *into == "" {
			p.add("%s: %s is empty", what, path)
		}
	}
	read("oidc client secret", cfg.OIDC.ClientSecretFile, &cfg.OIDC.ClientSecret)
	read("session keys", cfg.Session.KeysFile, &cfg.Session.Keys)
	read("redis password", cfg.Redis.PasswordFile, &cfg.Redis.Password)
	for _, id := range sortedIDs(cfg.Apps) {
		read("apps."+id+" key", cfg.Apps[id].KeyFile, &cfg.Apps[id].Key)
	}
}

// loadCAPool reads PEM certificates for verifying a server with a private
// CA.
func loadCAPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", path, errors.Unwrap(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// parseKeyPairs reads "hash:block" base64 pairs, newest first. Errors name
// the pair's position, never its value.
func parseKeyPairs(s string) ([]auth.KeyPair, error) {
	var (
		out  []auth.KeyPair
		errs []string
	)
	for i, item := range splitList(stripComments(s)) {
		h, b, ok := strings.Cut(item, ":")
		if !ok {
			errs = append(errs, fmt.Sprintf("pair %d is not hash:block", i+1))
			continue
		}
		hash, err1 := decodeKey(h)
		block, err2 := decodeKey(b)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Sprintf("pair %d is not base64", i+1))
			continue
		}
		if n := len(hash); n != 32 && n != 64 {
			errs = append(errs, fmt.Sprintf("pair %d: the hash key is %d bytes, want 32 or 64", i+1, n))
		}
		if n := len(block); n != 16 && n != 24 && n != 32 {
			errs = append(errs, fmt.Sprintf("pair %d: the block key is %d bytes, want 16, 24 or 32", i+1, n))
		}
		out = append(out, auth.KeyPair{Hash: hash, Block: block})
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	if len(out) == 0 {
		return nil, errors.New("no key pair given")
	}
	return out, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
