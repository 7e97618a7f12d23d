#!/bin/bash
# Run kamcmd against one of the lab's Kamailio instances.
#   kamcmd.sh [sha] [command [args...]]      (default command: ul.dump)
# Examples:
#   tests/lab/kamcmd.sh                        # ul.dump of the MD5 instance (udp 5060, ws 8080, wss 8443)
#   tests/lab/kamcmd.sh sha                    # ul.dump of the SHA-256 instance (udp 5066, ws 8081, wss 8444)
#   tests/lab/kamcmd.sh ul.lookup location alice
#   tests/lab/kamcmd.sh sha core.uptime
# Equivalent to: kamcmd -s unix:tests/lab/run/kamailio_ctl ul.dump   (kamailio-sha_ctl for sha)
set -u
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
name=kamailio
if [ "${1:-}" = "sha" ]; then name=kamailio-sha; shift; fi
sock=$LAB/run/${name}_ctl
[ -S "$sock" ] || { echo "kamcmd.sh: no control socket $sock (lab not started?)" >&2; exit 2; }
[ $# -gt 0 ] || set -- ul.dump
exec kamcmd -s "unix:$sock" "$@"
