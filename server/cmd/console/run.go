package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// option adjusts run for its tests: they run the whole program in-process.
type option func(*options)

type options struct {
	observe       func(kind, value string)
	listener      net.Listener
	ready         func(url string)
	globalLogging bool
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
