#!/usr/bin/env bash
# Ferrophone demo, one command: installs the SIP lab's packages (and Chromium) if missing, builds
# the extension if needed, then — inside a private network namespace that has only loopback —
# starts the lab (Kamailio on 127.0.0.1), opens Chromium with Ferrophone loaded from the repository
# root, types alice's account into the options page and shows it registered.
#
#   tests/demo.sh              a real window when $DISPLAY is set and reachable, else headless
#   DEMO_HEADLESS=1 tests/demo.sh    always headless
#
# With a window, the demo waits until you press Enter or close the browser. Headless, it saves
# screenshots in tests/artifacts/demo/ and exits. The lab is stopped at the end either way.
# Needs root (apt for the first install, and the network namespace).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -d "$HOME/.cargo/bin" ]; then PATH="$HOME/.cargo/bin:$PATH"; fi
export PATH

say() { echo "demo: $*"; }

# 1. the lab's packages and Chromium (a no-op when everything is installed)
tests/lab/lab.sh install browser

# 2. the extension, when it was never built or crates/ changed since
wasm=extension/pkg/ferrophone_web_bg.wasm
if [ ! -f "$wasm" ] || [ ! -d node_modules/playwright-core ] \
   || [ -n "$(find crates Cargo.toml Cargo.lock -newer "$wasm" -type f -print -quit)" ]; then
  say "building the extension (./build.sh)"
  ./build.sh
fi

# 3. one lab per checkout: do not start (and later stop) somebody else's, e.g. a test run's
if tests/lab/lab.sh status >/dev/null 2>&1; then
  say "a lab from this checkout is already running (a test run?): wait for it to finish, or stop it"
  say "in the namespace it was started from. Nothing was started."
  exit 1
fi

mode=headless
if [ -z "${DEMO_HEADLESS:-}" ] && [ -n "${DISPLAY:-}" ]; then mode=window-if-reachable; fi

unshare_args=(--net)
# Without root, a user namespace provides the right to configure the new network namespace.
if [ "$(id -u)" -ne 0 ]; then unshare_args+=(--map-root-user); fi
say "entering a private network namespace (only loopback: nothing leaves this computer)"
# shellcheck disable=SC2016 # expanded by the inner shell
DEMO_MODE=$mode unshare "${unshare_args[@]}" bash -c '
  set -u
  ip link set lo up || exit 1
  trap "bash tests/lab/lab.sh stop" EXIT
  trap "exit 130" INT TERM
  bash tests/lab/lab.sh start || { echo "demo: the SIP lab did not start"; exit 1; }
  args=()
  if [ "$DEMO_MODE" = window-if-reachable ]; then
    # Reachable from inside the namespace: a local X server (its socket file), not a TCP display.
    reachable=0
    if command -v xdpyinfo >/dev/null 2>&1; then
      timeout 5 xdpyinfo >/dev/null 2>&1 && reachable=1
    else
      n=${DISPLAY#*:}; n=${n%%.*}
      case $DISPLAY in :*|unix:*) [ -S "/tmp/.X11-unix/X$n" ] && reachable=1 ;; esac
    fi
    if [ $reachable = 1 ]; then
      args=(--window)
    else
      echo "demo: DISPLAY=$DISPLAY is not reachable from the namespace: running headless"
    fi
  fi
  node tests/demo.mjs "${args[@]}"
'
