#!/usr/bin/env bash
# Tests of the editor support in editors/: VS Code (TextMate and the extension), Vim and
# Neovim, tree-sitter, drift from grammar/kload.pest, and the language server in Neovim.
# The last line printed is `editors: N passed, M failed`; the exit status is non-zero when
# anything failed.
#
#   bash editors/test.sh                 all groups
#   bash editors/test.sh vim drift       some groups (textmate vim tree-sitter drift vscode lsp)
#   KLOAD_BLESS=1 bash editors/test.sh   rewrite the golden files, then review the diff
#
# What it needs is installed on the first run and cached:
#   npm packages (package-lock.json)  editors/node_modules, editors/vscode/node_modules
#   kload (for the lsp group)         cargo build, copied to $KLOAD_TOOLS/bin
#   vim, neovim                       apt-get, when missing
#   tree-sitter-cli                   $KLOAD_TOOLS (~/.cache/kload/tools), cargo install
#   token oracle (pest_vm)            $KLOAD_TOOLS/oracle-target, cargo build
set -euo pipefail

EDITORS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${KLOAD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/kload/tools}"
TREE_SITTER_VERSION=0.27.1

say() { printf 'editors: %s\n' "$*" >&2; }
setup_failed() {
  say "setup failed: $1"
  echo "editors: 0 passed, 1 failed"
  exit 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

mkdir -p "$TOOLS"

# npm packages, reinstalled when package-lock.json changes. No install scripts are needed
# (the oniguruma wasm ships in its package), and one of vsce's would reach the internet.
lock_sum="$(sha256sum "$EDITORS/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$EDITORS/node_modules/.kload-lock" 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm packages"
  (cd "$EDITORS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 || setup_failed "npm ci"
  echo "$lock_sum" > "$EDITORS/node_modules/.kload-lock"
fi

# The VS Code extension's runtime dependency (vscode-languageclient), which the .vsix ships.
ext_sum="$(sha256sum "$EDITORS/vscode/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$EDITORS/vscode/node_modules/.kload-lock" 2>/dev/null)" != "$ext_sum" ]; then
  say "installing the VS Code extension's npm packages"
  (cd "$EDITORS/vscode" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 \
    || setup_failed "npm ci in editors/vscode"
  echo "$ext_sum" > "$EDITORS/vscode/node_modules/.kload-lock"
fi

# Vim with +syntax (not vim-tiny) and Neovim.
if ! vim --version 2>/dev/null | grep -q '+syntax' || ! command -v nvim >/dev/null; then
  say "installing vim and neovim"
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq vim neovim; } >&2 \
    || setup_failed "apt-get install vim neovim"
fi

# tree-sitter-cli (the npm package downloads its binary from GitHub, so build it instead).
TREE_SITTER="$TOOLS/bin/tree-sitter"
if ! "$TREE_SITTER" --version 2>/dev/null | grep -q "$TREE_SITTER_VERSION"; then
  say "building tree-sitter-cli $TREE_SITTER_VERSION (a few minutes, once)"
  nice -n 19 cargo install tree-sitter-cli --version "$TREE_SITTER_VERSION" --locked --root "$TOOLS" >&2 \
    || setup_failed "cargo install tree-sitter-cli"
fi

# The token oracle reads grammar/kload.pest at run time; cargo rebuilds only when it changed.
CARGO_TARGET_DIR="$TOOLS/oracle-target" nice -n 10 cargo build --quiet --release --locked \
  --manifest-path "$EDITORS/tests/oracle/Cargo.toml" >&2 || setup_failed "cargo build of the token oracle"

# The language-server group runs this checkout's kload (debug build, quick after `cargo test`),
# copied out of the target directory so that another build cannot swap it mid-test.
# KLOAD_BIN=/path/to/kload uses that binary instead.
if [ -z "${KLOAD_BIN:-}" ] && { [ "$#" = 0 ] || printf '%s\n' "$@" | grep -qx lsp; }; then
  ROOT="$(dirname "$EDITORS")"
  (cd "$ROOT" && nice -n 10 cargo build --quiet --locked --bin kload) >&2 || setup_failed "cargo build of kload"
  mkdir -p "$TOOLS/bin"
  cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/kload" "$TOOLS/bin/kload-under-test"
  export KLOAD_BIN="$TOOLS/bin/kload-under-test"
fi

export KLOAD_ORACLE="$TOOLS/oracle-target/release/kload-token-oracle"
export KLOAD_TREE_SITTER="$TREE_SITTER"
export TREE_SITTER_LIBDIR="$TOOLS/tree-sitter-lib"
exec node "$EDITORS/tests/run.js" "$@"
