// Command timemu serves the Tencent Chat REST emulator (package timemu) on a
// loopback address for local development: point a tim client's BaseURL at
// the printed URL and sign with the printed credentials.
//
// Usage:
//
//	go run ./server/cmd/timemu [flags]
//
// It serves the generated demo data set (timemu.Generate, -seed and
// -messages) or a JSON fixture (-fixture FILE, see timemu.Fixture), prints
// the base URL and the admin credentials it accepts (sdkappid, identifier and
// key; the key comes from -key, TIMEMU_KEY or the fixture, else it is random
// per start; it is an emulator key, never a real one), and stops gracefully on SIGINT or
// SIGTERM. It refuses non-loopback addresses.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/timconsole/timconsole/server/timemu"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "timemu:", err)
		os.Exit(1)
	}
}

// options are the parsed flags.
type options struct {
	addr, fixture, key, identifier string
	sdkAppID                       uint64
	seed                           uint64
	messages, groups               int
	rate                           int
	maxSeqList                     int
	countSender, emitIsFinish      bool
	rejectCount                    bool
	latency                        time.Duration
	verbose                        bool
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("timemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: timemu [flags]\n\nServes the Tencent Chat REST emulator on a loopback address.\n"+
			"The admin key comes from -key, else the TIMEMU_KEY environment variable, else the fixture's key\n"+
			"for -sdkappid, else it is random. It is an emulator key: never use a real app's key.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9470", "loopback `host:port` to listen on (port 0 picks a free port)")
	fs.StringVar(&o.fixture, "fixture", "", "JSON fixture `file` to serve instead of the generated demo data set")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated demo data set")
	fs.IntVar(&o.messages, "messages", 0, "messages in the biggest generated group (0: 12000)")
	fs.IntVar(&o.groups, "groups", 0, "extra small groups to generate, for a directory at scale (e.g. 100000)")
	fs.Uint64Var(&o.sdkAppID, "sdkappid", 1400000000, "SDKAppID of the emulated app")
	fs.StringVar(&o.identifier, "identifier", "administrator", "App admin identifier")
	fs.StringVar(&o.key, "key", "", "secret key of the emulated app (default: $TIMEMU_KEY, else the fixture's, else random)")
	fs.IntVar(&o.rate, "rate", timemu.DefaultRateLimit, "calls per second allowed per API and app (get_appid_group_list: 1); -1 disables the limits")
	fs.IntVar(&o.maxSeqList, "max-seqlist", 0, "cap on MsgSeqList length (0: none)")
	fs.BoolVar(&o.countSender, "count-sender", false, "count the sender in ReadNum+UnreadNum")
	fs.BoolVar(&o.emitIsFinish, "emit-isfinish", false, "also emit IsFinish in detail answers")
	fs.BoolVar(&o.rejectCount, "reject-count-over-200", false, "refuse a detail Count above 200 instead of clamping it")
	fs.DurationVar(&o.latency, "latency", 0, "added latency per call")
	fs.BoolVar(&o.verbose, "v", false, "log every call (debug level)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.key == "" {
		o.key = getenv("TIMEMU_KEY")
	}
	var problems []string
	if err := checkLoopback(o.addr); err != nil {
		problems = append(problems, err.Error())
	}
	if o.sdkAppID == 0 {
		problems = append(problems, "-sdkappid must not be 0")
	}
	if o.identifier == "" {
		problems = append(problems, "-identifier must not be empty")
	}
	if o.rate == 0 {
		problems = append(problems, "-rate must not be 0 (use -1 to disable the limit)")
	}
	if o.messages < 0 || o.maxSeqList < 0 || o.latency < 0 {
		problems = append(problems, "-messages, -max-seqlist and -latency must not be negative")
	}
	if len(problems) > 0 {
		return o, fmt.Errorf("invalid flags:\n  %s", strings.Join(problems, "\n  "))
	}
	return o, nil
}

// checkLoopback refuses addresses that other machines could reach: the
// emulator accepts a printed dev key and must stay on this host.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address; use 127.0.0.1, [::1] or localhost", addr)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	fixture, err := loadData(o)
	if err != nil {
		return err
	}
	// The key: -key, else TIMEMU_KEY, else the fixture's key for this app,
	// else a random one.
	for _, a := range fixture.Apps {
		if o.key == "" && a.SDKAppID == o.sdkAppID {
			o.key = a.Key
		}
	}
	if o.key == "" {
		b := make([]byte, 32)
		rand.Read(b)
		o.key = hex.EncodeToString(b)
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	emu := timemu.New(timemu.Config{
		RateLimit:          o.rate,
		MaxSeqList:         o.maxSeqList,
		RejectCountOver200: o.rejectCount,
		CountSender:        o.countSender,
		EmitIsFinish:       o.emitIsFinish,
		Logger:             logger,
	})
	defer emu.Close()
	emu.AddApp(o.sdkAppID, o.key, o.identifier)
	if err := emu.Load(fixture); err != nil {
		return err
	}
	emu.AddApp(o.sdkAppID, o.key) // the printed key wins over the fixture's
	emu.SetLatency(o.latency)

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %v", err)
	}
	srv := &http.Server{
		Handler:           emu,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	printBanner(stdout, "http://"+ln.Addr().String(), o, fixture)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %v", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	emu.Close() // releases hung and delayed requests
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %v", err)
	}
	<-serveErr // http.ErrServerClosed
	return nil
}

func loadData(o options) (*timemu.Fixture, error) {
	if o.fixture == "" {
		return timemu.Generate(timemu.GenerateOptions{Seed: o.seed, SDKAppID: o.sdkAppID, Messages: o.messages, ExtraGroups: o.groups, Now: time.Now().Unix()}), nil
	}
	f, err := os.Open(o.fixture)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return timemu.LoadFixture(f)
}

func printBanner(w io.Writer, baseURL string, o options, f *timemu.Fixture) {
	fmt.Fprintf(w, "timemu: Tencent Chat REST emulator (development only; the key below is an emulator key)\n")
	fmt.Fprintf(w, "base URL:    %s\n", baseURL)
	fmt.Fprintf(w, "sdkappid:    %d\n", o.sdkAppID)
	fmt.Fprintf(w, "identifier:  %s\n", o.identifier)
	fmt.Fprintf(w, "key:         %s\n", o.key)
	const listed = 20 // a directory of 100,000 groups is not a banner
	for _, a := range f.Apps {
		for i, g := range a.Groups {
			if i == listed {
				fmt.Fprintf(w, "group:       app %d  ... and %d more groups\n", a.SDKAppID, len(a.Groups)-listed)
				break
			}
			fmt.Fprintf(w, "group:       app %d  %-18s %-10s %4d members %6d messages  %s\n",
				a.SDKAppID, g.ID, g.Type, len(g.Members)+ownerCount(g), len(g.Messages), g.Name)
		}
	}
	for _, a := range f.Apps {
		if a.SDKAppID != o.sdkAppID && a.Key != "" {
			fmt.Fprintf(w, "other app:   sdkappid %d with the fixture's key, admins %v\n", a.SDKAppID, a.Admins)
		}
	}
	fmt.Fprintf(w, "rate limit:  %d calls/s per API and app, get_appid_group_list 1/s (-1: off)\n", o.rate)
}

// ownerCount is 1 when the owner is not also listed as a member.
func ownerCount(g timemu.FixtureGroup) int {
	if g.Owner == "" {
		return 0
	}
	for _, m := range g.Members {
		if m == g.Owner {
			return 0
		}
	}
	return 1
}
