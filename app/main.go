// Command app is the timconsole browser UI, compiled to WebAssembly
// (GOOS=js GOARCH=wasm) and served by the console's BFF as web/app.wasm.
// The same routes are registered by the server, which prerenders them.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/timconsole/timconsole/app/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
