#!/usr/bin/env bash
# The agent as conf/peerwalld.service runs it, without systemd as PID 1:
# NOTIFY_SOCKET points at a datagram socket this test reads (what systemd
# does for Type=notify), WATCHDOG_USEC is set as WatchdogSec= sets it, and
# the agent runs with exactly the unit's CapabilityBoundingSet (setpriv),
# in a network namespace on a veth, the same shape as tests/netns/agent.sh.
#
# Asserts: READY=1 arrives, and only once the control socket answers;
# WATCHDOG=1 keeps coming from the tick (and never without WATCHDOG_USEC);
# SIGHUP gives RELOADING=1 then READY=1; SIGTERM gives STOPPING=1 and a
# clean exit; a restart after SIGKILL re-adopts the attached program with
# the unit's capabilities (the reason CAP_SYS_ADMIN is in the set).
set -uo pipefail
. "$(dirname "$0")/../netns/lib.sh"
pwt_guard notify.sh PWT_RUNNING
pwt_init
unit=$root/conf/peerwalld.service
H=pws-host-$$
nsock=$tmp/notify.sock
lis=
pwt_xdp_devs=pw0
cleanup() {
	[ -n "$lis" ] && kill "$lis" 2>/dev/null
	pwt_cleanup
}
pwt_trap

# The unit's bounding set in setpriv's syntax: CAP_BPF CAP_NET_ADMIN -> +bpf,+net_admin
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | grep . |
	sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -)
[ -n "$caps" ] || { echo "notify.sh: no CapabilityBoundingSet in $unit" >&2; exit 1; }
echo "ship: unit capabilities: $caps"

# Every datagram on the notify socket, one line each: "<monotonic s> <payload with \n as |>".
python3 - "$nsock" "$tmp/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        out.write("%.3f %s\n" % (time.monotonic(), msg.replace("\n", "|")))
PY
lis=$!
for _ in $(seq 50); do [ -S "$nsock" ] && break; sleep 0.1; done

pwt_pair "$H" pw0 "$H-p" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24
pwt_addrs "$H-p" pw1

pwt_conf "$tmp/pw.conf"

# start [ENV=VALUE...]: the agent as the unit runs it (bounding set, notify
# socket), env added; returns once READY=1 arrived (or fails after 5 s).
start() {
	: >"$tmp/notify.log"
	env NOTIFY_SOCKET="$nsock" "$@" \
		nsenter --net=/run/netns/"$H" setpriv --bounding-set=-all,"$caps" --inh-caps=-all -- \
		"$D" -c "$tmp/pw.conf" -f >>"$tmp/agent.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		grep -q 'READY=1' "$tmp/notify.log" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
count() { grep -c -- "$1" "$tmp/notify.log"; }
# the first line matching $1 comes before the first matching $2
before() { local a b; a=$(grep -n -- "$1" "$tmp/notify.log" | head -1 | cut -d: -f1); b=$(grep -n -- "$2" "$tmp/notify.log" | head -1 | cut -d: -f1); [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; }
status_line() { grep -q 'READY=1|STATUS=enforcing on 1 interface(s), config [0-9a-f]\{16\}' "$tmp/notify.log"; }

echo "ship: sd_notify under the unit's capabilities"
check "READY=1 arrives (agent up under the unit's bounding set)" start WATCHDOG_USEC=2000000
ctl_ok() { ctl status >/dev/null; }
check "control socket answers as soon as READY=1 is seen" ctl_ok
check "READY=1 carries a status line" status_line
sleep 3.2
wd=$(count 'WATCHDOG=1')
check "watchdog pinged from the tick ($wd pings in ~3 s, tick 1 s, WatchdogSec 2 s)" test "$wd" -ge 2 -a "$wd" -le 6
check "watchdog interval logged" grep -q 'systemd watchdog: 2000 ms, pinged from the tick' "$tmp/agent.log"
: >"$tmp/notify.log"
kill -HUP "$pid"
sleep 0.5
check "SIGHUP: RELOADING=1 then READY=1" before 'RELOADING=1' 'READY=1'
check "RELOADING=1 carries MONOTONIC_USEC" grep -q 'RELOADING=1|MONOTONIC_USEC=[0-9]' "$tmp/notify.log"
check "reload status says reloaded" grep -q 'READY=1|STATUS=reloaded; config' "$tmp/notify.log"
echo 'mode = "bogus";' >>"$tmp/pw.conf"
: >"$tmp/notify.log"
kill -HUP "$pid"
sleep 0.5
check "SIGHUP with a bad config: READY=1 again, status says refused" grep -q 'READY=1|STATUS=reload refused' "$tmp/notify.log"
sed -i '$d' "$tmp/pw.conf"
ctl ban 198.18.9.9 --ttl 1h --reason notify-test >/dev/null
: >"$tmp/notify.log"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM: STOPPING=1" grep -q 'STOPPING=1' "$tmp/notify.log"
check "SIGTERM: exit status 0" test "$rc" -eq 0

echo "ship: restart without a watchdog, then SIGKILL and restart (adopt)"
check "restarts (READY=1) with the program still attached" start
sleep 2.5
check "no WATCHDOG=1 without WATCHDOG_USEC" test "$(count 'WATCHDOG=1')" -eq 0
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
check "restart after SIGKILL adopts the attached program (needs CAP_SYS_ADMIN)" start WATCHDOG_USEC=1500000
check "log says pinned maps were adopted" grep -q 'adopted pinned maps' "$tmp/agent.log"
ban_kept() { [ "$(ctl --json peer 198.18.9.9 | jq -r .ban.reason)" = notify-test ]; }
check "ban from before the restarts is still there" ban_kept
check "a watchdog shorter than two ticks is warned about" grep -q 'tick_ms 1000 is longer than half of WatchdogSec (1500 ms)' "$tmp/agent.log"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
pid=

pwt_summary "ship notify tests"
