#!/usr/bin/env bash
# bench-emergency.sh - `peerwallctl emergency on/off`, command to
# enforcement in both layers, with 100k trusted CIDRs already loaded, beside
# the same change made with `nft -f` from a file (process start included in
# both). Called by tools/bench.sh; merges {"emergency": ...} into
# $BUILD/bench.json.
#
# The agent runs in a namespace of its own on a veth with native XDP and
# the trusted set in its config: 100k IPv6 /48s inside fd00::/8 (every
# other /48, so none merge), only loaded into sets, never used.
set -uo pipefail
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
D=$root/$BUILD/bin/peerwalld
C=$root/$BUILD/bin/peerwallctl
N=${PW_BENCH_TRUSTED:-100000}
REPS=${PW_BENCH_EMERG_REPS:-20}
H=pwbe-$$
tmp=$(mktemp -d)
pins=/sys/fs/bpf/peerwall-bench-$$
sock=$tmp/ctl.sock
OUT=${PW_BENCH_JSON:-$root/$BUILD/bench.json}
pid=

cleanup() {
	[ -n "$pid" ] && { kill -9 "$pid"; wait "$pid"; } 2>/dev/null
	ip netns del "$H" 2>/dev/null
	rm -rf "$pins" "$tmp"
}
trap cleanup EXIT INT TERM
inh() { nsenter --net=/run/netns/"$H" "$@"; }
ctl() { inh "$C" -s "$sock" "$@"; }
ms_now() { date +%s%N; }

ip netns add "$H" || exit 1
ip link add pwb0 netns "$H" type veth peer name pwb1 netns "$H" || exit 1
inh ip link set pwb0 up
inh ip link set pwb1 up

# N trusted CIDRs that never merge into fewer intervals.
python3 - "$N" >"$tmp/trusted.txt" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    v = 2 * i
    print(f"fd00:{v >> 16:x}:{v & 0xffff:x}::/48")
PY
{
	echo 'interfaces = ["pwb0"];'
	echo 'protect = ( { proto = "tcp"; port = 26656; } );'
	printf 'trusted = [ '
	paste -sd, "$tmp/trusted.txt" | sed 's/\([^,]*\)/"\1"/g'
	echo ' ];'
	echo "state_dir = \"$tmp/state\";"
	echo "control_socket = \"$sock\";"
	echo "report_socket = \"$tmp/report.sock\";"
	echo "pin_root = \"$pins\";"
	echo 'metrics = { listen = ""; };'
	echo 'maps = { sources = 65536; prefixes = 4096; sanctions = 4096; bancidrs = 1024; };'
} >"$tmp/pw.conf"

t0=$(ms_now)
nsenter --net=/run/netns/"$H" "$D" -c "$tmp/pw.conf" -f >"$tmp/agent.log" 2>&1 &
pid=$!
for _ in $(seq 600); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl status >/dev/null 2>&1 || { echo "bench-emergency: agent did not start"; tail -5 "$tmp/agent.log"; exit 1; }
start_ms=$((($(ms_now) - t0) / 1000000))

# peerwallctl emergency on/off: the reply comes after both layers took it.
on_ms=() off_ms=()
for _ in $(seq "$REPS"); do
	t=$(ms_now); ctl emergency on --ttl 10m >/dev/null || exit 1
	on_ms+=($((($(ms_now) - t) / 1000)))
	t=$(ms_now); ctl emergency off >/dev/null || exit 1
	off_ms+=($((($(ms_now) - t) / 1000)))
done
# Enforcement really in place (one more on, checked, then off).
ctl emergency on --ttl 10m >/dev/null
rules=$(inh nft -j list chain inet peerwall prerouting | jq '[.nftables[] | select(.rule) | select(any(.rule.expr[]; has("drop")))] | length')
xdp=$(ctl --json status | jq '.emergency.xdp | length')
ctl emergency off >/dev/null

# The same rule change with nft -f (one rule that references the set).
cat >"$tmp/rule.nft" <<'EOF'
add rule inet peerwall prerouting meta l4proto . th dport @protected ip6 saddr != @trusted_v6 drop
EOF
cat >"$tmp/flush.nft" <<'EOF'
flush chain inet peerwall prerouting
EOF
nft_ms=()
for _ in $(seq "$REPS"); do
	t=$(ms_now); inh nft -f "$tmp/rule.nft" || exit 1
	nft_ms+=($((($(ms_now) - t) / 1000)))
	inh nft -f "$tmp/flush.nft"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
on=$(median "${on_ms[@]}") off=$(median "${off_ms[@]}") nftf=$(median "${nft_ms[@]}")
us_to_ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

echo "== emergency mode, $N trusted CIDRs loaded (agent start ${start_ms} ms)"
printf '  %-44s %8s ms\n' "peerwallctl emergency on (XDP + nft)" "$(us_to_ms "$on")"
printf '  %-44s %8s ms\n' "peerwallctl emergency off" "$(us_to_ms "$off")"
printf '  %-44s %8s ms\n' "nft -f: add the drop rule only" "$(us_to_ms "$nftf")"
echo "  enforcement seen: $rules nft drop rules, XDP flag on $xdp interface(s)"
met() { awk -v v="$1" 'BEGIN { exit !(v < 10000) }' && echo met || echo "NOT met"; }
echo "  target: on/off under 10 ms with $N trusted: on $(met "$on"), off $(met "$off")"

if [ -f "$OUT" ]; then
	jq --argjson n "$N" --argjson on "$on" --argjson off "$off" \
		--argjson nftf "$nftf" --argjson start "$start_ms" \
		'.emergency = {trusted_cidrs: $n, on_us: $on, off_us: $off,
		  nft_f_add_rule_us: $nftf, agent_start_ms: $start}' \
		"$OUT" >"$tmp/b.json" && cp "$tmp/b.json" "$OUT"
fi
