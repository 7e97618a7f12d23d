#!/usr/bin/env bash
# Ferrophone's one test command: every suite, in order. Exits non-zero if any step fails.
#
#   tests/run.sh                 fmt, clippy, cargo test, JS check, browser end-to-end
#   tests/run.sh clippy e2e      only the named steps (fmt clippy test js e2e)
#   E2E_SPECS="tests/e2e/options-validation.test.mjs" tests/run.sh e2e    one spec
#
# The end-to-end step needs a built extension (./build.sh) and runs inside a private network
# namespace that has only loopback: nothing a test starts can reach or be reached from outside.
# If tests/lab/lab.sh exists, the SIP lab is started inside that namespace before the browser
# tests and stopped after them, whatever happened.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
if [ -d "$HOME/.cargo/bin" ]; then PATH="$HOME/.cargo/bin:$PATH"; fi
export PATH

ALL_STEPS=(fmt clippy test js e2e)
if [ "$#" -gt 0 ]; then STEPS=("$@"); else STEPS=("${ALL_STEPS[@]}"); fi

step_fmt() { cargo fmt --all --check; }

step_clippy() { cargo clippy --workspace --all-targets -- -D warnings; }

step_test() { cargo test --workspace --no-fail-fast; }

step_js() {
  # checkJs is per file (`// @ts-check`), so the generated wasm-bindgen glue is not checked:
  # make sure none of our files lost its pragma.
  local missing
  missing=$(grep -L '^// @ts-check' extension/*.js tests/e2e/*.mjs || true)
  if [ -n "$missing" ]; then
    echo "these files lack '// @ts-check' on their first line:"
    echo "$missing"
    return 1
  fi
  node_modules/.bin/tsc -p jsconfig.json && echo "tsc: no errors"
}

step_e2e() {
  # One lab per checkout: its pidfiles and traces live in tests/lab/. Concurrent runs in the
  # same checkout (two terminals, two agents) wait for each other instead of stopping each
  # other's lab.
  mkdir -p tests/artifacts
  exec 9>tests/artifacts/.e2e.lock
  if ! flock -n 9; then
    echo "another end-to-end run holds tests/artifacts/.e2e.lock; waiting for it"
    flock 9
  fi
  if [ ! -f extension/pkg/ferrophone_web_bg.wasm ]; then
    echo "extension/pkg is missing: run ./build.sh first"
    return 1
  fi
  if [ -n "$(find crates Cargo.toml Cargo.lock -newer extension/pkg/ferrophone_web_bg.wasm -type f -print -quit)" ]; then
    echo "warning: crates/ changed after the last ./build.sh; the browser tests use the older build"
  fi
  local unshare_args=(--net)
  # Without root, a user namespace provides the right to configure the new network namespace.
  if [ "$(id -u)" -ne 0 ]; then unshare_args+=(--map-root-user); fi
  # shellcheck disable=SC2016 # expanded by the inner shell
  E2E_SPECS="${E2E_SPECS:-tests/e2e/}" unshare "${unshare_args[@]}" bash -c '
    set -u
    ip link set lo up || exit 1
    lab=tests/lab/lab.sh
    if [ -f "$lab" ]; then
      trap "bash $lab stop" EXIT
      bash "$lab" start || { echo "the SIP lab did not start"; exit 1; }
    fi
    # shellcheck disable=SC2086 # E2E_SPECS is a list of paths
    node --test --test-concurrency=1 --test-timeout=180000 $E2E_SPECS
  '
}

declare -A RESULT
declare -A SECS
failed=0
for step in "${STEPS[@]}"; do
  if ! declare -F "step_$step" >/dev/null; then
    echo "tests/run.sh: unknown step '$step' (steps: ${ALL_STEPS[*]})" >&2
    exit 2
  fi
  echo
  echo "===== $step ====="
  start=$(date +%s)
  if "step_$step"; then RESULT[$step]=ok; else RESULT[$step]=FAILED; failed=1; fi
  SECS[$step]=$(($(date +%s) - start))
done

echo
echo "===== summary ====="
for step in "${STEPS[@]}"; do
  printf '%-8s %-7s %4ss\n' "$step" "${RESULT[$step]}" "${SECS[$step]}"
done
if [ "$failed" -ne 0 ]; then
  echo "tests/run.sh: FAILED"
  exit 1
fi
echo "tests/run.sh: all steps passed"
