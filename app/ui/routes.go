// Package ui is the timconsole browser console: the go-app components, the
// SVG chart, and the thin fetch() client of the BFF's JSON API.
//
// It compiles for js/wasm (the app) and for the host (the BFF, which
// prerenders pages with the same routes, and the tests). Only
// transport_browser.go is wasm-specific; everything else uses go-app's
// portable JS wrappers, so the package needs no syscall/js and the wasm
// links no net/http.
package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Routes registers the console's pages in go-app's global router. Both the
// wasm main and the server call it: the router must be identical on both
// sides, or the server answers 404 for pages the app knows. "/" and
// "/receipts" are the console; "/signed-out" is where the identity provider
// returns the browser after a logout.
func Routes() {
	factory := func() app.Composer { return newConsole() }
	app.Route(pathHome, factory)
	app.Route(pathReceipts, factory)
	app.Route(pathSignedOut, func() app.Composer { return &signedOut{} })
}

// HandlerOptions are the deployment facts the page shell needs. None of
// them is secret: go-app ships the handler's settings to every browser.
type HandlerOptions struct {
	// Version identifies the deployed web assets (a hash of web/). It is the
	// ETag of every go-app response and the service worker's cache name, so
	// it must change when app.wasm or the CSS changes, and must not change
	// otherwise (an empty value means "new version at every start").
	Version string
	// WasmContentLength is the size of the uncompressed app.wasm, for the
	// loader's progress: the BFF serves it compressed, so Content-Length
	// would be the compressed size.
	WasmContentLength int64
	// Demo marks the browser tab title. The DEMO banner itself comes from
	// /api/me, so the wasm needs no build- or start-time flag.
	Demo bool
}

// NewHandler returns the go-app handler that serves the console's pages,
// app.js, the manifest and the service worker. The BFF routes /web/ (the
// precompressed wasm, CSS, icons) and /wasm_exec.js to its own static
// handler before this one; go-app gets everything else.
func NewHandler(o HandlerOptions) *app.Handler {
	title := "timconsole"
	if o.Demo {
		title += " (demo)"
	}
	h := &app.Handler{
		Name:        "timconsole",
		ShortName:   "timconsole",
		Title:       title,
		Description: "Tencent Cloud Chat group read receipts, for operations staff",
		Lang:        "en",
		Icon: app.Icon{
			Default: "/web/icon.png",
			Large:   "/web/icon-512.png",
			SVG:     "/web/icon.svg",
		},
		BackgroundColor: "#0f172a",
		ThemeColor:      "#0f172a",
		LoadingLabel:    "Loading timconsole…",
		Styles:          []string{"/web/app.css"},
		Version:         o.Version,
	}
	if o.WasmContentLength > 0 {
		h.WasmContentLength = strconv.FormatInt(o.WasmContentLength, 10)
	}
	return h
}
