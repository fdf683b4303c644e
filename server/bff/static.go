package bff

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// WebInfo describes the built web/ directory for go-app's handler.
type WebInfo struct {
	// Version is a hash of web/'s contents without the .gz/.br copies: the
	// same on every restart and replica, new whenever the wasm or the CSS
	// changes, so go-app's ETag and service-worker cache follow deploys.
	Version string
	// WasmSize is the raw size of app.wasm: go-app's progress label divides
	// by Content-Length, which is the compressed size when we serve .br.
	WasmSize int64
}

// ReadWebInfo hashes dir (normally "web"). A missing app.wasm is not an
// error (tests and API-only runs have none); WasmSize is then 0.
func ReadWebInfo(dir string) (WebInfo, error) {
	fsys := os.DirFS(dir)
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !isPrecompressed(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return WebInfo{}, fmt.Errorf("hash web dir: %w", err)
	}
	sort.Strings(files)
	h := sha256.New()
	var info WebInfo
	for _, p := range files {
		f, err := fsys.Open(p)
		if err != nil {
			return WebInfo{}, fmt.Errorf("hash web dir: %w", err)
		}
		// Name and length frame each file so moving bytes between files
		// changes the hash.
		fmt.Fprintf(h, "%s\x00", p)
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return WebInfo{}, fmt.Errorf("hash web dir: %s: %w", p, err)
		}
		fmt.Fprintf(h, "\x00%d\x00", n)
		if p == "app.wasm" {
			info.WasmSize = n
		}
	}
	info.Version = hex.EncodeToString(h.Sum(nil))[:20]
	return info, nil
}

func isPrecompressed(p string) bool {
	return strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".br")
}

// encodings the static handler can serve, best first.
var encodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// handleStatic serves files under dir for /web/. It picks a precompressed
// copy (.br, then .gz) when the browser accepts it, keeps the original's
// Content-Type (application/wasm matters: instantiateStreaming refuses
// anything else) and never lists directories. go-app never sees /web/: its
// LocalDir breaks the wasm URL when given a directory (go-app-notes.md §4.1).
func handleStatic(dir string) http.Handler {
	fsys := os.DirFS(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/web/")
		serveFile(w, r, fsys, name)
	})
}

// handleWasmExec serves web/wasm_exec.js, the glue from the toolchain that
// built app.wasm; without the file (no build yet) go-app's embedded copy
// answers instead.
func handleWasmExec(dir string, fallback http.Handler) http.Handler {
	fsys := os.DirFS(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, err := fs.Stat(fsys, "wasm_exec.js"); err != nil || !st.Mode().IsRegular() {
			fallback.ServeHTTP(w, r)
			return
		}
		serveFile(w, r, fsys, "wasm_exec.js")
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) {
	if name == "" || !fs.ValidPath(name) || strings.Contains(name, "\\") {
		http.NotFound(w, r)
		return
	}
	ctype := contentType(name)
	encoding := ""
	f, st, err := openRegular(fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if !isPrecompressed(name) {
		w.Header().Add("Vary", "Accept-Encoding")
		for _, enc := range encodings {
			if !acceptsEncoding(r.Header.Get("Accept-Encoding"), enc.name) {
				continue
			}
			cf, cst, err := openRegular(fsys, name+enc.ext)
			if err != nil {
				continue
			}
			f.Close()
			f, st, encoding = cf, cst, enc.name
			break
		}
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", ctype)
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	h.Set("Cache-Control", "no-cache")
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "file not seekable", http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, "", st.ModTime(), rs)
}

func openRegular(fsys fs.FS, name string) (fs.File, fs.FileInfo, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, errors.New("not a regular file")
	}
	return f, st, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".gz":
		return "application/gzip"
	case ".br":
		return "application/octet-stream"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// acceptsEncoding reports whether an Accept-Encoding header accepts coding
// (q-values of 0 refuse; "*" accepts).
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != coding && name != "*" {
			continue
		}
		ok := true
		for _, p := range strings.Split(params, ";") {
			k, v, found := strings.Cut(strings.TrimSpace(p), "=")
			if found && strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q <= 0 {
					ok = false
				}
			}
		}
		if name == coding {
			return ok
		}
		star = ok
	}
	return star
}
