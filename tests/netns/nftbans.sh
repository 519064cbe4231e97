#!/usr/bin/env bash
# Bans mirrored into nftables, through the real agent with enforce = "nft"
# (no XDP program: the table alone enforces). Real TCP connections show
# what passes.
#
#   pwb-host-$$  pw0 198.18.0.1/24, fd00:90::1/64   peerwalld + TCP service
#   pwb-peer-$$  pw1 198.18.0.2/24, 198.18.9.9-10, fd00:90::2, fd00:99::9
#
# Everything is removed on exit, pass or fail.
set -uo pipefail
[ -n "${PWT_RUNNING_NFTBANS:-}" ] && { echo "nftbans.sh: refusing to run nested" >&2; exit 99; }
export PWT_RUNNING_NFTBANS=1
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
D=$root/$BUILD/bin/peerwalld
C=$root/$BUILD/bin/peerwallctl
H=pwb-host-$$
P=pwb-peer-$$
tmp=$(mktemp -d)
pins=/sys/fs/bpf/peerwall-nftbans-$$
sock=$tmp/ctl.sock
pid=
srv=
passed=0 failed=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	ip netns del "$H" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	rm -rf "$pins" "$tmp"
}
trap cleanup EXIT INT TERM

ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); [ -f "$tmp/agent.log" ] && tail -5 "$tmp/agent.log" | sed 's/^/        log: /'; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
inh() { nsenter --net=/run/netns/"$H" "$@"; }
ctl() { inh "$C" -s "$sock" "$@"; }

# connect SRC [DST]: exit 0 when a TCP exchange with the service completes
connect() {
	nsenter --net=/run/netns/"$P" python3 - "$1" "${2:-198.18.0.1}" <<'PY' >/dev/null 2>&1
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.settimeout(1.5)
s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], 26656))
s.sendall(b"ping\n")
assert s.recv(16)
PY
}
blocked() { ! connect "$@"; }
ban_set() { inh nft -j list set inet peerwall "$1" 2>/dev/null; }
# in_set SET CIDR: the element (prefix or address) is in the set
in_set() {
	local j
	j=$(ban_set "$1") || return 1
	jq -e --arg c "$2" '[.nftables[].set.elem? // empty | .[] |
		(.elem.val // .) | if type == "object" then
		"\(.prefix.addr)/\(.prefix.len)" else . end] | index($c) != null' \
		<<<"$j" >/dev/null
}
not_in_set() { ! in_set "$@"; }
has_timeout() {
	local j
	j=$(ban_set "$1") || return 1
	jq -e '[.nftables[].set.elem? // empty | .[] | .elem.timeout? // empty] | length > 0' <<<"$j" >/dev/null
}
no_xdp() { ! inh ip -d link show dev pw0 | grep -q 'prog/xdp'; }
table_gone() { ! inh nft list table inet peerwall >/dev/null 2>&1; }
drops_counted() { [ "$(ctl --json status | jq '.emergency.nft_ban_drops')" -gt 0 ]; }

start_agent() {
	nsenter --net=/run/netns/"$H" "$D" -c "$tmp/pw.conf" -f >>"$tmp/agent.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do [ -S "$sock" ] && ctl status >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop_agent() { kill -"${1:-TERM}" "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }

echo "netns: setting up $H <-> $P"
ip netns add "$H" && ip netns add "$P" || exit 1
ip link add pw0 netns "$H" type veth peer name pw1 netns "$P" || exit 1
inh ip addr add 198.18.0.1/24 dev pw0
inh ip -6 addr add fd00:90::1/64 dev pw0 nodad
inh ip link set pw0 up
inh ip link set lo up
nsenter --net=/run/netns/"$P" sh -e -c '
ip addr add 198.18.0.2/24 dev pw1
for a in 198.18.9.9 198.18.9.10; do ip addr add $a/32 dev pw1; done
ip -6 addr add fd00:90::2/64 dev pw1 nodad
ip -6 addr add fd00:99::9/128 dev pw1 nodad
ip link set pw1 up
ip link set lo up
ip route add 198.18.0.1/32 dev pw1 2>/dev/null || true'
inh ip route add 198.18.9.0/24 dev pw0
inh ip -6 route add fd00:99::/64 dev pw0

nsenter --net=/run/netns/"$H" python3 -c '
import socket, socketserver, threading
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(self.request.recv(64))
class S6(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
socketserver.ThreadingTCPServer.allow_reuse_address = True
S6.allow_reuse_address = True
s6 = S6(("fd00:90::1", 26656), H)
threading.Thread(target=s6.serve_forever, daemon=True).start()
socketserver.ThreadingTCPServer(("198.18.0.1", 26656), H).serve_forever()' &
srv=$!

cat >"$tmp/pw.conf" <<EOF
interfaces = ["pw0"];
enforce = "nft";
protect = ( { proto = "tcp"; port = 26656; } );
trusted = [ "198.18.1.0/24" ];
maps = { sources = 65536; prefixes = 4096; sanctions = 4096; bancidrs = 1024; };
state_dir = "$tmp/state";
control_socket = "$sock";
report_socket = "$tmp/report.sock";
pin_root = "$pins";
metrics = { listen = ""; };
EOF
sleep 0.5

echo "netns: enforce = nft, bans mirrored into the table"
check "agent starts with enforce = nft" start_agent
check "no XDP program attached" no_xdp
check "untrusted peer connects before any ban" connect 198.18.9.9
ctl ban 198.18.9.9 --ttl 10m --reason nft-test >/dev/null
check "ban 198.18.9.9 is in ban_v4" in_set ban_v4 198.18.9.9
check "the element carries a timeout" has_timeout ban_v4
check "banned source cannot connect (nft alone)" blocked 198.18.9.9
check "ban drops counted" drops_counted
check "another source still connects" connect 198.18.9.10
ctl ban 198.18.9.0/24 --ttl 1h >/dev/null
check "a wider ban replaces the /32 in the set" in_set ban_v4 198.18.9.0/24
check "the /32 is no longer a separate element" not_in_set ban_v4 198.18.9.9
check "the /24 blocks its other sources" blocked 198.18.9.10
ctl unban 198.18.9.0/24 >/dev/null
check "lifting the /24 puts the /32 back" in_set ban_v4 198.18.9.9
check "the rest of the /24 connects again" connect 198.18.9.10
check "the /32 is still blocked" blocked 198.18.9.9
ctl unban 198.18.9.9 >/dev/null
check "unbanned source connects again" connect 198.18.9.9
check "the ban set is empty" not_in_set ban_v4 198.18.9.9
ctl ban 198.18.9.10 --ttl 2s >/dev/null
check "a 2 s ban blocks" blocked 198.18.9.10
sleep 3
check "and expires" connect 198.18.9.10

echo "netns: IPv6"
check "IPv6 peer connects" connect fd00:99::9 fd00:90::1
ctl ban fd00:99::9 --ttl 10m >/dev/null
check "IPv6 ban is its /64 in ban_v6" in_set ban_v6 fd00:99::/64
check "banned IPv6 source cannot connect" blocked fd00:99::9 fd00:90::1

echo "netns: restart and SIGKILL"
ctl ban 198.18.9.9 --ttl 1h --reason before-restart >/dev/null
stop_agent TERM
check "after a clean stop the table still enforces" blocked 198.18.9.9
check "agent restarts" start_agent
check "bans are back in the rebuilt table" in_set ban_v4 198.18.9.9
check "IPv6 ban back too" in_set ban_v6 fd00:99::/64
check "still blocked after restart" blocked 198.18.9.9
stop_agent KILL
check "SIGKILL: the table keeps dropping" blocked 198.18.9.9
check "agent restarts after SIGKILL" start_agent
check "detach accepted" ctl detach
sleep 0.5
pid=
check "detach removes the table" table_gone
check "without the table the source connects" connect 198.18.9.9

echo "nftbans netns tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
