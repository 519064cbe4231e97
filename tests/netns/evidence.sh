#!/usr/bin/env bash
# Evidence test in network namespaces with a veth pair: the real peerwalld
# (XDP native on veth) samples the drops of a banned source; peerwallctl
# writes them as pcapng that tcpdump and peerwall-replay read, writes an
# evidence bundle whose MANIFEST sha256sum checks, and forgives a source.
#
#   pwe-host  pw0 198.18.0.1/24   peerwalld + a TCP service on 26656
#   pwe-peer  pw1 198.18.0.2/24, 198.18.9.9 (banned), 198.18.9.10 (reported)
#
# Namespaces are entered with nsenter (not `ip netns exec`, which remounts
# /sys and hides bpffs pins). Everything is removed on exit, pass or fail.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
pwt_guard evidence.sh PWE_RUNNING
pwt_init
H=pwe-host-$$
P=pwe-peer-$$
pwt_xdp_devs=pw0
pwt_keep_log=${PWE_KEEP_LOG:-}
# the checked commands' output is not shown
pwt_quiet=1
cleanup() {
	[ -n "${hp:-}" ] && kill "$hp" 2>/dev/null
	pwt_cleanup
}
pwt_trap

# connect SRC: exit 0 when a TCP exchange with the service completes
connect() { pwt_exchange "$P" "$1" 198.18.0.1 26656; }
blocked() { ! connect "$1"; }
# send SRC N: N SYNs at 20/s from SRC to the protected port, in the
# background ($hp). In its own session: hping3 ends by signalling its
# process group, which must not be this script.
hp=
send_syns() {
	setsid nsenter --net=/run/netns/"$P" hping3 -q -S -a "$1" -p 26656 -c "$2" -i u50000 198.18.0.1 >/dev/null 2>&1 &
	hp=$!
}
wait_syns() { [ -z "$hp" ] || wait "$hp" 2>/dev/null; hp=; }

start_agent() { pwt_start_agent; }

command -v hping3 >/dev/null || { echo "evidence.sh: hping3 is required (make deps)" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "evidence.sh: tcpdump is required (make deps)" >&2; exit 1; }

echo "netns: setting up $H <-> $P"
pwt_pair "$H" pw0 "$P" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24
pwt_addrs "$P" pw1 198.18.0.2/24 198.18.9.9/32 198.18.9.10/32
pwt_routes "$H" pw0 198.18.9.0/24

pwt_echo_server "$H" -b 198.18.0.1 tcp/26656

pwt_conf "$tmp/pw.conf" -trusted 'capture = { per_second = 1000; snaplen = 96; };'
inh "$D" --check-config "$tmp/pw.conf" >/dev/null || { bad "config valid"; exit 1; }
sleep 0.3

echo "netns: capture of a banned source's drops"
check "agent starts" start_agent
check "ban 198.18.9.9" ctl ban 198.18.9.9 --ttl 1h --reason evidence-test
samples() { ctl --json status | jq -r .counters.samples; }
check "nothing sampled before a capture" test "$(samples)" -eq 0
send_syns 198.18.9.9 20
wait_syns
check "drops of a ban are not sampled outside a window" test "$(samples)" -eq 0
send_syns 198.18.9.9 40
cap=$tmp/drops.pcapng
check "capture --seconds 3 --reason drop_banned" ctl capture --seconds 3 --reason drop_banned -o "$cap"
wait_syns
ctl --json status >"$tmp/status-after.json"
tcpdump -r "$cap" -nn >"$tmp/tcpdump.txt" 2>"$tmp/tcpdump.err"
check "tcpdump reads the capture" test $? -eq 0
npk=$(wc -l <"$tmp/tcpdump.txt")
check "the capture holds the banned source's SYNs ($npk)" test "$npk" -ge 20
only_banned() { ! grep -v '198.18.9.9\.[0-9]* > 198.18.0.1.26656: Flags \[S\]' "$tmp/tcpdump.txt" | grep -q .; }
check "every packet is 198.18.9.9 -> 26656 SYN" only_banned
check "tcpdump sees the snap length of a sample" grep -q "snapshot length 256" "$tmp/tcpdump.err"
ncomm=$(strings "$cap" | grep -c '^peerwall: drop_banned$')
check "each packet has the comment 'peerwall: drop_banned' ($ncomm)" test "$ncomm" -eq "$npk"
if command -v tshark >/dev/null; then
	tcomm=$(tshark -r "$cap" -T fields -e frame.comment 2>/dev/null | grep -c 'peerwall: drop_banned')
	check "tshark shows the comments" test "$tcomm" -eq "$npk"
fi
replay_reads() { local n; n=$(inh "$R" --config "$tmp/pw.conf" --pcap "$cap" --json | jq .packets) && [ "$n" -eq "$npk" ]; }
check "peerwall-replay reads the capture" replay_reads
sampled=$(jq .counters.samples "$tmp/status-after.json")
check "the datapath counted the samples ($sampled)" test "$sampled" -eq "$npk"
send_syns 198.18.9.9 20
wait_syns
sleep 1
check "the window closed: no more samples" test "$(samples)" -eq "$sampled"
check "the agent logged the window closing" grep -q "capture: window closed" "$tmp/agent.log"
check "a reason that is not a drop is refused (exit 2 or 1)" test "$(ctl capture --seconds 1 --reason pass -o "$tmp/x.pcapng" >/dev/null 2>&1; echo $?)" -ne 0

echo "netns: evidence bundle"
ev=$tmp/incident
send_syns 198.18.9.9 30
check "evidence -o DIR --seconds 2" ctl evidence -o "$ev" --seconds 2
wait_syns
for f in capture.pcapng status.json top.json top-pps.json bans.json metrics.txt agent.log peerwall.conf config.json info.json MANIFEST; do
	check "bundle has $f" test -s "$ev/$f"
done
manifest_ok() { (cd "$ev" && sha256sum --strict -c MANIFEST >/dev/null); }
check "sha256sum -c MANIFEST passes" manifest_ok
check "MANIFEST lists 10 files" test "$(wc -l <"$ev/MANIFEST")" -eq 10
check "the bundle's capture holds both windows" test "$(tcpdump -r "$ev/capture.pcapng" -nn 2>/dev/null | wc -l)" -gt "$npk"
check "bans.json has the ban" jq -e '.bans // . | tostring | contains("198.18.9.9")' "$ev/bans.json"
check "agent.log has the ban decision" grep -q 'decision: ban 198.18.9.9/32' "$ev/agent.log"
check "agent.log has the operator's uid" grep -q 'control: uid 0 banned 198.18.9.9' "$ev/agent.log"
check "metrics.txt is the metrics text" grep -q '^peerwall_packets_total{reason="drop_banned",verdict="drop"} [1-9]' "$ev/metrics.txt"
check "config.json: the file is what runs" jq -e '.running == true' "$ev/config.json"
check "peerwall.conf is the config file" cmp -s "$ev/peerwall.conf" "$tmp/pw.conf"
check "status.json is status" jq -e '.interfaces[0].name == "pw0"' "$ev/status.json"
tamper() { echo x >>"$ev/agent.log"; ! (cd "$ev" && sha256sum -c MANIFEST >/dev/null 2>&1); }
check "a changed file fails the MANIFEST" tamper
check "evidence refuses a used directory" test "$(ctl evidence -o "$ev" --seconds 0 >/dev/null 2>&1; echo $?)" -eq 1

echo "netns: forgive"
for _ in 1 2 3; do ctl report invalid 198.18.9.10 weight=100 reason=bad_block >/dev/null; done
sleep 2.5
state() { ctl --json peer "$1" | jq -r "$2"; }
check "reported source banned with a strike" test "$(state 198.18.9.10 '.peer.state + " " + (.peer.strikes|tostring)')" = "banned 1"
check "banned source cannot connect" blocked 198.18.9.10
check "forgive 198.18.9.10" ctl forgive 198.18.9.10
check "forgiven: normal, score 0, no strikes" test "$(state 198.18.9.10 '.peer.state + " " + (.peer.score|tostring) + " " + (.peer.strikes|tostring)')" = "normal 0 0"
check "forgiven: no ban record" test "$(state 198.18.9.10 .ban)" = null
check "forgiven source connects again" connect 198.18.9.10
check "forgive is logged with the uid" grep -q 'control: uid 0 forgave 198.18.9.10 (was banned)' "$tmp/agent.log"
check "forgiving an unknown source is refused" test "$(ctl forgive 198.18.9.77 >/dev/null 2>&1; echo $?)" -eq 1

kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
pid=
pwt_summary "evidence netns tests"
