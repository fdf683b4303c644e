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
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/timconsole/timconsole/app/ui"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/tim"
)

// option adjusts run for its tests: they run the whole program in-process.
type option func(*options)

type options struct {
	observe       func(kind, value string)
	listener      net.Listener
	ready         func(url string)
	metricsReady  func(url string)
	globalLogging bool
}

// withMetricsReady calls fn with the metrics listener's base URL once it
// accepts requests (only when server.metrics_addr is set).
func withMetricsReady(fn func(url string)) option {
	return func(o *options) { o.metricsReady = fn }
}

// withSecretObserver calls fn with every secret the console holds or mints:
// kinds "app_key", "usersig", "oidc_client_secret", "session_hash_key",
// "session_block_key" (session keys as standard base64) and
// "redis_password". It exists so this command's tests can scan what a
// browser received for them; fn must never log them. The UserSigs are seen
// by wrapping each app's HTTP client (observingClient), not by a hook in
// the Tencent client.
func withSecretObserver(fn func(kind, value string)) option {
	return func(o *options) { o.observe = fn }
}

// withListener makes the console serve on ln instead of listening on the
// configured address, so a test can pick 127.0.0.1:0 and know the port. In
// demo mode the listener must be on loopback.
func withListener(ln net.Listener) option {
	return func(o *options) { o.listener = ln }
}

// withGlobalLogging lets the console install its logger where a library
// keeps one per process (go-redis, whose dial failures would otherwise go to
// stderr as plain text). Only the command passes it: in a process that runs
// several consoles (tests) they would overwrite each other's.
func withGlobalLogging() option {
	return func(o *options) { o.globalLogging = true }
}

// withReady calls fn with the console's base URL once it accepts requests.
func withReady(fn func(url string)) option {
	return func(o *options) { o.ready = fn }
}

func (o *options) secret(kind, value string) {
	if o.observe != nil && value != "" {
		o.observe(kind, value)
	}
}

const usageText = `Usage:
  console [flags]              run the console
  console --demo               run a self-contained demo on loopback
  console healthcheck [--url URL]
                               GET /healthz and exit non-zero unless it answers 200
                               (for container HEALTHCHECKs: the image has no shell or curl)
  console keygen               print a fresh session key pair for TIMCONSOLE_SESSION_KEYS

Configuration comes from the --config TOML file, then TIMCONSOLE_* environment
variables (every setting: TIMCONSOLE_<SECTION>_<KEY>, apps as
TIMCONSOLE_APPS_<ID>_<KEY>), then flags. Secrets are accepted only from the
environment or from *_file settings: TIMCONSOLE_OIDC_CLIENT_SECRET,
TIMCONSOLE_SESSION_KEYS, TIMCONSOLE_APPS_<ID>_KEY, TIMCONSOLE_REDIS_PASSWORD.

Flags:
`

// run is the console's main: args are the command-line arguments without
// the program name, getenv reads the environment, stdout gets the demo
// banner and --print-config, stderr the logs. It returns when ctx ends
// (after a graceful shutdown) or on a start-up error; a *ConfigError lists
// every configuration problem.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts ...option) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, args[1:], getenv, stdout, stderr)
		case "keygen":
			return keygen(stdout)
		}
	}

	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "TOML configuration `file` (see timconsole.example.toml)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` host:port (overrides server.addr and TIMCONSOLE_SERVER_ADDR)")
	webDir := fs.String("web", "web", "`dir`ectory with app.wasm, wasm_exec.js and the CSS (overrides server.web_dir)")
	demo := fs.Bool("demo", false, "run the demo: Tencent emulator and development SSO in-process, loopback only")
	printCfg := fs.Bool("print-config", false, "print the effective configuration with secrets redacted, then exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.listener == nil {
		ln, err := activatedListener(getenv)
		if err != nil {
			return err
		}
		o.listener = ln
	}

	if *demo {
		if *configPath != "" {
			return errors.New("--demo builds its own configuration; drop --config")
		}
		return runDemo(ctx, *addr, *webDir, *printCfg, &o, stdout, stderr)
	}

	cfg, err := LoadConfig(*configPath, getenv, func(c *Config) {
		if set["addr"] {
			c.Server.Addr = *addr
		}
		if set["web"] {
			c.Server.WebDir = *webDir
		}
	})
	if *printCfg {
		if perr := printConfig(stdout, cfg); perr != nil {
			return perr
		}
		return err
	}
	if err != nil {
		return err
	}
	return serve(ctx, cfg, false, &o, stderr)
}

// LoadConfig builds the configuration: defaults, then the file (if path is
// not empty), then the environment, then flags (the override function), and
// validates the result. The error is a *ConfigError with every problem; the
// returned Config is usable for --print-config even then.
func LoadConfig(path string, getenv func(string) string, override func(*Config)) (Config, error) {
	cfg := DefaultConfig()
	var p problems
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			p.add("config file: %v", err)
		} else {
			decodeFile(f, path, &cfg, &p)
			f.Close()
		}
	}
	applyEnv(getenv, &cfg, &p)
	if override != nil {
		override(&cfg)
	}
	loadSecretFiles(&cfg, &p)
	validate(&cfg, &p)
	if len(p) > 0 {
		return cfg, &ConfigError{Problems: p}
	}
	return cfg, nil
}

// serve builds everything from a valid configuration and serves until ctx
// ends.
func serve(ctx context.Context, cfg Config, demo bool, o *options, stderr io.Writer) error {
	logger := newLogger(stderr, cfg.Log)
	metrics := bff.NewMetrics()

	o.secret("oidc_client_secret", string(cfg.OIDC.ClientSecret))
	keys, err := parseKeyPairs(string(cfg.Session.Keys))
	if err != nil {
		return fmt.Errorf("session keys: %v", err)
	}
	for _, k := range keys {
		o.secret("session_hash_key", base64.StdEncoding.EncodeToString(k.Hash))
		o.secret("session_block_key", base64.StdEncoding.EncodeToString(k.Block))
	}

	// Several replicas share sessions and each app's call budget through
	// Redis; without it, sessions are in-process and each app is paced by
	// its tim client alone.
	var (
		store    *redisstore.Store
		registry auth.Registry // nil: in-memory
	)
	if cfg.Redis.Addr != "" {
		if store, err = openRedis(ctx, cfg.Redis, logger, metrics, o); err != nil {
			return fmt.Errorf("redis: %v", err)
		}
		defer store.Close() // after the server has shut down
		registry = store.Registry()
	}

	apps, limiters, err := buildApps(cfg, metrics, o, store)
	if err != nil {
		return err
	}

	a, err := auth.New(ctx, auth.Config{
		Issuer:                cfg.OIDC.Issuer,
		ClientID:              cfg.OIDC.ClientID,
		ClientSecret:          string(cfg.OIDC.ClientSecret),
		RedirectURL:           cfg.OIDC.RedirectURL,
		PostLogoutRedirectURL: cfg.OIDC.PostLogoutRedirectURL,
		Scopes:                cfg.OIDC.Scopes,
		GroupsClaim:           cfg.OIDC.GroupsClaim,
		SessionKeys:           keys,
		IdleTimeout:           cfg.Session.IdleTimeout.Duration,
		AbsoluteTimeout:       cfg.Session.AbsoluteTimeout.Duration,
		Policy:                policyOf(&cfg),
		Registry:              registry,
		CallTimeout:           cfg.OIDC.CallTimeout.Duration,
		StartupTimeout:        cfg.OIDC.StartupTimeout.Duration,
		ClientAuth:            cfg.OIDC.ClientAuth,
		Logger:                logger.With(slog.String("component", "auth")),
		Hooks:                 auth.Hooks{OnLogin: metrics.OnLogin},
		WriteError:            bff.ErrorWriter(logger),
	})
	if err != nil {
		return fmt.Errorf("sso: %w", err)
	}

	web, err := bff.ReadWebInfo(cfg.Server.WebDir)
	if err != nil {
		// The API works without the UI files; say why the page will not load.
		logger.Warn("web directory unreadable; the UI will not load until ./build.sh has run", slog.String("dir", cfg.Server.WebDir), slog.String("err", err.Error()))
	} else if web.WasmSize == 0 {
		logger.Warn("no app.wasm in the web directory; run ./build.sh", slog.String("dir", cfg.Server.WebDir))
	}
	ui.Routes()
	appHandler := ui.NewHandler(ui.HandlerOptions{
		Version:           web.Version,
		WasmContentLength: web.WasmSize,
		Demo:              demo,
	})

	proxies, err := parseProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return fmt.Errorf("trusted proxies: %v", err)
	}
	deps := bff.Deps{
		Logger:     logger,
		Auth:       a,
		Apps:       apps,
		AppHandler: appHandler,
		WebDir:     cfg.Server.WebDir,
		IdPOrigin:  a.IdPOrigin(),
		Metrics:    metrics,
		Demo:       demo,
		Limits: bff.Limits{
			MaxBodyBytes:        cfg.Limits.MaxBodyBytes,
			QueryTimeout:        cfg.Limits.QueryTimeout.Duration,
			RequestTimeout:      cfg.Limits.RequestTimeout.Duration,
			MaxPullsPerOperator: cfg.Limits.MaxPullsPerOperator,
		},
		TrustedProxies:  proxies,
		Checks:          fleetChecks(store, limiters, metrics),
		SeparateMetrics: cfg.Server.MetricsAddr != "",
	}
	handler := bff.NewServer(deps)

	ln := o.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Server.Addr); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.Duration,
		ReadTimeout:       cfg.Server.ReadTimeout.Duration,
		IdleTimeout:       cfg.Server.IdleTimeout.Duration,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Handlers end their own work through per-request deadlines; a
		// shutdown lets them finish rather than cancelling them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	useTLS := cfg.Server.TLSCertFile != ""
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()

	// The metrics listener, when configured, serves /metrics only; it is
	// plain HTTP for a scraper on an internal network.
	var metricsSrv *http.Server
	if cfg.Server.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.Server.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on server.metrics_addr: %w", err)
		}
		metricsSrv = &http.Server{
			Handler:           bff.MetricsHandler(deps),
			ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.Duration,
			ReadTimeout:       cfg.Server.ReadTimeout.Duration,
			IdleTimeout:       cfg.Server.IdleTimeout.Duration,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics listener", slog.String("err", err.Error()))
			}
		}()
		defer metricsSrv.Close()
		logger.Info("metrics listening", slog.String("url", "http://"+mln.Addr().String()+"/metrics"))
		if o.metricsReady != nil {
			o.metricsReady("http://" + mln.Addr().String())
		}
	}

	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	logger.Info("console listening", slog.String("url", url), slog.Int("apps", len(apps)), slog.Bool("demo", demo), slog.String("version", web.Version))
	if o.ready != nil {
		o.ready(url)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	bound := cfg.Server.ShutdownTimeout.Duration
	logger.Info("shutting down; waiting for in-flight requests", slog.Duration("bound", bound))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("in-flight requests cut off at the shutdown bound", slog.String("err", err.Error()))
		_ = srv.Close()
	}
	<-errc // Serve has returned http.ErrServerClosed
	logger.Info("console stopped")
	return nil
}

// buildApps makes one tim client per app, in ID order; each app's metrics
// and the secret observer hang on its hooks. With a store, each app's calls
// are paced by a limiter shared with the fleet, also returned for the
// readiness checks.
func buildApps(cfg Config, metrics *bff.Metrics, o *options, store *redisstore.Store) ([]bff.App, []appLimiter, error) {
	var (
		apps     []bff.App
		limiters []appLimiter
		errs     []error
	)
	for _, id := range sortedIDs(cfg.Apps) {
		ac := cfg.Apps[id]
		o.secret("app_key", string(ac.Key))
		hooks := metrics.TimHooks(id)
		var hc *http.Client // nil: tim's own
		if o.observe != nil {
			hc = observingClient(ac, o.observe)
		}
		var limiter tim.Limiter // nil: the client's own pacer
		if store != nil {
			lim, err := newAppLimiter(store, metrics, id, ac)
			if err != nil {
				errs = append(errs, fmt.Errorf("apps.%s: %v", id, err))
				continue
			}
			limiter = lim
			limiters = append(limiters, appLimiter{id: id, lim: lim})
		}
		c, err := tim.New(tim.Config{
			SDKAppID:     ac.SDKAppID,
			Key:          string(ac.Key),
			Identifier:   ac.Identifier,
			Region:       tim.Region(ac.Region),
			BaseURL:      ac.BaseURL,
			BackupURL:    ac.BackupURL,
			BatchSize:    ac.BatchSize,
			RateLimit:    ac.RateLimit,
			RateHeadroom: ac.RateHeadroom,
			MaxSeqs:      ac.MaxSeqs,
			SigLifetime:  ac.SigLifetime.Duration,
			CallTimeout:  ac.CallTimeout.Duration,
			MaxAttempts:  ac.MaxAttempts,
			Concurrency:  ac.Concurrency,
			Limiter:      limiter,
			Hooks:        hooks,
			HTTPClient:   hc,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("apps.%s: %v", id, err))
			continue
		}
		region := tim.Region(ac.Region).DisplayName()
		if ac.BaseURL != "" {
			region = "custom"
		}
		apps = append(apps, bff.App{ID: id, Name: ac.Name, Region: region, Client: c, AllowedGroups: ac.AllowedGroups})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return apps, limiters, nil
}

// newLogger makes the process logger: JSON for production log pipelines,
// text for people watching a terminal.
func newLogger(w io.Writer, lc LogConfig) *slog.Logger {
	level, _ := parseLevel(lc.Level)
	ho := &slog.HandlerOptions{Level: level}
	if lc.Format == "text" {
		return slog.New(slog.NewTextHandler(w, ho))
	}
	return slog.New(slog.NewJSONHandler(w, ho))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q: want debug, info, warn or error", s)
	}
	return l, nil
}

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

// observingClient is an app's Tencent HTTP client that reports the UserSig
// of every request it sends to observe (withSecretObserver). It keeps tim's
// bounds: a dial, TLS and header timeout, and an overall call bound.
func observingClient(ac *AppConfig, observe func(kind, value string)) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.ResponseHeaderTimeout = ac.CallTimeout.Duration
	return &http.Client{
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if sig := r.URL.Query().Get("usersig"); sig != "" {
				observe("usersig", sig)
			}
			return tr.RoundTrip(r)
		}),
		Timeout: ac.CallTimeout.Duration + time.Second,
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// activatedListener takes the listening socket handed over by systemd
// socket activation (or any supervisor that speaks it): LISTEN_FDS=1 means
// fd 3 is a listening TCP socket. LISTEN_PID, when set, must be this
// process (a variable inherited by a child is not meant for it). The
// console then serves there and ignores server.addr and --addr, so a
// restart never drops connections queued on the socket.
func activatedListener(getenv func(string) string) (net.Listener, error) {
	if getenv("LISTEN_FDS") == "" {
		return nil, nil
	}
	if pid := getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	if getenv("LISTEN_FDS") != "1" {
		return nil, fmt.Errorf("socket activation: LISTEN_FDS=%q, want 1 (one listening socket)", getenv("LISTEN_FDS"))
	}
	f := os.NewFile(3, "activated socket")
	ln, err := net.FileListener(f)
	f.Close() // FileListener made its own copy
	if err != nil {
		return nil, fmt.Errorf("socket activation: fd 3: %v", err)
	}
	return ln, nil
}
