// Command console is the timconsole server: the backend-for-frontend that
// signs operators in, queries Tencent Cloud Chat read receipts for them and
// serves the WebAssembly UI. Run `console -h` for flags and subcommands.
//
// The command owns the configuration and the wiring, split by job:
// config.go (the schema and its defaults, the TOML file, the environment
// overlay, the secrets and files, and a validate that changes nothing),
// serve.go (the stores, the apps, auth and the listeners), fleet.go
// (Redis), demo.go, and the healthcheck and keygen subcommands in
// subcommands.go. Its tests run run() in-process, as the binary does.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr, withGlobalLogging()); err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		os.Exit(1)
	}
}
