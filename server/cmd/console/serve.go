package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/timconsole/timconsole/app/ui"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/directory"
	"github.com/timconsole/timconsole/server/profiles"
	"github.com/timconsole/timconsole/server/redisstore"
	"github.com/timconsole/timconsole/server/tim"
)

// serve: the stores, the apps, auth and the listeners, from a valid
// configuration.

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

	apps, limiters, err := buildApps(cfg, metrics, o, store, logger)
	if err != nil {
		return err
	}
	defer func() {
		for _, a := range apps {
			a.Directory.Close()
		}
	}()

	a, err := buildAuth(ctx, cfg, keys, registry, logger, metrics)
	if err != nil {
		return err
	}
	appHandler, version := buildUI(cfg, demo, logger)

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

	return listenAndServe(ctx, cfg, handler, bff.MetricsHandler(deps), o, logger, func(url string) {
		logger.Info("console listening", slog.String("url", url), slog.Int("apps", len(apps)), slog.Bool("demo", demo), slog.String("version", version))
	})
}

// buildApps makes one tim client per app, in ID order; each app's metrics
// and the secret observer hang on its hooks. With a store, each app's calls
// are paced by a limiter shared with the fleet, also returned for the
// readiness checks.
func buildApps(cfg Config, metrics *bff.Metrics, o *options, store *redisstore.Store, logger *slog.Logger) ([]bff.App, []appLimiter, error) {
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
		var commandLimiters map[string]tim.Limiter
		if store != nil {
			lim, err := newAppLimiter(store, metrics, id, ac)
			if err != nil {
				errs = append(errs, fmt.Errorf("apps.%s: %v", id, err))
				continue
			}
			limiter = lim
			limiters = append(limiters, appLimiter{id: id, lim: lim})
			// The commands with documented rates of their own (the group
			// list's 1 call/s) hold for the fleet too.
			commandLimiters = map[string]tim.Limiter{}
			for cmd, rate := range tim.CommandLimits {
				cl, err := store.NewLimiter(redisstore.LimiterConfig{SDKAppID: ac.SDKAppID, Command: cmd, Rate: rate, Headroom: ac.RateHeadroom})
				if err != nil {
					errs = append(errs, fmt.Errorf("apps.%s: %s limiter: %v", id, cmd, err))
					continue
				}
				commandLimiters[cmd] = cl
			}
		}
		c, err := tim.New(tim.Config{
			SDKAppID:        ac.SDKAppID,
			Key:             string(ac.Key),
			Identifier:      ac.Identifier,
			Region:          tim.Region(ac.Region),
			BaseURL:         ac.BaseURL,
			BackupURL:       ac.BackupURL,
			BatchSize:       ac.BatchSize,
			RateLimit:       ac.RateLimit,
			RateHeadroom:    ac.RateHeadroom,
			MaxSeqs:         ac.MaxSeqs,
			SigLifetime:     ac.SigLifetime.Duration,
			CallTimeout:     ac.CallTimeout.Duration,
			MaxAttempts:     ac.MaxAttempts,
			Concurrency:     ac.Concurrency,
			Limiter:         limiter,
			CommandLimiters: commandLimiters,
			Hooks:           hooks,
			HTTPClient:      hc,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("apps.%s: %v", id, err))
			continue
		}
		region := tim.Region(ac.Region).DisplayName()
		if ac.BaseURL != "" {
			region = "custom"
		}
		var shared directory.Shared // nil: this replica's own index
		if store != nil {
			shared = store.Directory(ac.SDKAppID)
		}
		dir := directory.New(c, directory.Config{Refresh: ac.DirectoryRefresh.Duration, Shared: shared, OnBuild: func(n int, took time.Duration, err error) {
			if err != nil {
				logger.Warn("group directory build failed; searches answer from the previous index", slog.String("app", id), slog.String("err", err.Error()))
				return
			}
			logger.Info("group directory built", slog.String("app", id), slog.Int("groups", n), slog.Duration("took", took))
		}})
		apps = append(apps, bff.App{ID: id, Name: ac.Name, Region: region, Client: c, AllowedGroups: ac.AllowedGroups,
			Directory: dir, Profiles: profiles.New(c, 0, nil), Preview: ac.MessagePreview})
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

// buildAuth makes the SSO service from the configuration; it discovers the
// provider, retrying while it is down for up to oidc.startup_timeout.
func buildAuth(ctx context.Context, cfg Config, keys []auth.KeyPair, registry auth.Registry, logger *slog.Logger, metrics *bff.Metrics) (*auth.Auth, error) {
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
		return nil, fmt.Errorf("sso: %w", err)
	}
	return a, nil

}

// buildUI makes the go-app handler for the web directory's build, and
// returns it with the build's version; a missing build only warns: the API
// works without it.
func buildUI(cfg Config, demo bool, logger *slog.Logger) (http.Handler, string) {
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

	return appHandler, web.Version
}

// listenAndServe serves handler on the configured (or given, or activated)
// listener and, with server.metrics_addr, metricsHandler on its own, until
// ctx ends; then it shuts down gracefully within server.shutdown_timeout.
func listenAndServe(ctx context.Context, cfg Config, handler, metricsHandler http.Handler, o *options, logger *slog.Logger, listening func(url string)) error {
	ln := o.listener
	if ln == nil {
		var err error
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
			Handler:           metricsHandler,
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
	}

	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	listening(url)
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
