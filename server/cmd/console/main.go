// Command console is the timconsole server: the backend-for-frontend that
// signs operators in, queries Tencent Cloud Chat read receipts for them and
// serves the WebAssembly UI. Run `console -h` for flags and subcommands;
// the wiring lives in package console so tests can run it in-process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/timconsole/timconsole/server/console"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		os.Exit(1)
	}
}

// run shuts the console down gracefully on SIGINT or SIGTERM.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return console.Run(ctx, args, getenv, stdout, stderr, console.WithGlobalLogging())
}
