# timconsole container image.
#
#   docker build -t timconsole .
#   docker run -p 8080:8080 -v "$PWD/timconsole.toml:/etc/timconsole/timconsole.toml:ro" \
#     -e TIMCONSOLE_OIDC_CLIENT_SECRET -e TIMCONSOLE_SESSION_KEYS -e TIMCONSOLE_APPS_PROD_SG_KEY timconsole
#
# See README.md, "Configuration", for every setting and variable.

# --- build: the wasm UI and the server, with the Go version of go.mod ---
FROM golang:1.26.8 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The UI. Stale precompressed copies would be served in place of a new wasm,
# so they go first; brotli is used when the build image has it, gzip always.
RUN rm -f web/app.wasm web/app.wasm.gz web/app.wasm.br web/wasm_exec.js \
 && GOOS=js GOARCH=wasm go build -ldflags='-s -w' -o web/app.wasm ./app \
 && cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" web/wasm_exec.js \
 && gzip -9 -k web/app.wasm \
 && if command -v brotli >/dev/null; then brotli -q 9 -o web/app.wasm.br web/app.wasm; fi \
 && chmod -R a+rX web
# The server, static: the final image has no C library.
RUN go build -ldflags='-s -w' -o /out/console ./server/cmd/console
# A passwd entry for the unprivileged user, so the process has a name.
RUN printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > /out/passwd \
 && printf 'nonroot:x:65532:\n' > /out/group

# --- run: nothing but the binary, the web files and CA certificates ---
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/console /console
COPY --from=build /src/web /web
USER 65532:65532
# The binary defaults to loopback; inside the container it must listen on
# every interface for the port mapping to reach it. The healthcheck reads
# the port from the same variable.
ENV TIMCONSOLE_SERVER_ADDR=0.0.0.0:8080 \
    TIMCONSOLE_SERVER_WEB_DIR=/web
EXPOSE 8080
# No shell or curl in the image: the binary checks itself (GET /healthz on
# loopback, 3 s timeout).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/console", "healthcheck"]
ENTRYPOINT ["/console"]
CMD ["--config", "/etc/timconsole/timconsole.toml"]
