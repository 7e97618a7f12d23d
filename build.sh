#!/usr/bin/env bash
# Builds Ferrophone into a folder Chrome loads unpacked: the repository root.
#
#   ./build.sh            install what is missing, build the wasm, generate extension/pkg
#   SKIP_WASM_OPT=1 ./build.sh   same, without the (optional, ~10 s) wasm-opt pass
#
# Idempotent, runs from any directory. Installs only what is missing: the wasm32 target, the
# wasm-bindgen CLI at exactly the version crates/web pins, and the npm test tooling.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
if [ -d "$HOME/.cargo/bin" ]; then PATH="$HOME/.cargo/bin:$PATH"; fi

TARGET=wasm32-unknown-unknown
CRATE=ferrophone-web
WASM="target/$TARGET/release/ferrophone_web.wasm"
PKG=extension/pkg

step_start=$(date +%s)
step() {
  local now
  now=$(date +%s)
  printf '==> %s (+%ss)\n' "$*" "$((now - step_start))"
}
die() {
  echo "build.sh: $*" >&2
  exit 1
}

command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first"
command -v node >/dev/null || die "node not found: install Node.js 20 or newer first"

# --- toolchain ------------------------------------------------------------------------------------
if command -v rustup >/dev/null; then
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    step "rustup target add $TARGET"
    rustup target add "$TARGET"
  fi
fi

# The CLI must be exactly the version the crate pins (wasm-bindgen = "=x.y.z").
WB_VERSION=$(sed -n 's/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' crates/web/Cargo.toml | head -n 1)
[ -n "$WB_VERSION" ] || die 'cannot read the wasm-bindgen pin (wasm-bindgen = "=x.y.z") from crates/web/Cargo.toml'
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WB_VERSION (takes ~10 min the first time)"
  # No --locked: the CLI's lockfile pins a crate version the registry mirror does not serve.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# --- npm test tooling (playwright-core, typescript, binaryen) ----------------------------------------
if [ -f package-lock.json ]; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
    || [ package.json -nt node_modules/.package-lock.json ]; then
    step "npm ci"
    npm ci --no-audit --no-fund
  fi
elif [ ! -d node_modules ]; then
  step "npm install"
  npm install --no-audit --no-fund
fi

# --- build --------------------------------------------------------------------------------------
step "cargo build -p $CRATE --release --target $TARGET"
# Panic locations name source files: ship them relative (crates/…, registry crates by name), never
# this machine's paths.
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$ROOT/= --remap-path-prefix=$CARGO_HOME_DIR/registry/src/="
cargo build -p "$CRATE" --release --target "$TARGET"

step "wasm-bindgen --target web -> $PKG"
rm -rf "$PKG"
wasm-bindgen --target web --no-typescript --out-dir "$PKG" "$WASM"

# Only npm's binaryen: Debian's (108) produces a module that fails to load. -Oz measured best
# (issue 13, docs/BENCH.md): -Os, --converge, a second -Oz and extra --enable-* flags each change
# the gzip size by under 0.1 KB, and cost seconds.
if [ "${SKIP_WASM_OPT:-0}" != 1 ] && [ -x node_modules/.bin/wasm-opt ]; then
  step "wasm-opt -Oz"
  BEFORE_OPT="$(wc -c <"$PKG/ferrophone_web_bg.wasm") bytes raw, $(gzip -9c "$PKG/ferrophone_web_bg.wasm" | wc -c) bytes gzip"
  node_modules/.bin/wasm-opt -Oz "$PKG/ferrophone_web_bg.wasm" -o "$PKG/ferrophone_web_bg.opt.wasm"
  mv "$PKG/ferrophone_web_bg.opt.wasm" "$PKG/ferrophone_web_bg.wasm"
else
  step "wasm-opt skipped"
fi

# --- report -------------------------------------------------------------------------------------
size() {
  printf '%-34s %8s bytes raw %8s bytes gzip\n' "$1" "$(wc -c <"$1")" "$(gzip -9c "$1" | wc -c)"
}
step "done"
echo "Sizes:"
size "$PKG/ferrophone_web_bg.wasm"
if [ -n "${BEFORE_OPT:-}" ]; then echo "  (before wasm-opt: $BEFORE_OPT)"; fi
size "$PKG/ferrophone_web.js"
echo "Load this folder unpacked: $ROOT"
