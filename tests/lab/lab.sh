#!/bin/bash
# Ferrophone SIP test lab, everything on 127.0.0.1 (see docs/LAB.md):
#   Kamailio "kamailio"     MD5 digest      udp 5060  ws 8080  wss 8443
#   Kamailio "kamailio-sha" SHA-256 digest  udp 5066  ws 8081  wss 8444
#   rtpengine (ng 127.0.0.1:2223, RTP 30000-30199, userspace only)
#   baresip "bob" (udp 5062, ctrl_tcp 4444, auto-answer, sends 1 kHz, records to rec/bob)
#
# Usage: lab.sh install [browser] | start | stop | status | selftest
#              | kamailio-stop [sha] | kamailio-start [sha] | kamailio-pause [sha] | kamailio-resume [sha]
#              | bob-restart
#   (fault injection for tests: stop/start or freeze/thaw one Kamailio instance of a running lab)
#
# Meant to run inside a private network namespace with only loopback:
#   unshare --net bash -c 'ip link set lo up; tests/lab/lab.sh start && ...; tests/lab/lab.sh stop'
# `stop` must run in the same namespace as `start` (it only kills the pids `start` recorded).
set -u

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
RUN=$LAB/run
LOG=$LAB/logs
TRACE=$LAB/trace
REC=$LAB/rec
CERTS=$LAB/certs
GEN=$LAB/generated

# Debian packages the lab needs (not the `rtpengine` metapackage: it pulls dkms + a kernel module).
PKGS="kamailio kamailio-websocket-modules kamailio-tls-modules rtpengine-daemon baresip-core \
sip-tester sox openssl iproute2 bc procps python3"
BROWSER_PKGS="chromium chromium-driver"
PY=/usr/bin/python3   # pitfall 9: never a pyenv shim

# instance table: name udp ws wss algorithm
INSTANCES="kamailio:5060:8080:8443:MD5 kamailio-sha:5066:8081:8444:SHA-256"
TRUNK_PORT=5070
OUTBOUND_MODE=${LAB_OUTBOUND_MODE:-0}     # registrar outbound_mode (docs/LAB.md)
NONCE_EXPIRE=${LAB_NONCE_EXPIRE:-300}     # digest nonce lifetime, seconds

now_ms() { date +%s%3N; }
elapsed() { local t=$(( $(now_ms) - $1 )); printf '%d.%03ds' $((t / 1000)) $((t % 1000)); }
say() { echo "lab: $*"; }

# ---------------------------------------------------------------- install
pkgs_missing() { # prints the packages of "$@" that are not fully installed
  local p st
  for p in "$@"; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
    [ "${st:0:2}" = "ii" ] || echo "$p"
  done
}

install() {
  local t0 want missing made_policy=0
  t0=$(now_ms)
  want="$PKGS"
  command -v node >/dev/null 2>&1 || want="$want nodejs"
  [ "${1:-}" = "browser" ] && want="$want $BROWSER_PKGS"
  # shellcheck disable=SC2086
  missing=$(pkgs_missing $want | tr '\n' ' ')
  if [ -z "${missing// /}" ]; then
    say "all packages already installed ($(elapsed "$t0"))"
  else
    [ "$(id -u)" = 0 ] || { say "apt install needs root (missing: $missing)"; return 1; }
    say "installing: $missing"
    # keep Debian from starting the packaged kamailio/rtpengine services (stock configs, 0.0.0.0)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
      made_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT INT TERM
    fi
    local rc=0
    apt-get update -q || rc=$?
    # shellcheck disable=SC2086
    [ $rc = 0 ] && { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || rc=$?; }
    if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT INT TERM; fi
    [ $rc = 0 ] || { say "apt failed ($rc)"; return 1; }
    say "apt done in $(elapsed "$t0")"
  fi
  # pitfall 8: on systemd hosts the packaged services must not run
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now kamailio rtpengine-daemon >/dev/null 2>&1 || true
  fi
  assets || return 1
  say "install total $(elapsed "$t0")"
}

# ---------------------------------------------------------------- generated files
assets() { # tones and certificate, only when missing
  mkdir -p "$RUN" "$LOG" "$TRACE" "$REC/bob" "$CERTS" "$GEN"
  if [ ! -s "$CERTS/cert.pem" ] || [ ! -s "$CERTS/key.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" >/dev/null 2>&1 \
      || { say "openssl failed"; return 1; }
  fi
  # bob's source: 48 kHz mono, 5 min (aufile does not loop)
  [ -s "$GEN/tone1k_48k.wav" ] || sox -n -r 48000 -c 1 -b 16 "$GEN/tone1k_48k.wav" synth 300 sine 1000 vol 0.5 \
    || { say "sox failed"; return 1; }
  # a known tone for the browser's fake microphone (chromium --use-file-for-fake-audio-capture)
  [ -s "$GEN/tone440_48k.wav" ] || sox -n -r 48000 -c 1 -b 16 "$GEN/tone440_48k.wav" synth 60 sine 440 vol 0.5 \
    || { say "sox failed"; return 1; }
  # sipp rtp_stream: raw PCMU (G.711 u-law) 8 kHz mono
  [ -s "$GEN/tone1k.ulaw" ] || sox -n -r 8000 -c 1 -t ul "$GEN/tone1k.ulaw" synth 60 sine 1000 vol 0.5 \
    || { say "sox failed"; return 1; }
  return 0
}

mpath() {
  local f
  for f in /usr/lib/*/kamailio/modules/tm.so /usr/lib/kamailio/modules/tm.so /usr/lib64/kamailio/modules/tm.so; do
    [ -f "$f" ] && { dirname "$f"; return 0; }
  done
  return 1
}

render() { # template -> output, placeholders given as KEY=VALUE args
  local in=$1 out=$2 kv expr=()
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$in" > "$out.tmp" && mv "$out.tmp" "$out"
  if grep -q '@[A-Z_]*@' "$out"; then say "unreplaced placeholder in $out"; return 1; fi
}

render_all() {
  local mp inst name udp ws wss algo f
  mp=$(mpath) || { say "kamailio modules not found (run: lab.sh install)"; return 1; }
  mkdir -p "$GEN/baresip-bob" "$GEN/sipp"
  render "$LAB/kamailio/tls.cfg.in" "$GEN/tls.cfg" "LAB=$LAB" || return 1
  for inst in $INSTANCES; do
    IFS=: read -r name udp ws wss algo <<< "$inst"
    render "$LAB/kamailio/kamailio.cfg.in" "$GEN/$name.cfg" "LAB=$LAB" "MPATH=$mp/" "NAME=$name" \
      "UDP_PORT=$udp" "WS_PORT=$ws" "WSS_PORT=$wss" "AUTH_ALGO=$algo" \
      "OUTBOUND_MODE=$OUTBOUND_MODE" "TRUNK_PORT=$TRUNK_PORT" "NONCE_EXPIRE=$NONCE_EXPIRE" || return 1
  done
  render "$LAB/baresip/bob/config.in" "$GEN/baresip-bob/config" "LAB=$LAB" || return 1
  cp "$LAB/baresip/bob/accounts" "$LAB/baresip/bob/contacts" "$GEN/baresip-bob/"
  for f in "$LAB"/sipp/*.xml; do
    render "$f" "$GEN/sipp/$(basename "$f")" "LAB=$LAB" || return 1
  done
}

# ---------------------------------------------------------------- processes
# run/<name>.pid holds the pid of a process the lab (or a test) started; the expected command
# name is the part of <name> before the first '-' (baresip-bob -> baresip, kamailio-sha -> kamailio,
# sipp-carol -> sipp). Nothing else is ever killed.
running() { # pid -> 0 if it exists and is not a zombie (an exited child waiting to be reaped
  # by a slow init still answers kill -0, but has released its sockets)
  local st
  st=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ]
}

pid_alive() { # pidfile -> 0 if the recorded process is alive and is what we started
  local f=$1 p comm want i
  [ -s "$f" ] || return 1
  p=$(cat "$f")
  [[ $p =~ ^[0-9]+$ ]] || return 1
  running "$p" || return 1
  want=$(basename "$f" .pid); want=${want%%-*}
  # right after `cmd &` the child is still the forked shell (comm "bash") until it execs
  for i in $(seq 1 50); do
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || return 1
    [ "$comm" = "$want" ] && return 0
    case $comm in bash|sh|nohup|setsid) sleep 0.02 ;; *) return 1 ;; esac
  done
  return 1
}

stop_one() { # pidfile
  local f=$1 p kids i comm
  if pid_alive "$f"; then
    p=$(cat "$f")
    comm=$(cat "/proc/$p/comm" 2>/dev/null)
    kids=$(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')
    kill -TERM "$p" 2>/dev/null
    for i in $(seq 1 150); do running "$p" || break; sleep 0.02; done
    # baresip ends calls and un-registers on the first SIGTERM; a second one makes it quit now
    running "$p" && kill -TERM "$p" 2>/dev/null
    for i in $(seq 1 50); do running "$p" || break; sleep 0.02; done
    if running "$p"; then
      say "$(basename "$f" .pid) ($p) ignored SIGTERM, sending SIGKILL"
      kill -KILL "$p" 2>/dev/null
    fi
    # children of a process we started (kamailio workers) must not outlive it
    for i in $kids; do
      running "$i" && [ "$(cat "/proc/$i/comm" 2>/dev/null)" = "$comm" ] && kill -KILL "$i" 2>/dev/null
    done
    for i in $(seq 1 100); do running "$p" || break; sleep 0.02; done
  fi
  rm -f "$f"
}

stop() {
  local f
  mkdir -p "$RUN"
  # callers first, then the proxies, then the media relay
  for f in "$RUN"/sipp*.pid "$RUN"/baresip*.pid "$RUN"/kamailio*.pid "$RUN"/rtpengine*.pid "$RUN"/*.pid; do
    [ -e "$f" ] && stop_one "$f"
  done
  rm -f "$RUN"/kamailio*_ctl "$RUN"/*.kpid
  say "stopped"
}

wait_listen() { # proto(u|t) port timeout_s
  local i
  for i in $(seq 1 $(( $3 * 50 ))); do
    ss -Hln"$1" "sport = :$2" 2>/dev/null | grep -q "127.0.0.1:$2" && return 0
    sleep 0.02
  done
  return 1
}

fail_start() { # message logfile
  say "$1"
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 15 "$2" | sed 's/^/    /'
  stop >/dev/null
  return 1
}

start() {
  local t0 f inst name udp ws wss algo i p
  t0=$(now_ms)
  for f in kamailio rtpengine baresip sipp kamcmd sox openssl ss; do
    command -v "$f" >/dev/null 2>&1 || { say "$f not found (run: lab.sh install)"; return 1; }
  done
  # already running? then nothing to do; leftovers of a half-started lab are stopped first
  if pid_alive "$RUN/rtpengine.pid" && pid_alive "$RUN/kamailio.pid" \
     && pid_alive "$RUN/kamailio-sha.pid" && pid_alive "$RUN/baresip-bob.pid"; then
    say "already running"
    return 0
  fi
  if [ ${#RUN} -gt 85 ]; then   # unix socket paths are limited to 107 bytes
    say "lab directory path too long for Kamailio's control socket: $RUN"; return 1
  fi
  if ip -o link show 2>/dev/null | grep -qv ': lo:'; then
    say "note: not in a private network namespace (see docs/LAB.md); binding 127.0.0.1 only anyway"
  fi
  stop >/dev/null
  assets || return 1
  render_all || return 1
  # every start begins with empty traces, recordings and logs
  rm -f "$REC"/bob/*.wav "$TRACE"/* "$RUN"/kamailio*_ctl "$RUN"/*.kpid
  : > "$LOG/rtpengine.log"; : > "$LOG/baresip-bob.log"; rm -f "$LOG/baresip-bob.prev.log"

  # 1. rtpengine, userspace only (pitfall 3); $! is rtpengine itself (the subshell execs it)
  rtpengine --config-file=none --table=-1 --interface=127.0.0.1 \
    --listen-ng=127.0.0.1:2223 --port-min=30000 --port-max=30199 \
    --foreground --log-stderr --log-level=6 --delete-delay=0 \
    > "$LOG/rtpengine.log" 2>&1 < /dev/null &
  echo $! > "$RUN/rtpengine.pid"

  # 2. both Kamailio instances (pitfall 4: -DD -E, and kamailio writes its own pidfile)
  for inst in $INSTANCES; do
    IFS=: read -r name udp ws wss algo <<< "$inst"
    : > "$LOG/$name.log"
    kamailio -f "$GEN/$name.cfg" -DD -E -Y "$RUN" -P "$RUN/$name.kpid" -m 64 -M 8 \
      > "$LOG/$name.log" 2>&1 < /dev/null &
    echo $! > "$RUN/$name.pid"
  done

  wait_listen u 2223 5 || fail_start "rtpengine failed to listen on 127.0.0.1:2223" "$LOG/rtpengine.log" || return 1
  for inst in $INSTANCES; do
    IFS=: read -r name udp ws wss algo <<< "$inst"
    { wait_listen u "$udp" 10 && wait_listen t "$ws" 5 && wait_listen t "$wss" 5; } \
      || fail_start "$name failed to listen on udp $udp / ws $ws / wss $wss" "$LOG/$name.log" || return 1
    pid_alive "$RUN/$name.pid" || fail_start "$name exited" "$LOG/$name.log" || return 1
    for i in $(seq 1 100); do [ -S "$RUN/${name}_ctl" ] && break; sleep 0.02; done
  done
  say "rtpengine + kamailio (md5, sha-256) up $(elapsed "$t0")"

  # 3. baresip bob (registers over UDP with the MD5 instance, auto-answers)
  start_bob || return 1
  say "bob registered; lab started in $(elapsed "$t0")"
}

start_bob() {
  local i
  baresip -f "$GEN/baresip-bob" > "$LOG/baresip-bob.log" 2>&1 < /dev/null &
  echo $! > "$RUN/baresip-bob.pid"
  for i in $(seq 1 250); do
    grep -q '200 OK' "$LOG/baresip-bob.log" && break
    pid_alive "$RUN/baresip-bob.pid" || break
    sleep 0.02
  done
  grep -q '200 OK' "$LOG/baresip-bob.log" || fail_start "bob did not register" "$LOG/baresip-bob.log" || return 1
  wait_listen t 4444 5 || fail_start "bob's ctrl_tcp is not listening" "$LOG/baresip-bob.log" || return 1
}

# A fresh bob: baresip 1.0 keeps state from transfers (REFER subscriptions, replaced calls) that
# has crashed it minutes later (segfault in libre during a proxy outage); specs that make bob go
# through a transfer start a new process for the specs after them. The old log is appended to
# logs/baresip-bob.prev.log.
bob_restart() {
  local t0
  t0=$(now_ms)
  stop_one "$RUN/baresip-bob.pid"
  [ -f "$LOG/baresip-bob.log" ] && cat "$LOG/baresip-bob.log" >> "$LOG/baresip-bob.prev.log"
  "$LAB/kamcmd.sh" ul.rm location bob >/dev/null 2>&1 || true
  start_bob || return 1
  say "bob restarted and registered ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------- status
status() {
  local f p pids="" inst name udp ws wss algo
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    if pid_alive "$f"; then
      printf '  %-14s pid %s\n' "$(basename "$f" .pid)" "$(cat "$f")"
      pids="$pids|pid=$(cat "$f"),"
      for p in $(pgrep -P "$(cat "$f")"); do pids="$pids|pid=$p,"; done
    else
      printf '  %-14s DEAD (stale pidfile)\n' "$(basename "$f" .pid)"
    fi
  done
  [ -z "$pids" ] && { say "not running"; return 1; }
  echo "listening sockets:"
  ss -Hlntup 2>/dev/null | grep -E "${pids#|}" | awk '{ printf "  %-4s %-22s %s\n", $1, $5, $7 }' \
    | sed -E 's/users:\(\("([^"]+)",pid=([0-9]+).*/\1 (\2)/' | sort -u
  for inst in $INSTANCES; do
    IFS=: read -r name udp ws wss algo <<< "$inst"
    echo "registrations on $name ($algo, udp $udp, ws $ws, wss $wss):"
    if [ -S "$RUN/${name}_ctl" ]; then
      local sha=""; [ "$name" = kamailio-sha ] && sha=sha
      "$LAB/contacts.sh" --all $sha | awk '{ n[$1]++; if (!($1 in first)) { first[$1]=$2; order[++k]=$1 } }
        END { if (!k) print "  (none)"; for (i=1;i<=k;i++) { a=order[i]; sub(/^aor=/,"",a); printf "  %-8s %d contact(s), first %s\n", a, n[order[i]], first[order[i]] } }'
    else
      echo "  (no control socket)"
    fi
  done
}

# ---------------------------------------------------------------- fault injection (one Kamailio)
# For tests that need "the server is down" or "the server hangs": act on one instance of a
# running lab, by its pidfile only. `sha` selects kamailio-sha, otherwise the MD5 instance.
instance() { # [sha] -> prints "name:udp:ws:wss:algo" of the chosen instance
  local want=kamailio inst
  [ "${1:-}" = "sha" ] && want=kamailio-sha
  [ -z "${1:-}" ] || [ "$1" = "sha" ] || { say "unknown instance '$1' (expected: sha or nothing)"; return 2; }
  for inst in $INSTANCES; do
    [ "${inst%%:*}" = "$want" ] && { echo "$inst"; return 0; }
  done
  return 1
}

wait_closed() { # proto(u|t) port timeout_s
  local i
  for i in $(seq 1 $(( $3 * 50 ))); do
    ss -Hln"$1" "sport = :$2" 2>/dev/null | grep -q "127.0.0.1:$2" || return 0
    sleep 0.02
  done
  return 1
}

kamailio_stop() { # [sha]
  local inst name udp ws wss algo t0
  inst=$(instance "${1:-}") || return 2
  IFS=: read -r name udp ws wss algo <<< "$inst"
  t0=$(now_ms)
  pid_alive "$RUN/$name.pid" || { say "$name is not running"; return 1; }
  kamailio_signal SIGCONT "${1:-}" >/dev/null   # a paused instance cannot act on SIGTERM
  stop_one "$RUN/$name.pid"
  rm -f "$RUN/${name}_ctl" "$RUN/$name.kpid"
  { wait_closed u "$udp" 5 && wait_closed t "$ws" 5 && wait_closed t "$wss" 5; } \
    || { say "$name stopped but its ports are still bound"; return 1; }
  say "$name stopped ($(elapsed "$t0")); its registrations are gone with it (in-memory usrloc)"
}

kamailio_start() { # [sha]
  local inst name udp ws wss algo t0 i
  inst=$(instance "${1:-}") || return 2
  IFS=: read -r name udp ws wss algo <<< "$inst"
  t0=$(now_ms)
  if pid_alive "$RUN/$name.pid"; then say "$name is already running"; return 0; fi
  [ -f "$GEN/$name.cfg" ] || { say "no generated config for $name (run: lab.sh start)"; return 1; }
  rm -f "$RUN/${name}_ctl" "$RUN/$name.kpid"
  # the log is appended to (not cleared): a test may search the whole run's logs
  echo "---- lab.sh kamailio-start $(date -u +%FT%TZ)" >> "$LOG/$name.log"
  kamailio -f "$GEN/$name.cfg" -DD -E -Y "$RUN" -P "$RUN/$name.kpid" -m 64 -M 8 \
    >> "$LOG/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
  { wait_listen u "$udp" 10 && wait_listen t "$ws" 5 && wait_listen t "$wss" 5; } \
    || { say "$name failed to listen on udp $udp / ws $ws / wss $wss"; tail -n 15 "$LOG/$name.log" | sed 's/^/    /'; stop_one "$RUN/$name.pid"; return 1; }
  pid_alive "$RUN/$name.pid" || { say "$name exited"; tail -n 15 "$LOG/$name.log" | sed 's/^/    /'; return 1; }
  for i in $(seq 1 100); do [ -S "$RUN/${name}_ctl" ] && break; sleep 0.02; done
  [ -S "$RUN/${name}_ctl" ] || { say "$name has no control socket"; return 1; }
  say "$name started, listening on udp $udp / ws $ws / wss $wss ($(elapsed "$t0"))"
  # bob registers on the MD5 instance; its binding died with the old process: register it again
  # (baresip 1.0 has no "register now" command, so its user agent is re-created).
  if [ "$name" = kamailio ] && pid_alive "$RUN/baresip-bob.pid"; then
    bob_reregister || return 1
    say "bob registered again ($(elapsed "$t0"))"
  fi
}

bob_reregister() {
  local node account i
  node=$(command -v node) || { say "node not found"; return 1; }
  account=$(grep -v '^#' "$GEN/baresip-bob/accounts" | grep -m1 '^<sip:')
  "$node" "$LAB/bob.mjs" cmd uadel "sip:bob@127.0.0.1" >/dev/null 2>&1
  "$node" "$LAB/bob.mjs" cmd uanew "$account" >/dev/null 2>&1 || { say "bob: uanew failed"; return 1; }
  for i in $(seq 1 250); do
    [ -n "$("$LAB/contacts.sh" bob 2>/dev/null)" ] && return 0
    sleep 0.02
  done
  say "bob did not register again"; return 1
}

kamailio_signal() { # SIGSTOP|SIGCONT [sha]: the main process and its kamailio children
  local sig=$1 inst name udp ws wss algo p pids k
  inst=$(instance "${2:-}") || return 2
  IFS=: read -r name udp ws wss algo <<< "$inst"
  pid_alive "$RUN/$name.pid" || { say "$name is not running"; return 1; }
  p=$(cat "$RUN/$name.pid")
  pids=$p
  for k in $(pgrep -P "$p"); do
    [ "$(cat "/proc/$k/comm" 2>/dev/null)" = kamailio ] && pids="$pids $k"
  done
  # shellcheck disable=SC2086
  kill -"${sig#SIG}" $pids || return 1
  if [ "$sig" = SIGSTOP ]; then
    say "$name paused (SIGSTOP to pids $pids): it accepts nothing and answers nothing until kamailio-resume"
  else
    say "$name resumed (SIGCONT to pids $pids)"
  fi
}

selftest() {
  local node
  node=$(command -v node) || { say "node not found"; return 1; }
  [ -S "$RUN/kamailio_ctl" ] && [ -S "$RUN/kamailio-sha_ctl" ] \
    || { say "the lab is not running here (run: lab.sh start, in the same network namespace)"; return 1; }
  "$node" "$LAB/selftest.mjs"
}

case "${1:-}" in
  install) install "${2:-}" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  selftest) selftest ;;
  kamailio-stop) kamailio_stop "${2:-}" ;;
  kamailio-start) kamailio_start "${2:-}" ;;
  kamailio-pause) kamailio_signal SIGSTOP "${2:-}" ;;
  kamailio-resume) kamailio_signal SIGCONT "${2:-}" ;;
  bob-restart) bob_restart ;;
  *) echo "usage: $0 install [browser] | start | stop | status | selftest" \
       "| kamailio-stop [sha] | kamailio-start [sha] | kamailio-pause [sha] | kamailio-resume [sha] | bob-restart" >&2; exit 2 ;;
esac
