#!/usr/bin/env bash
# Agent integration test in network namespaces with a veth pair: the real
# peerwalld (XDP native on veth), driven by peerwallctl and by node
# reports; real TCP connections show what the datapath lets through.
#
#   pwt-host  pw0 198.18.0.1/24   peerwalld + a TCP service on 26656
#   pwt-peer  pw1 198.18.0.2/24, 198.18.1.10 (trusted), 198.18.9.9-12
#
# Namespaces are entered with nsenter (not `ip netns exec`, which remounts
# /sys and hides bpffs pins). Everything is removed on exit, pass or fail.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
pwt_guard agent.sh PWT_RUNNING
pwt_init
H=pwt-host-$$
P=pwt-peer-$$
rsock=$tmp/report.sock
pwt_xdp_devs=pw0
pwt_keep_log=${PWT_KEEP_LOG:-}
pwt_trap

# connect SRC: exit 0 when a TCP exchange with the service completes
connect() { pwt_exchange "$P" "$1" 198.18.0.1 26656; }
blocked() { ! connect "$1"; }
refused() { ! ctl "$@" >/dev/null 2>&1; }
status_shows_native() { ctl status | grep -q 'pw0 (native)'; }
in_pinned_sanctions() { bpftool map lookup pinned "$pins/pw0/sanction_v4" key $1 >/dev/null 2>&1; }
ban_reason_is() { [ "$(ctl --json peer "$1" | jq -r .ban.reason)" = "$2" ]; }
bad_addr_then_alive() { refused ban 300.1.1.1 && ctl status >/dev/null; }
export_has() { ctl export --format txt | grep -q "$1"; }
start_agent() { pwt_start_agent; }
prog_count() { pwt_xdp_count pw0; }

echo "netns: setting up $H <-> $P"
pwt_pair "$H" pw0 "$P" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24
pwt_addrs "$P" pw1 198.18.0.2/24 198.18.1.10/32 198.18.9.9/32 198.18.9.10/32 198.18.9.11/32 198.18.9.12/32
inp ip route add 198.18.0.1/32 dev pw1 2>/dev/null
pwt_routes "$H" pw0 198.18.1.0/24 198.18.9.0/24

# a tiny echo service on the protected port
pwt_echo_server "$H" -b 198.18.0.1 tcp/26656

pwt_conf "$tmp/pw.conf" 'metrics = { listen = "127.0.0.1:19477"; };' \
	"logwatch = ( { path = \"$tmp/node.log\"; pattern = \"invalid block from ([0-9.]+)\"; weight = 20; reason = \"bad_block\"; } );"
: >"$tmp/node.log"
inh "$D" --check-config "$tmp/pw.conf" >/dev/null || { bad "config valid"; exit 1; }
sleep 0.3

echo "netns: agent start and operator commands"
check "agent starts and answers status" start_agent
check "XDP attached to pw0" test "$(prog_count)" -eq 1
check "status names pw0 and its XDP mode" status_shows_native
check "untrusted peer connects before any ban" connect 198.18.9.9
check "ban 198.18.9.9 accepted" ctl ban 198.18.9.9 --ttl 10m --reason integration-test
check "ban is in the pinned sanction map" in_pinned_sanctions "198 18 9 9"
check "banned source cannot connect" blocked 198.18.9.9
check "other sources still connect" connect 198.18.0.2
check "trusted source connects" connect 198.18.1.10
check "unban 198.18.9.9 accepted" ctl unban 198.18.9.9
check "unbanned source connects again" connect 198.18.9.9
check "banning a trusted address is refused (exit 1)" refused ban 198.18.1.10
check "bad address refused, agent alive" bad_addr_then_alive
ctl ban 198.18.9.9 --ttl 1h --reason before-kill >/dev/null

echo "netns: fail-static across SIGKILL and restart"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
agent_gone() { ! pgrep -f "$tmp/pw.conf" >/dev/null; }
check "agent process is gone after SIGKILL" agent_gone
check "agent dead, XDP still attached" test "$(prog_count)" -eq 1
check "banned source still dropped with the agent down" blocked 198.18.9.9
check "others still served with the agent down" connect 198.18.0.2
check "agent restarts" start_agent
check "still exactly one XDP program" test "$(prog_count)" -eq 1
check "log says pinned maps were adopted" grep -q "adopted pinned maps" "$tmp/agent.log"
check "ban survived the restart (registry)" ban_reason_is 198.18.9.9 before-kill
check "banned source still dropped after restart" blocked 198.18.9.9

echo "netns: node reports"
pwt_dgrams "$rsock" 3 'invalid 198.18.9.10:40000 weight=100 reason=bad_block'
sleep 2.5
check "reported source banned via the report socket" is_banned 198.18.9.10
check "reported source cannot connect" blocked 198.18.9.10
for _ in $(seq 100); do ctl report invalid 198.18.1.10 weight=100 reason=spam >/dev/null; done
pwt_dgrams "$rsock" 900 'invalid 198.18.1.10 weight=100'
sleep 2.5
check "trusted peer reported 1000 times is not banned" not_banned 198.18.1.10
check "trusted peer still connects" connect 198.18.1.10
for junk in "" "invalid" "invalid 1.2.3.4 weight=0" "frobnicate 1.2.3.4" "invalid 999.1.1.1"; do
	pwt_dgrams "$rsock" 1 "$junk"
done
alive() { ctl status >/dev/null; }
check "malformed reports leave the agent answering" alive

echo "netns: log watcher"
for i in $(seq 20); do echo "2026-11-23T12:00:0$((i % 10))Z ERR p2p: invalid block from 198.18.9.12 height=$i" >>"$tmp/node.log"; done
echo "unrelated line from 198.18.9.12" >>"$tmp/node.log"
sleep 2.5
check "log-pattern matches lead to a ban" is_banned 198.18.9.12
check "log-banned source cannot connect" blocked 198.18.9.12

echo "netns: SYN flood from one source"
if command -v hping3 >/dev/null; then
	inp timeout 3 hping3 -q -S --flood -a 198.18.9.11 -p 26656 198.18.0.1 >/dev/null 2>&1
	sleep 1.5
	check "SYN flooder banned" is_banned 198.18.9.11
	check "flooder cannot connect" blocked 198.18.9.11
	check "honest peer still served after the flood" connect 198.18.0.2
	# The deltas of the last tick the flooder was scored in.
	top_first() { [ "$(ctl --json top --by "$1" -n 3 | jq -r '.peers[0].addr')" = "$2" ]; }
	peer_counts() { ctl --json peer "$1" | jq -e '.peer.pps > 0 and .peer.drops_per_tick > 0' >/dev/null; }
	check "top --by drops: the flooder first" top_first drops 198.18.9.11/32
	check "top --by pps: the flooder first" top_first pps 198.18.9.11/32
	check "peer shows the flooder's pps and drops" peer_counts 198.18.9.11
else
	echo "  skip  hping3 not installed"
fi

echo "netns: metrics"
metric_has() { local text; text=$(pwt_scrape 19477) && grep -q "$1" <<<"$text"; }
check "metrics: interface attached natively" metric_has 'peerwall_interface_attached{interface="pw0",xdp_mode="native"} 1'
check "metrics: banned drops counted" metric_has 'peerwall_packets_total{reason="drop_banned",verdict="drop"} [1-9]'
check "metrics: bans issued by cause" metric_has 'peerwall_bans_issued_total{cause="spoofable"} [1-9]'

echo "netns: export, detach"
check "export lists the bans" export_has 198.18.9.9/32
check "detach accepted" ctl detach
pwt_await_exit 30
check "after detach no XDP program is attached" test "$(prog_count)" -eq 0
check "after detach the pins are gone" test ! -e "$pins/pw0/config"

pwt_summary "agent netns tests"
