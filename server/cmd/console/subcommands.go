package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The subcommands: healthcheck (for container HEALTHCHECKs) and keygen.

// healthcheck GETs /healthz of the console in this container: the port
// comes from TIMCONSOLE_SERVER_ADDR (as the container sets it), the host is
// always loopback.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("console healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", defaultHealthURL(getenv), "`URL` to GET")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if strings.HasPrefix(*target, "https://127.0.0.1") {
		// The certificate names the public host, not loopback; this only
		// checks that the local process answers.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	resp, err := (&http.Client{Transport: tr, Timeout: *timeout}).Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *target, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

func defaultHealthURL(getenv func(string) string) string {
	addr := getenv(EnvPrefix + "_SERVER_ADDR")
	if addr == "" {
		addr = DefaultConfig().Server.Addr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		port = "8080"
	}
	scheme := "http"
	if getenv(EnvPrefix+"_SERVER_TLS_CERT_FILE") != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort("127.0.0.1", port) + "/healthz"
}

// keygen prints a fresh session key pair (64-byte hash key, 32-byte AES
// block key) in the TIMCONSOLE_SESSION_KEYS format.
func keygen(stdout io.Writer) error {
	hash, block := make([]byte, 64), make([]byte, 32)
	rand.Read(hash)
	rand.Read(block)
	_, err := fmt.Fprintf(stdout, "%s:%s\n", base64.StdEncoding.EncodeToString(hash), base64.StdEncoding.EncodeToString(block))
	return err
}
