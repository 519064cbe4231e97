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
. "$(dirname "$0")/lib.sh"
pwt_guard nftbans.sh PWT_RUNNING_NFTBANS
pwt_init peerwall-nftbans
H=pwb-host-$$
P=pwb-peer-$$
pwt_trap

# connect SRC [DST]: exit 0 when a TCP exchange with the service completes
connect() { pwt_exchange "$P" "$1" "${2:-198.18.0.1}" 26656; }
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

start_agent() { pwt_start_agent; }
# stop_agent [SIG]: signal the agent (default TERM) and reap it
stop_agent() { kill -"${1:-TERM}" "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }

echo "netns: setting up $H <-> $P"
pwt_pair "$H" pw0 "$P" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24 fd00:90::1/64
pwt_addrs "$P" pw1 198.18.0.2/24 198.18.9.9/32 198.18.9.10/32 fd00:90::2/64 fd00:99::9/128
inp ip route add 198.18.0.1/32 dev pw1 2>/dev/null
pwt_routes "$H" pw0 198.18.9.0/24 fd00:99::/64

pwt_echo_server "$H" -b 198.18.0.1 -b fd00:90::1 tcp/26656

pwt_conf "$tmp/pw.conf" 'enforce = "nft";'
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

pwt_summary "nftbans netns tests"
