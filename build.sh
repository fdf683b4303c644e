#!/usr/bin/env bash
# build.sh: the one entry point for building, testing, benchmarking and demoing
# timconsole. Run `./build.sh help` for the subcommands and the variables.
set -euo pipefail
cd "$(dirname "$0")"
# One module: a go.work in a parent folder must not change what is built.
export GOWORK=off

usage() {
	cat <<'USAGE'
Usage: ./build.sh [command]

Commands:
  (none)   build web/app.wasm (+ .gz, .br), web/wasm_exec.js and bin/console
  demo     build, then run the console in demo mode (emulator + development SSO
           on loopback); extra arguments go to the console, e.g. --addr
  test     everything CI runs: gofmt, vet (host, e2e tag, wasm), import rules,
           unit tests with -race, short fuzz runs, wasm build, Chromium
           end-to-end tests
  check    only the static checks (gofmt, vet, import rules)
  bench    run the benchmarks and print the figures the issues ask for
  sizes    build, then print app.wasm's sizes against a bare go-app hello
  help     this text

Variables:
  DEBUG=1        keep symbols and DWARF in the binaries
  FAST=1         skip compressing app.wasm (dev loop)
  BROTLI_Q=N     brotli quality for app.wasm.br (default 11, the release setting)
  FUZZTIME=D     how long each fuzz target runs in `test` (default 5s)
  BENCHTIME=D    -benchtime for `bench` (default 1x: each benchmark is itself a
                 bounded workload that reports its own ratios)
  E2E=0          skip the Chromium suite in `test` (CI never sets it)
USAGE
}

flags=(-trimpath)
[[ "${DEBUG:-0}" != 1 ]] && flags+=('-ldflags=-s -w')

log() { printf '\n== %s\n' "$*"; }

build_wasm() {
	# Stale precompressed copies would be served in place of a new wasm.
	rm -f web/app.wasm web/app.wasm.gz web/app.wasm.br
	GOOS=js GOARCH=wasm go build "${flags[@]}" -o web/app.wasm ./app
	# The JS glue must come from the toolchain that built app.wasm.
	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" web/wasm_exec.js
	chmod 644 web/wasm_exec.js
	if [[ "${FAST:-0}" != 1 ]]; then
		gzip -9 -k -f web/app.wasm
		if command -v brotli >/dev/null; then
			brotli -f -q "${BROTLI_Q:-11}" -o web/app.wasm.br web/app.wasm
		else
			echo "brotli not installed: serving gzip only" >&2
		fi
	fi
}

build_server() {
	mkdir -p bin
	go build "${flags[@]}" -o bin/console ./server/cmd/console
	go build "${flags[@]}" -o bin/timemu ./server/cmd/timemu
	go build "${flags[@]}" -o bin/devidp ./server/cmd/devidp
}

build() {
	log "build wasm and server"
	build_wasm
	build_server
	ls -l web/app.wasm* bin/
}

# wasm_sizes prints app.wasm's raw, gzip and brotli sizes, and the ratio of
# its brotli size to a bare go-app "hello" built the same way in this run.
wasm_sizes() {
	log "wasm size"
	command -v brotli >/dev/null || { echo "brotli is needed for the size report"; exit 1; }
	# A leading "_" keeps the baseline out of ./... patterns.
	local dir=out/_hello
	mkdir -p "$dir"
	cat >"$dir/main.go" <<'HELLO'
// Command hello is the smallest go-app program: the baseline for app.wasm's size.
package main

import "github.com/maxence-charriere/go-app/v10/pkg/app"

type hello struct{ app.Compo }

func (h *hello) Render() app.UI { return app.H1().Text("hello") }

func main() {
	app.Route("/", func() app.Composer { return &hello{} })
	app.RunWhenOnBrowser()
}
HELLO
	GOOS=js GOARCH=wasm go build "${flags[@]}" -o "$dir/hello.wasm" "./$dir"
	gzip -9 -k -f "$dir/hello.wasm"
	brotli -f -q "${BROTLI_Q:-11}" -o "$dir/hello.wasm.br" "$dir/hello.wasm"
	[[ -f web/app.wasm.br ]] || brotli -f -q "${BROTLI_Q:-11}" -o web/app.wasm.br web/app.wasm
	local raw gz br hraw hgz hbr
	raw=$(stat -c %s web/app.wasm) gz=$(stat -c %s web/app.wasm.gz) br=$(stat -c %s web/app.wasm.br)
	hraw=$(stat -c %s "$dir/hello.wasm") hgz=$(stat -c %s "$dir/hello.wasm.gz") hbr=$(stat -c %s "$dir/hello.wasm.br")
	printf '%-14s %12s %12s %12s\n' "" raw gzip brotli
	printf '%-14s %12d %12d %12d\n' app.wasm "$raw" "$gz" "$br" hello.wasm "$hraw" "$hgz" "$hbr"
	awk -v a="$br" -v h="$hbr" 'BEGIN { printf "app.wasm brotli: %.2f MB; ratio to go-app hello: %.3f (goal <= 1.20)\n", a/1e6, a/h }'
}

# check_imports enforces the import rules of design.md.
check_imports() {
	local fail=0 deps bad
	nonstd() { go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$@"; }
	mod=github.com/timconsole/timconsole

	# server/api is the contract linked into the wasm: standard library only.
	bad=$(nonstd ./server/api | grep -v "^$mod/server/api\$" || true)
	[[ -z "$bad" ]] || { echo "server/api must import the standard library only, found: $bad"; fail=1; }

	# app/... imports go-app (and its own dependency) and server/api only.
	bad=$(GOOS=js GOARCH=wasm nonstd ./app/... | grep -v -e "^$mod/app" -e "^$mod/server/api\$" \
		-e '^github.com/maxence-charriere/go-app/v10/' -e '^github.com/google/uuid$' || true)
	[[ -z "$bad" ]] || { echo "app/ may import go-app and server/api only, found: $bad"; fail=1; }

	# The wasm must not use net/http: its client costs ~0.85 MB brotli. go-app's
	# pkg/app imports net/http for its server half (the linker drops it), so
	# the rule is on our own packages' imports for js/wasm.
	bad=$(GOOS=js GOARCH=wasm go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./app/... ./server/api | grep -w 'net/http' || true)
	[[ -z "$bad" ]] || { echo "the wasm build imports net/http; use the fetch wrapper: $bad"; fail=1; }

	# server/tim knows nothing of bff, auth or api.
	bad=$(nonstd ./server/tim | grep -e "^$mod/server/bff" -e "^$mod/server/auth" -e "^$mod/server/api" || true)
	[[ -z "$bad" ]] || { echo "server/tim must not import: $bad"; fail=1; }

	# server/auth and server/timemu know nothing of the browser contract: auth
	# reports errors that the BFF answers (one status table, in bff); the
	# emulator carries the vendor's own rules, so a drift shows in tests.
	for pkg in auth timemu; do
		bad=$(nonstd ./server/$pkg | grep -e "^$mod/server/api\$" -e "^$mod/server/bff" || true)
		[[ -z "$bad" ]] || { echo "server/$pkg must not import: $bad"; fail=1; }
	done

	# Only commands read the process environment; packages get a getenv.
	bad=$(grep -rnE '\bos\.(Getenv|LookupEnv|Environ|ExpandEnv)\b|\bsyscall\.Getenv\b' --include='*.go' app server \
		| grep -v -e '_test\.go:' -e '^server/cmd/' || true)
	[[ -z "$bad" ]] || { echo "only server/cmd/... may read the environment: $bad"; fail=1; }

	# server/bff gets the go-app handler as an http.Handler; it never builds it.
	bad=$(nonstd ./server/bff | grep -e '^github.com/maxence-charriere/go-app' -e "^$mod/app" -e "^$mod/server/cmd" || true)
	[[ -z "$bad" ]] || { echo "server/bff must not import: $bad"; fail=1; }

	# Only commands wire things together: no library imports a cmd package.
	bad=$(go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./server/... ./app/... | grep -v "^$mod/server/cmd/" | grep "$mod/server/cmd/" || true)
	[[ -z "$bad" ]] || { echo "only commands may import commands: $bad"; fail=1; }

	# Vendor vocabulary stays inside tim and timemu.
	bad=$(grep -rlE 'ActionStatus|Read_Account|Unread_Account|MsgSeqList' --include='*.go' app server \
		| grep -v -e '^server/tim/' -e '^server/timemu/' -e '^server/cmd/timemu/' || true)
	[[ -z "$bad" ]] || { echo "vendor field names outside server/tim, server/timemu and its command: $bad"; fail=1; }

	return $fail
}

check() {
	log "gofmt"
	local unformatted
	unformatted=$(gofmt -l app server)
	[[ -z "$unformatted" ]] || { echo "gofmt needed:"; echo "$unformatted"; exit 1; }
	log "go vet (host, e2e tag, wasm)"
	go vet ./...
	go vet -tags e2e ./...
	GOOS=js GOARCH=wasm go vet ./app/... ./server/api/...
	log "import rules"
	check_imports
	echo ok
}

fuzz() {
	log "fuzz targets, ${FUZZTIME:-5s} each"
	local file pkg name logfile
	logfile=$(mktemp)
	while IFS= read -r file; do
		pkg=./$(dirname "$file")
		for name in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
			echo "$pkg $name"
			go test -run '^$' -fuzz "^${name}\$" -fuzztime "${FUZZTIME:-5s}" "$pkg" >"$logfile" 2>&1 \
				|| { cat "$logfile"; rm -f "$logfile"; exit 1; }
		done
	done < <(grep -rlE '^func Fuzz' --include='*_test.go' server app | sort)
	rm -f "$logfile"
}

run_tests() {
	local start=$SECONDS
	check
	log "unit tests (race detector on)"
	go test -race -count=1 ./...
	fuzz
	build
	if [[ "${E2E:-1}" != 0 ]]; then
		log "end-to-end tests in headless Chromium"
		go test -count=1 -tags e2e -timeout 10m ./server/e2e/...
		# go test hides a passing package's output; the suite writes its wall time here.
		cat out/e2e-wall-time.txt 2>/dev/null || true
	fi
	log "all tests passed in $((SECONDS - start)) s"
}

case "${1:-build}" in
build) build ;;
demo)
	build
	shift || true
	exec bin/console --demo --web web "$@"
	;;
test) run_tests ;;
check) check ;;
sizes)
	build
	wasm_sizes
	;;
bench)
	build
	wasm_sizes
	log "benchmarks"
	go test -run '^$' -bench . -benchtime "${BENCHTIME:-1x}" -count=1 ./server/... ./app/...
	if [[ -d server/e2e ]]; then
		go test -run '^$' -bench . -benchtime "${BENCHTIME:-1x}" -count=1 -tags e2e ./server/e2e/...
	fi
	;;
help | -h | --help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
