package redisstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timconsole/timconsole/server/redisstore"
)

func TestNew_Invalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  redisstore.Config
		want []string
	}{
		{"NoAddr", redisstore.Config{}, []string{"Addr is required"}},
		{"BadAddr", redisstore.Config{Addr: "redis"}, []string{"host:port"}},
		{"Everything", redisstore.Config{Addr: "x", DB: -1, ReadTimeout: -1, Replicas: -2, KeyPrefix: "a b*"},
			[]string{"host:port", "DB", "Timeout", "Replicas", "KeyPrefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := redisstore.New(tt.cfg)
			if err == nil {
				t.Fatalf("New(%+v) = nil error", tt.cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(%+v) = %q, want it to mention %q", tt.cfg, err, w)
				}
			}
		})
	}
}

func TestPing(t *testing.T) {
	srv := mustStartRedis(t)
	s := mustNew(t, storeConfig(srv))
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	srv.Kill()
	if err := s.Ping(ctx); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Ping with Redis down = %v, want ErrUnavailable", err)
	}
	srv.Start()
	waitFor(t, "Ping to succeed after restart", readyTimeout, func() bool { return s.Ping(ctx) == nil })
}

// TestPassword: a wrong password is an outage (fail closed), and neither
// password appears in the error.
func TestPassword(t *testing.T) {
	const password = "s3cret-redis-pass"
	srv := mustStartRedisWith(t, func(int) []string { return []string{"--requirepass", password} })
	ctx := context.Background()

	cfg := storeConfig(srv)
	cfg.Password = password
	if err := mustNew(t, cfg).Ping(ctx); err != nil {
		t.Errorf("Ping with the password = %v", err)
	}

	cfg.Password = "wrong-password-value"
	err := mustNew(t, cfg).Registry().Put(ctx, testSession(randomID(t), time.Now(), time.Hour))
	if !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Put with a wrong password = %v, want ErrUnavailable", err)
	}
	if err != nil && (strings.Contains(err.Error(), password) || strings.Contains(err.Error(), cfg.Password)) {
		t.Errorf("error %q contains a password", err)
	}
}

// TestTLS runs the registry over TLS against a server with a private CA,
// and checks that the server name is verified.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pool := writeTestCert(t, dir)
	srv := mustStartRedisWith(t, func(port int) []string {
		return []string{
			"--port", "0",
			"--tls-port", strconv.Itoa(port),
			"--tls-cert-file", filepath.Join(dir, "cert.pem"),
			"--tls-key-file", filepath.Join(dir, "key.pem"),
			"--tls-ca-cert-file", filepath.Join(dir, "cert.pem"),
			"--tls-auth-clients", "no",
		}
	})
	ctx := context.Background()

	cfg := storeConfig(srv)
	cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	cfg.TLSServerName = "redis.test"
	reg := mustNew(t, cfg).Registry()
	id := randomID(t)
	if err := reg.Put(ctx, testSession(id, time.Now(), time.Hour)); err != nil {
		t.Fatalf("Put over TLS = %v", err)
	}
	if _, err := reg.Get(ctx, id); err != nil {
		t.Errorf("Get over TLS = %v", err)
	}

	cfg.TLSServerName = "other.test"
	if err := mustNew(t, cfg).Ping(ctx); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Ping with the wrong server name = %v, want ErrUnavailable", err)
	}

	plain := storeConfig(srv)
	if err := mustNew(t, plain).Ping(ctx); err == nil {
		t.Error("Ping without TLS to a TLS-only server succeeded")
	}
}

// writeTestCert writes a self-signed certificate for redis.test and
// 127.0.0.1 to dir and returns a pool trusting it.
func writeTestCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redis.test"},
		DNSNames:              []string{"redis.test"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}
