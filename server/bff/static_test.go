package bff_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/timconsole/timconsole/server/bff"
)

func TestReadWebInfo(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func() bff.WebInfo {
		t.Helper()
		info, err := bff.ReadWebInfo(dir)
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	write("app.wasm", "0123456789")
	write("app.css", "body{}")
	first := read()
	if first.WasmSize != 10 || len(first.Version) != 20 {
		t.Fatalf("ReadWebInfo = %+v, want the raw wasm size 10 and a 20-character version", first)
	}
	if again := read(); again != first {
		t.Errorf("second read = %+v, want %+v: the version must be stable across restarts", again, first)
	}

	write("app.wasm.br", "compressed")
	write("app.wasm.gz", "compressed too")
	if got := read(); got != first {
		t.Errorf("after adding .br/.gz copies: %+v, want %+v", got, first)
	}

	write("app.css", "body{color:red}")
	if got := read(); got.Version == first.Version {
		t.Errorf("version %s did not change with app.css", got.Version)
	}

	if _, err := bff.ReadWebInfo(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadWebInfo of a missing directory: no error")
	}
}
