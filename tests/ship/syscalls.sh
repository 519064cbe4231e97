#!/usr/bin/env bash
# The unit's SystemCallFilter= lets through every system call the agent
# makes. Without systemd as PID 1 the filter cannot be applied here, so the
# agent runs under strace through a workload (start, every kind of control
# request, a node report, a log match, a scrape, SIGHUP, SIGTERM, a restart
# that adopts the pinned maps, detach), and each call it made must be in the
# unit's filter, groups expanded with `systemd-analyze syscall-filter`.
# A call outside it would be EPERM in production. Needs strace and
# systemd-analyze; skipped (with a message) without them.
set -uo pipefail
. "$(dirname "$0")/../netns/lib.sh"
pwt_guard syscalls.sh PWT_RUNNING
for p in strace systemd-analyze; do
	command -v $p >/dev/null || { echo "  skip  syscall filter: $p not installed"; exit 0; }
done
pwt_init
unit=$root/conf/peerwalld.service
H=pwc-host-$$
lis=
pwt_xdp_devs=pw0
cleanup() {
	[ -n "$lis" ] && kill "$lis" 2>/dev/null
	pwt_cleanup
}
pwt_trap
ctl() { nsenter --net=/run/netns/"$H" "$C" -s "$sock" "$@" >/dev/null 2>&1; }

filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
[ -n "$filter" ] || { echo "  FAIL  no SystemCallFilter= in $unit"; exit 1; }
expand() {
	local s
	systemd-analyze syscall-filter "$1" | sed 1d | sed 's/^[[:space:]]*//' | grep -v '^#' | grep . |
		while read -r s; do case "$s" in @*) expand "$s" ;; *) echo "$s" ;; esac; done
}
allowed=$(for f in $filter; do case "$f" in @*) expand "$f" ;; *) echo "$f" ;; esac; done | sort -u)

pwt_pair "$H" pw0 "$H-p" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24
pwt_addrs "$H-p" pw1
: >"$tmp/node.log"
pwt_conf "$tmp/pw.conf" 'control_group = "daemon";' 'metrics = { listen = "127.0.0.1:9477"; };' \
	"logwatch = ( { path = \"$tmp/node.log\"; pattern = \"invalid block from ([0-9.]+)\"; weight = 20; reason = \"bad_block\"; } );"

run_once() { # $1: round; $2: how to stop (term|detach)
	# strace execs the agent and exits with it
	NOTIFY_SOCKET=$tmp/notify.sock WATCHDOG_USEC=2000000 nsenter --net=/run/netns/"$H" \
		strace -f -qq -o "$tmp/trace.$1" "$D" -c "$tmp/pw.conf" -f >>"$tmp/agent.log" 2>&1 &
	pid=$!
	pwt_wait_agent 100
	ctl ban 198.18.9.9 --ttl 1m --reason syscalls
	ctl unban 198.18.9.9
	ctl quarantine 198.18.9.8 --ttl 1m
	ctl release 198.18.9.8
	ctl allow add 198.18.2.0/28
	ctl allow list
	ctl posture elevated
	ctl export --format nft
	ctl export --format json -o "$tmp/bans.json"
	ctl import "$tmp/bans.json"
	ctl top --by drops
	ctl peer 198.18.9.9
	ctl report invalid 198.18.9.7 weight=5
	echo "invalid block from 198.18.9.5" >>"$tmp/node.log"
	python3 -c "import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b'invalid 198.18.9.6 weight=5', '$tmp/report.sock')"
	nsenter --net=/run/netns/"$H" curl -s http://127.0.0.1:9477/metrics >/dev/null
	agent=$(pgrep -f "^$D -c $tmp/pw.conf")
	[ -n "$agent" ] && kill -HUP "$agent"
	sleep 2.2
	if [ "$2" = term ]; then [ -n "$agent" ] && kill -TERM "$agent"; else ctl detach; fi
	wait "$pid"
	pid=
}
# a datagram socket for sd_notify, so those sends really happen
python3 -c "
import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('$tmp/notify.sock')
while True: s.recv(4096)" &
lis=$!
run_once 1 term
run_once 2 detach
kill "$lis"
lis=
used=$(cat "$tmp"/trace.* | sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' | sort -u)
n=$(wc -l <<<"$used")
outside=$(comm -23 <(echo "$used") <(echo "$allowed") | paste -sd' ')
grep -q 'adopted pinned maps' "$tmp/agent.log" || { echo "  FAIL  the second run did not adopt the pinned maps"; exit 1; }
if [ "$n" -lt 30 ]; then
	echo "  FAIL  strace saw only $n distinct system calls"; exit 1
elif [ -n "$outside" ]; then
	echo "  FAIL  system calls outside SystemCallFilter=$filter: $outside"; exit 1
fi
echo "  ok    all $n distinct system calls the agent made are in SystemCallFilter=$filter"
