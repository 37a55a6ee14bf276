#!/usr/bin/env bash
# Installs the GoNB Jupyter kernel (v0.11.1) and goimports, and registers the
# kernel with Jupyter. Jupyter itself comes from Debian:
#   apt-get install -y jupyter-nbconvert python3-nbclient jupyter-client
#
# The Go module proxy serves only exact GoNB versions, and
# `go install github.com/janpfeifer/gonb@v0.11.1` fails while it looks up
# deprecations, so GoNB is built from a throw-away module.
set -euo pipefail
export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v gonb >/dev/null || ! gonb --version 2>&1 | grep -q "v0.11.1"; then
	t=$(mktemp -d)
	(cd "$t" && go mod init gonbtools >/dev/null 2>&1 &&
		go get -tool github.com/janpfeifer/gonb@v0.11.1 >/dev/null 2>&1 &&
		go install github.com/janpfeifer/gonb)
	rm -rf "$t"
fi
command -v goimports >/dev/null || go install golang.org/x/tools/cmd/goimports@v0.52.0
# --force_deps: gopls (editor support) is optional. --raw_error gives plain-text errors (readable in CI logs and nbconvert output).
gonb --install --force_deps --raw_error >/dev/null
jupyter kernelspec list 2>/dev/null | grep gonb >/dev/null
echo "GoNB installed: $(command -v gonb)"
