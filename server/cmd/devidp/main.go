// Command devidp runs the development OpenID Connect provider on loopback, for
// local development of the console and for the browser tests.
//
// Usage:
//
//	devidp [-addr 127.0.0.1:9998] [-issuer-host localhost] [-fixture users.json]
//	       [-redirect-base http://127.0.0.1:8080] [-id-token-claims=true]
//
// Flags:
//
//	-addr             listen address; loopback only (127.0.0.1, ::1, localhost)
//	-issuer-host      host name in the issuer URL (default localhost, so an app on
//	                  127.0.0.1 is cross-site from the IdP, as in production)
//	-fixture          JSON file {"users": [...], "clients": [...]}; without it the
//	                  demo fixture is used (alice, bob allowed; mallory denied) and
//	                  its generated passwords and client secret are printed
//	-redirect-base    the console's base URL, for the demo client's redirect URIs
//	-id-token-claims  put email, profile and groups into the ID token (false:
//	                  userinfo only, to exercise the console's userinfo fallback)
//
// Environment: DEVIDP_CLIENT_SECRET pins the demo client's secret (otherwise
// random at every start).
//
// Once listening it prints "ISSUER=<url>" on a line of its own; it stops on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/timconsole/timconsole/server/devidp"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet("devidp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9998", "listen address (loopback only)")
	issuerHost := fs.String("issuer-host", "localhost", "host name in the issuer URL")
	fixture := fs.String("fixture", "", "JSON fixture of users and clients (default: the demo fixture)")
	redirectBase := fs.String("redirect-base", "http://127.0.0.1:8080", "console base URL for the demo client's redirect URIs")
	idTokenClaims := fs.Bool("id-token-claims", true, "put email, profile and groups claims into the ID token")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage; asking for help is not a failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := devidp.Config{Addr: *addr, IssuerHost: *issuerHost, IDTokenClaims: *idTokenClaims, Logger: logger}
	var demo map[string]string
	var demoClient devidp.Client
	if *fixture != "" {
		f, err := os.Open(*fixture)
		if err != nil {
			return err
		}
		fx, err := devidp.LoadFixture(f)
		f.Close()
		if err != nil {
			return err
		}
		cfg.Users, cfg.Clients = fx.Users, fx.Clients
	} else {
		users, client, passwords := devidp.DemoFixture(*redirectBase)
		if s := getenv("DEVIDP_CLIENT_SECRET"); s != "" {
			client.Secret = s
		}
		cfg.Users, cfg.Clients = users, []devidp.Client{client}
		demo, demoClient = passwords, client
	}

	srv, err := devidp.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if demo != nil {
		fmt.Fprintf(stdout, "CLIENT_ID=%s\nCLIENT_SECRET=%s\n", demoClient.ID, demoClient.Secret)
		names := make([]string, 0, len(demo))
		for u := range demo {
			names = append(names, u)
		}
		slices.Sort(names)
		for _, u := range names {
			fmt.Fprintf(stdout, "USER %s PASSWORD %s\n", u, demo[u])
		}
	}
	fmt.Fprintf(stdout, "ISSUER=%s\n", srv.Issuer())
	<-ctx.Done()
	return nil
}
