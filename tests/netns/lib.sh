# shellcheck shell=bash
# Shared pieces of the network-namespace tests (tests/netns/*.sh and the
# agent-driven tests/ship/*.sh). Sourced, never run:
#
#   . "$(dirname "$0")/../netns/lib.sh"
#
# What a script keeps for itself: its picture of the namespaces, its
# addresses, its config, its checks. What is here is what several scripts
# did the same way: the re-entry guard, paths, temp dir and pins, check
# counters, namespaces and veth links, the echo service, a TCP exchange,
# starting and stopping the agent, and cleanup.
#
# Globals a script sets or reads (all optional unless said):
#   H, P          host and peer namespace names (inh, inp, cleanup)
#   tmp, pins, sock, pid, srv   set by pwt_init / pwt_start_agent / pwt_echo_server
#   pwt_log_lines agent log lines bad() shows (default 5; 0: none)
#   pwt_quiet     non-empty: check() discards the checked command's stdout
#   pwt_xdp_devs  devices in $H whose XDP program cleanup detaches
#   pwt_keep_log  a file cleanup copies the agent's log to
#   pwt_connect_timeout, pwt_connect_limit   see pwt_exchange
#   PY            the python interpreter (default python3)
#
# Rules learned the hard way (see agent.sh): namespaces are entered with
# nsenter (`ip netns exec` remounts /sys and hides bpffs pins); programs are
# backgrounded directly (`nsenter ... prog &`, so $! is the program); no
# script ever runs itself (the guard below).

# pwt_guard NAME VAR: exit 99 when VAR is set (this script is running
# nested: a quoting slip once made a test script call itself); else set
# and export VAR.
pwt_guard() {
	if [ -n "${!2:-}" ]; then
		echo "$1: refusing to run nested" >&2
		exit 99
	fi
	export "$2"=1
}

# pwt_init [PIN_NAME]: BUILD, root, the binaries D (peerwalld),
# C (peerwallctl), R (peerwall-replay); a fresh temp dir $tmp, the control
# socket $sock in it, the pin root $pins=/sys/fs/bpf/PIN_NAME-$$ (default
# peerwall-test); zeroed counters; no agent ($pid) or service ($srv) yet.
pwt_init() {
	BUILD=${BUILD:-build}
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	D=$root/$BUILD/bin/peerwalld
	C=$root/$BUILD/bin/peerwallctl
	R=$root/$BUILD/bin/peerwall-replay
	tmp=$(mktemp -d) || exit 1
	pins=/sys/fs/bpf/${1:-peerwall-test}-$$
	sock=$tmp/ctl.sock
	pid= srv=
	passed=0 failed=0
	pwt_netns=
}

# --- results -----------------------------------------------------------------
# ok DESC / bad DESC: count a passed / failed check and say so; bad shows
# the last $pwt_log_lines lines of $tmp/agent.log when there is one.
ok() {
	echo "  ok    $1"
	passed=$((passed + 1))
}
bad() {
	echo "  FAIL  $1"
	failed=$((failed + 1))
	if [ "${pwt_log_lines:-5}" -gt 0 ] && [ -f "$tmp/agent.log" ]; then
		tail -"${pwt_log_lines:-5}" "$tmp/agent.log" | sed 's/^/        log: /'
	fi
}
# check DESC CMD...: ok when CMD succeeds, else bad
check() {
	local d=$1
	shift
	if [ -n "${pwt_quiet:-}" ]; then
		if "$@" >/dev/null; then ok "$d"; else bad "$d"; fi
	elif "$@"; then ok "$d"; else bad "$d"; fi
}

# --- namespaces ----------------------------------------------------------------
# `command ip` throughout: a script may shadow ip with a function (runbook.sh).

# pwt_netns_add NS...: create the namespaces; cleanup deletes them (and
# only those that were created here).
pwt_netns_add() {
	local ns
	for ns; do
		command ip netns add "$ns" || return 1
		pwt_netns="$pwt_netns $ns"
	done
}
# pwt_veth NS_A DEV_A NS_B DEV_B: a veth pair, DEV_A in NS_A, DEV_B in NS_B
pwt_veth() {
	command ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
}
# pwt_pair NS_A DEV_A NS_B DEV_B: both namespaces, joined by a veth pair
pwt_pair() {
	pwt_netns_add "$1" "$3" && pwt_veth "$@"
}
# pwt_addrs NS DEV [ADDR/LEN...]: the addresses on DEV (IPv6 without DAD),
# then DEV and lo up
pwt_addrs() {
	local ns=$1 dev=$2 a
	shift 2
	for a; do
		case $a in
		*:*) command ip -n "$ns" -6 addr add "$a" dev "$dev" nodad ;;
		*) command ip -n "$ns" addr add "$a" dev "$dev" ;;
		esac || return 1
	done
	command ip -n "$ns" link set "$dev" up && command ip -n "$ns" link set lo up
}
# pwt_routes NS DEV NET...: a route to each NET through DEV
pwt_routes() {
	local ns=$1 dev=$2 n
	shift 2
	for n; do
		case $n in
		*:*) command ip -n "$ns" -6 route add "$n" dev "$dev" ;;
		*) command ip -n "$ns" route add "$n" dev "$dev" ;;
		esac || return 1
	done
}
# pwt_in NS CMD...: run CMD in namespace NS
pwt_in() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}
inh() { nsenter --net=/run/netns/"$H" "$@"; }
inp() { nsenter --net=/run/netns/"$P" "$@"; }
# ctl ARGS...: peerwallctl on the test's control socket, in the host namespace
ctl() { inh "$C" -s "$sock" "$@"; }

# --- traffic -------------------------------------------------------------------
# pwt_echo_server NS [-i IDLE_S] [-l BACKLOG] [-b ADDR]... PROTO/PORT...: an
# echo service in NS on each port (tcp or udp) of each ADDR (default "::",
# both families), in the background as $srv (nsenter execs python, so $! is
# the server); a TCP connection is echoed until the client closes it (or is
# IDLE_S seconds idle); TCP listens with BACKLOG (default 64). Returns once
# every TCP port listens.
pwt_echo_server() {
	local ns=$1 a
	shift
	cat >"$tmp/pwt-echo.py" <<'PY'
import socket, sys, threading
idle, backlog, binds, specs = None, 64, [], []
args = sys.argv[1:]
while args:
    a = args.pop(0)
    if a == "-i":
        idle = float(args.pop(0))
    elif a == "-l":
        backlog = int(args.pop(0))
    elif a == "-b":
        binds.append(args.pop(0))
    else:
        specs.append(a)
def sock(addr, kind):
    if ":" in addr:
        s = socket.socket(socket.AF_INET6, kind)
        if addr == "::":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    else:
        s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s
def serve(c):
    c.settimeout(idle)
    try:
        while True:
            d = c.recv(64)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()
def tcp(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def udp(s):
    while True:
        d, a = s.recvfrom(64)
        s.sendto(d, a)
for addr in binds or ["::"]:
    for spec in specs:
        proto, port = spec.split("/")
        s = sock(addr, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
        s.bind((addr, int(port)))
        if proto == "tcp":
            s.listen(backlog)
        threading.Thread(target=tcp if proto == "tcp" else udp, args=(s,), daemon=True).start()
threading.Event().wait()
PY
	nsenter --net=/run/netns/"$ns" "${PY:-python3}" "$tmp/pwt-echo.py" "$@" &
	srv=$!
	for a; do
		case $a in tcp/*) ;; *) continue ;; esac
		for _ in $(seq 50); do
			[ "$(pwt_in "$ns" ss -Hltn "sport = :${a#tcp/}" | wc -l)" -gt 0 ] && continue 2
			kill -0 "$srv" 2>/dev/null || return 1
			sleep 0.1
		done
		return 1
	done
}

# pwt_exchange NS SRC DST PORT: exit 0 when, from SRC in namespace NS, a
# TCP connection to DST:PORT gets "ping\n" echoed back. The socket gives up
# after $pwt_connect_timeout s (default 1.5) per step; with
# $pwt_connect_limit set, the whole exchange after that many seconds.
pwt_exchange() {
	nsenter --net=/run/netns/"$1" ${pwt_connect_limit:+timeout "$pwt_connect_limit"} \
		"${PY:-python3}" - "$2" "$3" "$4" "${pwt_connect_timeout:-1.5}" <<'PY' >/dev/null 2>&1
import socket, sys
src, dst, port, t = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
s.settimeout(t)
s.bind((src, 0))
s.connect((dst, port))
s.sendall(b"ping\n")
assert s.recv(16) == b"ping\n"
PY
}

# pwt_dgrams SOCK N MSG: N datagrams MSG to the unix datagram socket SOCK,
# from the host namespace
pwt_dgrams() {
	inh "${PY:-python3}" - "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(sys.argv[3].encode(), sys.argv[1])
PY
}

# pwt_scrape PORT: the agent's /metrics text from 127.0.0.1:PORT in $H
pwt_scrape() {
	inh "${PY:-python3}" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=3).read().decode())' "$1"
}

# --- the agent -------------------------------------------------------------------
# pwt_conf FILE [LINE...]: write the usual test config to FILE: interface
# pw0, tcp/26656 protected, 198.18.1.0/24 trusted, small maps, state dir
# and sockets in $tmp, pins in $pins, no metrics listener. A LINE
# "KEY = ..." whose KEY is one of these replaces that line in place (so
# line numbers stay put), "-KEY" leaves it out, any other LINE is added at
# the end, in order.
pwt_conf() {
	local f=$1 l o k keys=" "
	shift
	local base=(
		'interfaces = ["pw0"];'
		'protect = ( { proto = "tcp"; port = 26656; } );'
		'trusted = [ "198.18.1.0/24" ];'
		'maps = { sources = 65536; prefixes = 4096; sanctions = 4096; bancidrs = 1024; };'
		"state_dir = \"$tmp/state\";"
		"control_socket = \"$sock\";"
		"report_socket = \"$tmp/report.sock\";"
		"pin_root = \"$pins\";"
		'metrics = { listen = ""; };'
	)
	{
		for l in "${base[@]}"; do
			k=${l%% =*}
			keys="$keys$k "
			for o; do
				[ "$o" = "-$k" ] && continue 2
				[ "${o%% =*}" = "$k" ] && l=$o
			done
			printf '%s\n' "$l"
		done
		for o; do
			case $keys in *" ${o%% =*} "* | *" ${o#-} "*) continue ;; esac
			printf '%s\n' "$o"
		done
	} >"$f"
}
# pwt_start_agent [CONF]: peerwalld -f on CONF (default $tmp/pw.conf) in
# $H, logging to $tmp/agent.log, as $pid (nsenter execs the agent, so $! is
# the agent itself, not a subshell); returns once it answers on $sock.
pwt_start_agent() {
	nsenter --net=/run/netns/"$H" "$D" -c "${1:-$tmp/pw.conf}" -f >>"$tmp/agent.log" 2>&1 &
	pid=$!
	pwt_wait_agent
}
# pwt_wait_agent [TENTHS]: wait up to TENTHS/10 s (default 5 s) for the
# control socket to answer `status` (through ctl); fail early if $pid died
pwt_wait_agent() {
	for _ in $(seq "${1:-50}"); do
		[ -S "$sock" ] && ctl status >/dev/null 2>&1 && return 0
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}
# pwt_await_exit [TENTHS]: wait up to TENTHS/10 s (default 3 s) for $pid
# to exit; then reap it and clear $pid. Fails if it is still running.
pwt_await_exit() {
	for _ in $(seq "${1:-30}"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 1
	wait "$pid" 2>/dev/null
	pid=
}
# pwt_xdp_count [DEV]: XDP programs attached in $H (on DEV, default all)
pwt_xdp_count() { inh ip -d link show ${1:+dev "$1"} | grep -c 'prog/xdp'; }

# --- peers as the agent sees them ----------------------------------------------------
state_of() { ctl --json peer "$1" | jq -r .peer.state; }
is_banned() { [ "$(state_of "$1")" = banned ]; }
not_banned() { [ "$(state_of "$1")" != banned ]; }

# --- cleanup ---------------------------------------------------------------------
# pwt_cleanup: kill the agent (-9) and the echo service, detach XDP from
# $pwt_xdp_devs in $H, delete the namespaces pwt_netns_add made, keep the
# agent's log in $pwt_keep_log if set, remove the pins and the temp dir.
# A script with more to undo wraps it in its own cleanup().
pwt_cleanup() {
	local d ns
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	for d in ${pwt_xdp_devs:-}; do command ip -n "$H" link set dev "$d" xdp off 2>/dev/null; done
	for ns in ${pwt_netns:-}; do command ip netns del "$ns" 2>/dev/null; done
	[ -n "${pwt_keep_log:-}" ] && cp "$tmp/agent.log" "$pwt_keep_log"
	rm -rf "${pins:-}" "$tmp"
}
cleanup() { pwt_cleanup; }
# pwt_trap: cleanup on exit, pass or fail; INT and TERM exit (130), which
# runs it once
pwt_trap() {
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

# pwt_summary NAME: the last line ("NAME: P passed, F failed"); the
# script's exit status is 0 when nothing failed
pwt_summary() {
	echo "$1: $passed passed, $failed failed${2:+, $2}"
	[ "$failed" -eq 0 ]
}
