#!/bin/bash
# Print the live (not expired) contacts registered for an AoR, one line each:
#   contact=<uri> instance=<+sip.instance> reg-id=<n> received=<uri> expires=<s> call-id=<id> cseq=<n> tcpconn-id=<n>
# Fields that are not set print as "-". Nothing is printed when there is no contact.
#   contacts.sh <user> [sha]     e.g. contacts.sh alice        (MD5 instance, udp 5060)
#                                     contacts.sh alice sha    (SHA-256 instance, udp 5066)
#   contacts.sh --all [sha]      every AoR, each line prefixed with aor=<user>
# The registrar stores AoRs by user name only (usrloc use_domain=0).
# Exit status: 0 (even with no contact), 2 when the lab is not running.
set -u
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
[ $# -ge 1 ] || { echo "usage: $0 <user>|--all [sha]" >&2; exit 2; }
user=$1
[ "${2:-}" = "sha" ] && inst=sha || inst=
dump=$("$LAB/kamcmd.sh" $inst ul.dump) || exit 2
printf '%s\n' "$dump" | awk -v want="$user" '
  function val(line) { sub(/^[^:]*:[ \t]*/, "", line); if (line == "[not set]" || line == "") line = "-"; gsub(/[ \t]/, "_", line); return line }
  function flush() {
    if (!inc) return
    if (ex != "permanent" && !(ex + 0 > 0)) { inc = 0; return }
    pre = (want == "--all") ? "aor=" aor " " : ""
    printf "%scontact=%s instance=%s reg-id=%s received=%s expires=%s call-id=%s cseq=%s tcpconn-id=%s\n", pre, addr, inst, regid, recv, ex, cid, cseq, tcid
    inc = 0
  }
  { gsub(/^[ \t]+|[ \t]+$/, "") }
  /^AoR:/        { flush(); aor = val($0); next }
  /^Contact: \{/ { flush(); inc = (want == "--all" || aor == want); addr = inst = regid = recv = ex = cid = cseq = tcid = "-"; next }
  /^Address:/    { addr = val($0); next }
  /^Expires:/    { ex = val($0); next }
  /^Call-ID:/    { cid = val($0); next }
  /^CSeq:/       { cseq = val($0); next }
  /^Received:/   { recv = val($0); next }
  /^Instance:/   { inst = val($0); next }
  /^Reg-Id:/     { regid = val($0); next }
  /^Tcpconn-Id:/ { tcid = val($0); flush(); next }
  END { flush() }
'
