#!/usr/bin/env bash
# bench-live.sh - peerwall under a live flood on veth with native XDP,
# side by side with no protection and with the cheapest possible one
# (see docs/performance.md, "Live floods").
#
#   pwb-peer  pw1 198.18.1.10 (trusted)  --- pw0 198.18.0.1/24 ---+
#                                                                 pwb-host: peerwalld,
#   pwb-atk   pw3 198.18.8.2  (floods)   --- pw2 198.18.8.1/24 ---+  iperf3 -s on 26656
#
# The flood has a link of its own, so the floor can drop everything on it
# (bare_drop of build/bpf/bare.bpf.o on pw2) while the trusted peer's
# iperf3 crosses pw0 under bare_pass: XDP on a veth costs TCP goodput by
# itself (the receiving veth switches to its XDP path), so the floor has
# XDP on both links as peerwall does. The host routes the spoofed sources
# back through the attacker (one neighbour, not 65536), whose link drops
# the answers at once (bare_drop on pw3).
#
# RUNS rounds; each round measures every protection (none, bare, peerwall;
# the round rotates which goes first, so a neighbour's load on this shared
# host hits them alike); a row's number is the median over the rounds.
#
#  - drop rate: one pw-flood sender pinned to each CPU sends TCP SYNs at
#    full speed for DROP_S seconds, from random sources in 198.19.0.0/16
#    (or from the source banned in that round); rate = packets the
#    receiver took / seconds. On veth the receiver's XDP program runs in
#    the sender's softirq, on the sender's CPU, so this is the rate at
#    which the host generates *and* disposes of the flood: a protection's
#    per-packet cost shows as a lower rate.
#  - goodput: iperf3 TCP from the trusted peer to 26656 (protected) for
#    IPERF_S seconds, with no flood and with one spoofed pw-flood sender
#    (unpinned, paced to FLOOD_PPS: the same attack for every protection;
#    at full speed a costlier receiver slows the veth sender, and the rows
#    would compare attack rates, not protections), under each protection.
#  - time from flood start to ban: a fresh source floods at full speed;
#    start = just before pw-flood is launched, ban = when the agent logs
#    "decision: ban" (polled every 10 ms).
#  - the agent's CPU (utime + stime from /proc/PID/stat over the flood, in
#    % of one core) during those single-source floods and during the
#    spoofed goodput flood, and its memory (VmRSS, VmHWM).
#
# Usage: tools/bench-live.sh [--json FILE]   (as root; BUILD=build)
# Never fails on a missed target; exits non-zero only when it cannot run.
set -uo pipefail
[ -n "${PWB_RUNNING:-}" ] && { echo "bench-live.sh: refusing to run nested" >&2; exit 99; }
export PWB_RUNNING=1
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
D=$BUILD/bin/peerwalld
C=$BUILD/bin/peerwallctl
F=$BUILD/bin/pw-flood
BARE=$BUILD/bpf/bare.bpf.o
H=pwb-host-$$
P=pwb-peer-$$
A=pwb-atk-$$
tmp=$(mktemp -d)
pins=/sys/fs/bpf/peerwall-bench-$$
sock=$tmp/ctl.sock
json_out=
DROP_S=${PWB_DROP_S:-2}
IPERF_S=${PWB_IPERF_S:-4}
RUNS=${PWB_RUNS:-3}
# The goodput floods' rate: the same attack for every protection, one
# that the slowest of them (peerwall on the spoofed flood) still takes
# in full on this host, so the goodput rows compare what each protection
# leaves of the same CPU rather than how much each slows the attacker.
FLOOD_PPS=${PWB_FLOOD_PPS:-80000}
PORT=26656
SPOOF=198.19.0.0/16
pid='' srv='' watcher=''
flood_pids=()

case "${1:-}" in
--json) json_out=${2:?--json needs a file} ;;
"") ;;
*) echo "usage: tools/bench-live.sh [--json FILE]" >&2; exit 2 ;;
esac

cleanup() {
	for p in "${flood_pids[@]}" "$watcher" "$pid" "$srv"; do
		[ -n "$p" ] && { kill -9 "$p" && wait "$p"; } 2>/dev/null
	done
	ip netns del "$H" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	rm -rf "$pins" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench-live.sh: $*" >&2; exit 1; }
inh() { nsenter --net=/run/netns/"$H" "$@"; }
inp() { nsenter --net=/run/netns/"$P" "$@"; }
ina() { nsenter --net=/run/netns/"$A" "$@"; }
ctl() { inh "$C" -s "$sock" "$@"; }
now_ns() { date +%s%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "null" }'; }

[ "$(id -u)" = 0 ] || die "needs root"
for c in iperf3 jq python3 taskset; do command -v $c >/dev/null || die "$c missing (make deps)"; done
for b in "$D" "$C" "$F" "$BARE"; do [ -e "$b" ] || die "$b missing (make all)"; done
ncpu=$(nproc)

# --- namespaces ----------------------------------------------------------------
ip netns add "$H" && ip netns add "$P" && ip netns add "$A" || die "cannot create namespaces"
ip link add pw0 netns "$H" type veth peer name pw1 netns "$P" || die "veth pw0"
ip link add pw2 netns "$H" type veth peer name pw3 netns "$A" || die "veth pw2"
inh ip addr add 198.18.0.1/24 dev pw0
inh ip addr add 198.18.8.1/24 dev pw2
for d in pw0 pw2 lo; do inh ip link set $d up; done
inp ip addr add 198.18.1.10/32 dev pw1
inp ip link set pw1 up
inp ip route add 198.18.0.0/24 dev pw1
ina ip addr add 198.18.8.2/24 dev pw3
ina ip link set pw3 up
inh ip route add 198.18.1.0/24 dev pw0
inh ip route add $SPOOF via 198.18.8.2
inh ip route add 198.18.9.0/24 via 198.18.8.2
MAC2=$(ip -n "$H" -j link show pw2 | jq -r '.[0].address')
# nsenter execs iperf3, so $! is the server.
nsenter --net=/run/netns/"$H" iperf3 -s -B 198.18.0.1 -p $PORT >/dev/null 2>&1 &
srv=$!

cat >"$tmp/pw.conf" <<EOF
# Default limits, scoring and map sizes; the bench's links and paths.
interfaces = ["pw0", "pw2"];
xdp_mode = "native";
protect = ( { proto = "tcp"; port = $PORT; } );
trusted = [ "198.18.1.0/24" ];
state_dir = "$tmp/state";
control_socket = "$sock";
report_socket = "$tmp/report.sock";
pin_root = "$pins";
metrics = { listen = ""; };
EOF
inh "$D" --check-config "$tmp/pw.conf" >/dev/null || die "bench config invalid"

cat >"$tmp/watch.py" <<'PY'
import re, sys, time
log, pattern, out, timeout_s = sys.argv[1:5]
rx, end, pos = re.compile(pattern), time.time() + float(timeout_s), 0
while time.time() < end:
    with open(log, "rb") as f:
        f.seek(pos)
        chunk = f.read()
    stamp = time.time_ns()
    nl = chunk.rfind(b"\n")
    if nl >= 0:
        if any(rx.search(l) for l in chunk[:nl].decode(errors="replace").splitlines()):
            open(out, "w").write("%d\n" % stamp)
            sys.exit(0)
        pos += nl + 1
    time.sleep(0.01)
PY

start_agent() {
	nsenter --net=/run/netns/"$H" "$D" -c "$tmp/pw.conf" -f >>"$tmp/agent.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && ctl status >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop_agent() {
	ctl detach >/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	pid=''
}
# agent_cpu_ticks: utime + stime of the agent (clock ticks)
agent_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
agent_mem_mb() { # FIELD (VmRSS, VmHWM)
	awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1000 }' "/proc/$pid/status"
}
hz=$(getconf CLK_TCK)

# flood_bg SECONDS CPU|- SRC [ARGS]: one pw-flood sender in the attacker
# namespace, in the background; pinned to CPU unless "-".
flood_bg() {
	local secs=$1 cpu=$2 src=$3 out pin=()
	shift 3
	out=$tmp/flood.${#flood_pids[@]}.json
	[ "$cpu" = - ] || pin=(taskset -c "$cpu")
	# nsenter execs (taskset execs) pw-flood: $! is the sender.
	nsenter --net=/run/netns/"$A" "${pin[@]}" "$F" --dev pw3 --dst-mac "$MAC2" \
		--dst 198.18.0.1 --dport $PORT --src "$src" "$@" --seconds "$secs" \
		--json >"$out" &
	flood_pids+=("$!")
}
# flood_wait: wait for every sender (in this shell: they are its
# children); sets sent, lost and secs over all of them.
flood_wait() {
	local p
	for p in "${flood_pids[@]}"; do wait "$p"; done
	flood_pids=()
	read -r sent lost secs < <(cat "$tmp"/flood.*.json |
		jq -s -r '"\(map(.sent) | add) \(map(.failed) | add) \(map(.seconds) | max)"')
	rm -f "$tmp"/flood.*.json
}
mpps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", n / s / 1e6 }'; }
cpu_pct() { # TICKS WALL_NS
	awk -v c="$1" -v hz="$hz" -v w="$2" 'BEGIN { printf "%.1f", 100 * c / hz / (w / 1e9) }'
}

# Results: one space-separated list of run values per row.
declare -A drop gp gpflood
add() { # ARRAY ROW VALUE
	local -n arr=$1
	arr[$2]="${arr[$2]:-}${arr[$2]:+ }$3"
}

# drop_rate ROW SRC [ARGS]: one sender per CPU for DROP_S seconds
drop_rate() {
	local row=$1 src=$2
	shift 2
	for ((c = 0; c < ncpu; c++)); do flood_bg "$DROP_S" $c "$src" "$@"; done
	flood_wait
	add drop "$row" "$(mpps "$sent" "$secs")"
	[ "$lost" -gt 0 ] && add droplost "$row" "$lost"
}
declare -A droplost

# goodput ROW FLOOD(0|1): one iperf3 run, with one spoofed sender (unpinned,
# FLOOD_PPS) started half a second before it when FLOOD is 1
goodput() {
	local row=$1 with_flood=$2 g
	[ "$with_flood" = 1 ] && flood_bg $((IPERF_S + 1)) - $SPOOF --random-src --rate "$FLOOD_PPS"
	sleep 0.5
	g=$(inp iperf3 -c 198.18.0.1 -p $PORT -B 198.18.1.10 -t "$IPERF_S" -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second // 0')
	add gp "$row" "$(awk -v b="${g:-0}" 'BEGIN { printf "%.2f", b / 1e9 }')"
	if [ "$with_flood" = 1 ]; then
		flood_wait
		add gpflood "$row" "$(mpps "$sent" "$secs")"
	fi
}

xdp_off() { inh ip link set dev pw0 xdpdrv off; inh ip link set dev pw2 xdpdrv off; }

# One round of each protection; the rounds rotate which comes first, so
# a neighbour's load hits every protection alike.
round_none() {
	xdp_off
	drop_rate none $SPOOF --random-src
	goodput "no flood, none" 0
	goodput "flood, none" 1
}
round_bare() {
	inh ip link set dev pw0 xdpdrv object "$BARE" program bare_pass &&
		inh ip link set dev pw2 xdpdrv object "$BARE" program bare_drop ||
		die "cannot attach the bare programs"
	drop_rate bare_drop $SPOOF --random-src
	goodput "no flood, bare_pass" 0
	goodput "flood, floor" 1
	xdp_off
}
round_peerwall() { # ROUND
	local src=198.18.9.$((21 + $1)) c0 c1 w0 w1
	start_agent || die "peerwalld did not start (log: $(tail -3 "$tmp/agent.log"))"
	# time to ban: a fresh source floods at full speed
	rm -f "$tmp/ban"
	python3 "$tmp/watch.py" "$tmp/agent.log" "decision: ban ${src//./\\.}/32 " "$tmp/ban" 20 &
	watcher=$!
	c0=$(agent_cpu_ticks) w0=$(now_ns)
	flood_bg 3 - "$src/32"
	wait "$watcher"
	watcher=''
	flood_wait
	c1=$(agent_cpu_ticks) w1=$(now_ns)
	add ban ms "$([ -s "$tmp/ban" ] && echo $((($(cat "$tmp/ban") - w0) / 1000000)) || echo null)"
	add cpu single "$(cpu_pct $((c1 - c0)) $((w1 - w0)))"
	# goodput before the full-speed floods, whose thousands of flagged
	# sources the agent would still be scoring during it
	goodput "no flood, peerwall" 0
	c0=$(agent_cpu_ticks) w0=$(now_ns)
	goodput "flood, peerwall" 1
	c1=$(agent_cpu_ticks) w1=$(now_ns)
	add cpu spoofed "$(cpu_pct $((c1 - c0)) $((w1 - w0)))"
	drop_rate "peerwall, banned source" "$src/32"
	drop_rate "peerwall, spoofed" $SPOOF --random-src
	rss=$(agent_mem_mb VmRSS) hwm=$(agent_mem_mb VmHWM)
	counters=$(ctl --json status | jq -c '.counters')
	stop_agent
}
declare -A ban cpu

echo "== live floods: veth, native XDP, $ncpu CPUs, $RUNS rounds (tools/bench-live.sh)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average at start: $load_start"
# The attacker's side discards the host's answers (SYN-ACKs, RSTs) at
# once, so the host pays for sending them and nothing more.
ina ip link set dev pw3 xdpdrv object "$BARE" program bare_drop || die "cannot attach bare_drop to pw3"
protections=(none bare peerwall)
for ((r = 0; r < RUNS; r++)); do
	order=()
	for ((k = 0; k < 3; k++)); do order+=("${protections[$(((r + k) % 3))]}"); done
	echo "round $((r + 1))/$RUNS: ${order[*]}"
	for p in "${order[@]}"; do
		if [ "$p" = peerwall ]; then round_peerwall "$r"; else "round_$p"; fi
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

med() { tr ' ' '\n' <<<"$1" | grep -v '^null$' | median; }
maxof() { tr ' ' '\n' <<<"$1" | grep -v '^null$' | sort -g | tail -1; }
echo
echo "flood drop rate: $ncpu x pw-flood (one per CPU), TCP SYN, $DROP_S s; median of $RUNS (runs)"
printf '  %-26s %8s   %s\n' protection Mpps runs
for row in none bare_drop "peerwall, banned source" "peerwall, spoofed"; do
	printf '  %-26s %8s   %s%s\n' "$row" "$(med "${drop[$row]}")" "${drop[$row]}" \
		"${droplost[$row]:+ (ring full: ${droplost[$row]})}"
done
echo "  (sources: random in $SPOOF, or the one source banned in that round)"
echo
echo "trusted goodput: iperf3 TCP 198.18.1.10 -> 198.18.0.1:$PORT, $IPERF_S s; flood: 1 x pw-flood, random sources in $SPOOF, $FLOOD_PPS pps"
printf '  %-26s %8s   %-22s %s\n' scenario Gbit/s runs "flood Mpps (runs)"
for row in "no flood, none" "no flood, bare_pass" "no flood, peerwall" "flood, none" "flood, floor" "flood, peerwall"; do
	printf '  %-26s %8s   %-22s %s\n' "$row" "$(med "${gp[$row]}")" "${gp[$row]}" "${gpflood[$row]:--}"
done
echo "  (floor: bare_pass on the trusted link, bare_drop on the flood link)"
ratio=$(awk -v a="$(med "${gp["flood, peerwall"]}")" -v b="$(med "${gp["flood, floor"]}")" \
	'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
echo "  peerwall / floor under the flood: $ratio"
echo
echo "time from flood start to ban (ms, agent tick included): ${ban[ms]}"
echo "agent CPU, % of one core: single-source floods ${cpu[single]}; spoofed floods ${cpu[spoofed]}"
echo "agent memory after the last round: VmRSS $rss MB, VmHWM $hwm MB"
echo "datapath counters of the last round: $(jq -r 'to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ")' <<<"$counters")"
echo "load average at the end: $load_end"

if [ -n "$json_out" ]; then
	runs_json() { tr ' ' '\n' <<<"$1" | jq -s -c .; }
	obj() { # ARRAY ROW=KEY...: {"KEY": median, ...} and "KEY_runs"
		local -n tab=$1
		local kv row key out='{}'
		shift
		for kv in "$@"; do
			row=${kv%=*} key=${kv##*=}
			out=$(jq -c --arg k "$key" --argjson m "$(med "${tab[$row]:-}")" \
				--argjson r "$(runs_json "${tab[$row]:-}")" '. + {($k): $m, ($k + "_runs"): $r}' <<<"$out")
		done
		echo "$out"
	}
	jq -n \
		--arg ls "$load_start" --arg le "$load_end" --argjson ncpu "$ncpu" --argjson runs "$RUNS" \
		--argjson drop "$(obj drop none=none bare_drop=bare_drop "peerwall, banned source=peerwall_banned" "peerwall, spoofed=peerwall_spoofed")" \
		--argjson gp "$(obj gp "no flood, none=no_flood_none" "no flood, bare_pass=no_flood_bare_pass" \
			"no flood, peerwall=no_flood_peerwall" "flood, none=flood_none" "flood, floor=flood_floor" \
			"flood, peerwall=flood_peerwall")" \
		--argjson gpf "$(obj gpflood "flood, none=none" "flood, floor=floor" "flood, peerwall=peerwall")" \
		--argjson ratio "$ratio" --argjson fpps "$FLOOD_PPS" \
		--argjson ban "$(runs_json "${ban[ms]}")" --argjson banmax "$(maxof "${ban[ms]}")" \
		--argjson cpu1 "$(maxof "${cpu[single]}")" --argjson cpus "$(maxof "${cpu[spoofed]}")" \
		--argjson rss "${rss:-null}" --argjson hwm "${hwm:-null}" \
		'{live: {
			cpus: $ncpu, rounds: $runs, load_avg_start: $ls, load_avg_end: $le,
			drop_mpps: $drop, goodput_gbps: $gp, goodput_flood_pps_target: $fpps,
			goodput_flood_mpps: $gpf,
			goodput_ratio_peerwall_floor: $ratio,
			ban_ms_runs: $ban, ban_ms_max: $banmax,
			agent_cpu_pct_single_max: $cpu1, agent_cpu_pct_spoofed_max: $cpus,
			agent_rss_mb: $rss, agent_hwm_mb: $hwm}}' >"$json_out" ||
		die "could not write $json_out"
fi
exit 0
