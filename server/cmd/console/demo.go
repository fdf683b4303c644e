package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/timconsole/timconsole/server/devidp"
	"github.com/timconsole/timconsole/server/timemu"
)

// Demo app identity. The SDKAppID only has to be a plausible 32-bit value:
// the emulator knows it, Tencent never sees it.
const (
	DemoAppID      = "demo"
	DemoAppName    = "Demo app (emulator)"
	DemoSDKAppID   = 1400000001
	DemoIdentifier = "administrator"
	demoSeed       = 20240917
)

// runDemo starts the Tencent emulator (seeded with the generated data set)
// and the development identity provider in-process on loopback, configures
// the console for them with random secrets, prints how to sign in, and
// serves until ctx ends.
func runDemo(ctx context.Context, addr, webDir string, printOnly bool, o *options, stdout, stderr io.Writer) error {
	ln := o.listener
	if ln == nil {
		if err := checkLoopback(addr); err != nil {
			return err
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("demo: listen: %w", err)
		}
	} else if err := checkLoopback(ln.Addr().String()); err != nil {
		return err
	}
	consoleURL := "http://" + ln.Addr().String()
	logger := newLogger(stderr, LogConfig{Format: "text", Level: "info"})

	// The emulator, on its own loopback server.
	key := rand.Text()
	emu := timemu.New(timemu.Config{Logger: logger.With(slog.String("component", "timemu"))})
	emu.AddApp(DemoSDKAppID, key, DemoIdentifier)
	if err := emu.Load(timemu.Generate(timemu.GenerateOptions{Seed: demoSeed, SDKAppID: DemoSDKAppID, Now: time.Now().Unix()})); err != nil {
		ln.Close()
		return fmt.Errorf("demo: load data set: %v", err)
	}
	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: emulator listen: %w", err)
	}
	emuSrv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	emuDone := make(chan struct{})
	go func() {
		defer close(emuDone)
		if err := emuSrv.Serve(emuLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("emulator stopped", slog.String("err", err.Error()))
		}
	}()
	defer func() {
		emu.Close()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = emuSrv.Shutdown(sctx)
		<-emuDone
	}()

	// The identity provider, on "localhost" so it is cross-site to the
	// console on 127.0.0.1, as a real IdP is.
	users, client, passwords := devidp.DemoFixture(consoleURL)
	idp, err := devidp.Start(ctx, devidp.Config{
		Addr:          "127.0.0.1:0",
		IssuerHost:    "localhost",
		Users:         users,
		Clients:       []devidp.Client{client},
		IDTokenClaims: true,
		Logger:        logger.With(slog.String("component", "devidp")),
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: identity provider: %w", err)
	}
	defer idp.Close()

	cfg := demoConfig(consoleURL, "http://"+emuLn.Addr().String(), idp.Issuer(), client.ID, client.Secret, key, webDir)
	var p problems
	applyDefaults(&cfg)
	validate(cfg, &p)
	if len(p) > 0 {
		ln.Close()
		return &ConfigError{Problems: p}
	}
	if printOnly {
		ln.Close()
		return printConfig(stdout, cfg)
	}
	printBanner(stdout, consoleURL, idp.Issuer(), users, passwords)
	so := *o
	so.listener = ln // the console URL the IdP knows is this listener's
	return serve(ctx, cfg, true, &so, stderr)
}

// demoConfig is the demo's configuration: one app on the emulator, the
// development IdP, random session keys, the demo groups allowed.
func demoConfig(consoleURL, emulatorURL, issuer, clientID, clientSecret, key, webDir string) Config {
	cfg := DefaultConfig()
	cfg.Server.Addr = strings.TrimPrefix(consoleURL, "http://")
	cfg.Server.WebDir = webDir
	cfg.Server.ShutdownTimeout = dur(5 * time.Second)
	cfg.Log = LogConfig{Format: "text", Level: "info"}
	cfg.OIDC.Issuer = issuer
	cfg.OIDC.ClientID = clientID
	cfg.OIDC.ClientSecret = Secret(clientSecret)
	cfg.OIDC.RedirectURL = consoleURL + "/auth/callback"
	cfg.OIDC.PostLogoutRedirectURL = consoleURL + "/signed-out"
	cfg.OIDC.Scopes = []string{"openid", "email", "profile", "groups"}
	cfg.OIDC.StartupTimeout = dur(10 * time.Second)
	hash, block := make([]byte, 64), make([]byte, 32)
	rand.Read(hash)
	rand.Read(block)
	cfg.Session.Keys = Secret(base64.StdEncoding.EncodeToString(hash) + ":" + base64.StdEncoding.EncodeToString(block))
	cfg.Access.Groups = slices.Clone(devidp.DemoAllowedGroups)
	cfg.Apps = map[string]*AppConfig{
		DemoAppID: {
			Name:       DemoAppName,
			SDKAppID:   DemoSDKAppID,
			BaseURL:    emulatorURL,
			Identifier: DemoIdentifier,
			Key:        Secret(key),
			// The demo's messages are made up: show their previews.
			MessagePreview: "text",
		},
	}
	return cfg
}

// printBanner tells the person at the terminal where to go and how to sign in.
func printBanner(w io.Writer, consoleURL, issuer string, users []devidp.User, passwords map[string]string) {
	fmt.Fprintf(w, "\ntimconsole DEMO: Tencent Chat emulator and development SSO, loopback only.\n\n")
	fmt.Fprintf(w, "  Console:            %s/\n", consoleURL)
	fmt.Fprintf(w, "  Identity provider:  %s\n\n", issuer)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  user\tpassword\tgroups\taccess")
	for _, u := range users {
		access := "allowed"
		if !slices.ContainsFunc(u.Groups, func(g string) bool { return slices.Contains(devidp.DemoAllowedGroups, g) }) {
			access = "DENIED (not in " + strings.Join(devidp.DemoAllowedGroups, " or ") + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Username, passwords[u.Username], strings.Join(u.Groups, ","), access)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n  App %q (%s). Groups to try:\n", DemoAppID, DemoAppName)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, g := range timemu.DemoGroups(0) {
		fmt.Fprintf(tw, "    %s\t%s\t%d members\tseqs 1-%d\n", g.ID, g.Name, g.Members, g.Messages)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n  Passwords and keys are new at every start. Stop with Ctrl-C.\n\n")
}

// checkLoopback refuses any address that is not loopback: the demo's
// secrets are printed on the terminal and its users are fixtures.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demo: address %q: want host:port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return nil
	}
	return fmt.Errorf("demo mode listens on loopback only (127.0.0.1 or localhost), not %q", addr)
}
