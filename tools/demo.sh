#!/usr/bin/env bash
# make demo: peerwall defending a validator host, live, in network
# namespaces this script creates (and always removes, Ctrl-C included).
#
#   pwd-lan-$$     bridge br0 joining the others (each on a veth)
#   pwd-host-$$    pw0 198.18.0.1     peerwalld (XDP native on pw0), and an
#                                     echo service on the P2P port 26656/tcp
#   pwd-trust-$$   198.18.1.10        the trusted peer (config allowlist)
#   pwd-honest-$$  198.18.2.11-15     five honest peers
#   pwd-attack-$$  198.18.66.6        the attacker (hping3); its UDP flood
#                                     is spoofed from 198.18.77.7
#
# Every address is in 198.18.0.0/15 (spoofed ones too; never --rand-source).
# Live numbers come from peerwallctl; honest peers are tools/demo-traffic.py
# (persistent connections, 10 request/response exchanges a second each).
set -uo pipefail
# Never run nested (a quoting slip once made a test script call itself).
[ -n "${PWDEMO_RUNNING:-}" ] && { echo "demo.sh: refusing to run nested" >&2; exit 99; }
export PWDEMO_RUNNING=1
if [ "$(id -u)" != 0 ]; then
	echo "make demo: needs root for namespaces and XDP (sudo make demo)" >&2
	exit 1
fi
for t in hping3 jq python3 nsenter ip; do
	command -v "$t" >/dev/null || { echo "make demo: $t not installed (make deps)" >&2; exit 1; }
done
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	echo "make demo: no bpffs at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)" >&2
	exit 1
fi

BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) bin=$BUILD/bin ;; *) bin=$root/$BUILD/bin ;; esac
D=$bin/peerwalld
C=$bin/peerwallctl
TRAFFIC=$root/tools/demo-traffic.py
L=pwd-lan-$$ H=pwd-host-$$ T=pwd-trust-$$ P=pwd-honest-$$ A=pwd-attack-$$
NSES="$L $H $T $P $A"
SRV=198.18.0.1 ATK=198.18.66.6 SPOOF=198.18.77.7 TRUSTED=198.18.1.10
HONEST="198.18.2.11 198.18.2.12 198.18.2.13 198.18.2.14 198.18.2.15"
RATE=10 # requests/s per peer
N_HONEST=5
pins=/sys/fs/bpf/peerwall-demo-$$
tmp=$(mktemp -d /tmp/peerwall-demo-$$.XXXXXX)
sock=$tmp/ctl.sock
pids=()

cleanup() {
	# once: a second Ctrl-C must not cut the cleanup short
	trap '' INT TERM HUP PIPE
	trap - EXIT
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in $NSES; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$pins" "$tmp"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: cleaning up"; cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap 'cleanup; exit 141' PIPE

die() { echo "make demo: $*" >&2; [ -f "$tmp/agent.log" ] && tail -5 "$tmp/agent.log" >&2; exit 1; }
in_ns() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }
ctl() { in_ns "$H" "$C" -s "$sock" "$@"; }
say() { printf '\n== %s\n' "$*"; }

# --- topology -----------------------------------------------------------------
# Interface names are per namespace: every peer namespace has eth0, the
# host pw0; the bridge ports in the lan namespace are bp-<role>.
setup_net() {
	local ns
	for ns in $NSES; do ip netns add "$ns" || return 1; done
	ip -n "$L" link add br0 type bridge && ip -n "$L" link set br0 up || return 1
	ip link add bp-host netns "$L" type veth peer name pw0 netns "$H" &&
		ip link add bp-trust netns "$L" type veth peer name eth0 netns "$T" &&
		ip link add bp-honest netns "$L" type veth peer name eth0 netns "$P" &&
		ip link add bp-attack netns "$L" type veth peer name eth0 netns "$A" || return 1
	for p in bp-host bp-trust bp-honest bp-attack; do
		ip -n "$L" link set "$p" master br0 up || return 1
	done
	ip -n "$H" addr add $SRV/15 dev pw0 && ip -n "$H" link set pw0 up && ip -n "$H" link set lo up &&
		ip -n "$T" addr add $TRUSTED/15 dev eth0 &&
		ip -n "$A" addr add $ATK/15 dev eth0 || return 1
	local first=1 a
	for a in $HONEST; do
		if [ $first = 1 ]; then ip -n "$P" addr add "$a/15" dev eth0; first=0
		else ip -n "$P" addr add "$a/32" dev eth0; fi || return 1
	done
	for ns in $T $P $A; do ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up || return 1; done
}

write_config() {
	cat >"$tmp/pw.conf" <<EOF
interfaces = [ "pw0" ];
xdp_mode = "native";
protect = ( { proto = "tcp"; port = 26656; }, { proto = "udp"; port = 30303; } );
trusted = [ "198.18.1.0/24" ];
maps = { sources = 65536; prefixes = 4096; sanctions = 4096; bancidrs = 1024; };
state_dir = "$tmp/state";
control_socket = "$sock";
control_group = "";
report_socket = "$tmp/report.sock";
pin_root = "$pins";
metrics = { listen = ""; };
detach_on_exit = true;
EOF
}

start_agent() {
	# nsenter execs the agent, so $! is the agent itself.
	nsenter --net=/run/netns/"$H" "$D" -c "$tmp/pw.conf" -f >>"$tmp/agent.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 50); do
		[ -S "$sock" ] && ctl status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# --- live numbers -------------------------------------------------------------
now_us() { echo "${EPOCHREALTIME/./}"; }
t0=$(now_us)
# counters: "<packets seen on pw0> <dropped>" since the agent started.
counters() {
	ctl --json status 2>/dev/null | jq -r '.counters as $c
	  | [ ([$c | to_entries[] | select(.key | test("^(pass|drop_|malformed$)")) | .value] | add),
	      (([$c | to_entries[] | select(.key | startswith("drop_")) | .value] | add) + $c.malformed_dropped)
	    ] | "\(.[0]) \(.[1])"'
}
state_of() { ctl --json peer "$1" 2>/dev/null | jq -r '.peer.state // "-"'; }
# stats_of honest|trusted: "S OK FAILED", see tools/demo-traffic.py.
stats_of() { cat "$tmp/$1.stats" 2>/dev/null || echo "0 0 0"; }
short() { # a count, in 4 characters or so
	if [ "$1" -ge 10000000 ]; then echo "$(($1 / 1000000))M"
	elif [ "$1" -ge 1000000 ]; then echo "$(($1 / 1000000)).$(($1 % 1000000 / 100000))M"
	elif [ "$1" -ge 10000 ]; then echo "$(($1 / 1000))k"
	elif [ "$1" -ge 1000 ]; then echo "$(($1 / 1000)).$(($1 % 1000 / 100))k"
	else echo "$1"; fi
}

declare -A seen_at # "ADDR state" -> us since the demo started, first seen
watch=()           # addresses whose state is polled (10 times a second)
poll_states() {
	local a s
	for a in "${watch[@]}"; do
		s=$(state_of "$a")
		[ -n "${seen_at[$a $s]:-}" ] || seen_at[$a $s]=$(($(now_us) - t0))
		cur_state[$a]=$s
	done
}
declare -A cur_state
sum_hok=0 sum_hexp=0 sum_tok=0 sum_texp=0 counting=0

# progress N: N progress lines, one a second, each once the honest and
# trusted peers' outcomes for the second just ended are settled (see
# tools/demo-traffic.py); the watched sources' states are polled meanwhile.
progress() {
	local i sec deadline left now seen drop line a el
	local hs hok hf ts tok tf
	for ((i = 0; i < $1; i++)); do
		# the line for second last_hs: due once it has ended (and
		# settled: a timed-out exchange settles up to 1 s late)
		sec=$((last_hs + 1))
		deadline=$((sec * 1000000 + 60000))
		while :; do
			poll_states
			now=$(now_us)
			if [ "$now" -ge $deadline ]; then
				read -r hs hok hf <<<"$(stats_of honest)"
				read -r ts tok tf <<<"$(stats_of trusted)"
				[ "$hs" -ge $sec ] && [ "$ts" -ge $sec ] && break
				[ "$now" -ge $((deadline + 1000000)) ] && break
				left=20000
			else
				left=$((deadline - now))
				[ $left -gt 100000 ] && left=100000
			fi
			sleep "$(printf '0.%06d' $left)"
		done
		read -r seen drop <<<"$(counters)"
		[ -n "$drop" ] || die "peerwalld stopped answering"
		el=$((now - last_us))
		line=$(printf 't=%3ds  pw0 %4s pps  dropped %4s pps (%4s total)  honest %s  trusted %s' \
			$((sec - t0 / 1000000)) "$(short $(((seen - last_seen) * 1000000 / el)))" \
			"$(short $(((drop - last_drop) * 1000000 / el)))" "$(short "$drop")" \
			"$(per_sec "$hs" "$hok" "$hf" $last_hs $last_hok $last_hf)" \
			"$(per_sec "$ts" "$tok" "$tf" $last_ts $last_tok $last_tf)")
		for a in "${watch[@]}"; do line+="  ${a#198.18.}: ${cur_state[$a]:--}"; done
		echo "$line"
		if [ $counting = 1 ]; then
			sum_hok=$((sum_hok + hok - last_hok)) sum_hexp=$((sum_hexp + hok + hf - last_hok - last_hf))
			sum_tok=$((sum_tok + tok - last_tok)) sum_texp=$((sum_texp + tok + tf - last_tok - last_tf))
		fi
		last_us=$now last_seen=$seen last_drop=$drop
		last_hs=$hs last_hok=$hok last_hf=$hf last_ts=$ts last_tok=$tok last_tf=$tf
	done
}
# per_sec S OK FAILED S0 OK0 FAILED0: "ok/due" per second between two
# readings of a stats file.
per_sec() {
	local ds=$(($1 - $4))
	if [ $ds -le 0 ]; then
		echo " -/-"
	else
		printf '%2d/%d' $((($2 - $5) / ds)) $((($2 + $3 - $5 - $6) / ds))
	fi
}
# sample: start counting from now (no line printed).
sample() {
	last_us=$(now_us)
	read -r last_seen last_drop <<<"$(counters)"
	read -r last_hs last_hok last_hf <<<"$(stats_of honest)"
	read -r last_ts last_tok last_tf <<<"$(stats_of trusted)"
}

# attack NAME ARGS...: hping3 from the attacker's namespace, in the background.
attack() {
	local name=$1
	shift
	nsenter --net=/run/netns/"$A" hping3 -q "$@" $SRV >"$tmp/$name.hping" 2>&1 &
	atk_pid=$!
	pids+=("$atk_pid")
}
# reap PID: wait for a child and forget it, so that cleanup never signals
# a process that reused its pid.
reap() {
	local p keep=()
	wait "$1" 2>/dev/null
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
# stop_attack: stop hping3 (on SIGINT it prints its statistics).
stop_attack() {
	kill -INT "$atk_pid" 2>/dev/null
	reap "$atk_pid"
}
# sent NAME: the packets hping3 says it sent.
sent() {
	local n
	n=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$tmp/$1.hping")
	echo "${n:-0}"
}
# secs_to ADDR STATE START_US: seconds from START_US until ADDR was first
# seen in STATE (states are polled 10 times a second).
secs_to() {
	local at=${seen_at[$1 $2]:-} d
	[ -n "$at" ] || { echo "never"; return; }
	d=$(((at - $3) / 100000))
	echo "$((d / 10)).$((d % 10)) s"
}
# through ADDR: packets from ADDR the datapath let through (it counts a
# source's packets until the source is banned, and none after).
through() { ctl --json peer "$1" | jq -r '.datapath | .packets - .drops'; }

# --- the demo -------------------------------------------------------------------
echo "peerwall demo: a validator host (pw0, XDP native) with one trusted peer,"
echo "$N_HONEST honest peers and an attacker, in network namespaces *-$$"
setup_net || die "could not create the namespaces"
write_config
in_ns "$H" "$D" --check-config "$tmp/pw.conf" >/dev/null || die "config rejected"
nsenter --net=/run/netns/"$H" python3 "$TRAFFIC" serve $SRV 26656 >"$tmp/serve.log" 2>&1 &
pids+=("$!")
start_agent || die "peerwalld did not start"
mode=$(ctl --json status | jq -r '.interfaces[0].xdp_mode')
echo "peerwalld: XDP $mode on pw0; protects 26656/tcp, 30303/udp; trusted 198.18.1.0/24"
echo "limits (defaults): per source 2000 pps, 20 SYN/s; quarantined 200 pps, 2 SYN/s"
nsenter --net=/run/netns/"$P" python3 "$TRAFFIC" peers --server $SRV:26656 --rate $RATE --stats "$tmp/honest.stats" $HONEST &
pids+=("$!")
nsenter --net=/run/netns/"$T" python3 "$TRAFFIC" peers --server $SRV:26656 --rate $RATE --stats "$tmp/trusted.stats" $TRUSTED &
pids+=("$!")
# wait until the peers have settled their first whole second
hs0=0 hs=0 ts=0
for _ in $(seq 40); do
	read -r hs _ <<<"$(stats_of honest)"
	read -r ts _ <<<"$(stats_of trusted)"
	[ "$hs0" = 0 ] && hs0=$hs
	[ "$hs0" -gt 0 ] && [ "$hs" -gt "$hs0" ] && [ "$ts" -ge "$hs" ] && break
	sleep 0.1
done
sample

say "1. honest traffic: $N_HONEST peers and the trusted peer, $RATE requests/s each"
echo "each second: packets/s arriving at pw0 and dropped there (peerwallctl --json status),"
echo "requests answered/due that second, watched sources' states (peerwallctl --json peer)"
progress 3

say "2. the attacker probes: 150 SYNs in half a second from $ATK"
watch=("$ATK")
counting=1
read -r _ c0_drop <<<"$(counters)"
t_probe=$(($(now_us) - t0))
attack probe -S -p 26656 -i u3000 -c 150
progress 3
reap "$atk_pid"

say "3. SYN flood from $ATK (hping3 -S --flood)"
t_syn=$(($(now_us) - t0))
attack syn -S --flood -p 26656
progress 10
stop_attack
read -r _ c1_drop <<<"$(counters)"

say "4. UDP flood to 30303, spoofed from $SPOOF (hping3 --udp --flood -a $SPOOF)"
watch=("$ATK" "$SPOOF")
t_udp=$(($(now_us) - t0))
attack udp --udp --flood -a $SPOOF -p 30303
progress 8
stop_attack
read -r _ c2_drop <<<"$(counters)"
counting=0 watch=()

say "5. peerwallctl top -n 4 --by drops (each source's last scored tick)"
ctl top -n 4 --by drops

say "6. emergency mode: only trusted sources reach the P2P ports"
sample
echo "\$ peerwallctl emergency on --ttl 30s"
ctl emergency on --ttl 30s || die "emergency on failed"
progress 4
echo "\$ peerwallctl emergency status"
ctl emergency status || die "emergency status failed"
echo "\$ peerwallctl emergency off"
ctl emergency off || die "emergency off failed"
progress 3

say "7. the ban list, for other hosts (peerwallctl export --format txt)"
ctl export --format txt

say "summary"
row() { printf '%-27s %10s %14s %12s %12s\n' "$@"; }
row "attack" "sent" "dropped (XDP)" "let through" "time to ban"
row "SYN probe + flood, .66.6" $(($(sent probe) + $(sent syn))) $((c1_drop - c0_drop)) \
	"$(through $ATK)" "$(secs_to $ATK banned $t_syn)"
row "UDP flood, spoofed .77.7" "$(sent udp)" $((c2_drop - c1_drop)) \
	"$(through $SPOOF)" "$(secs_to $SPOOF banned $t_udp)"
echo "the attacker was quarantined $(secs_to $ATK quarantine $t_probe) after its probe began,"
echo "banned $(secs_to $ATK banned $t_syn) after its SYN flood began"
pct() { [ "$2" -gt 0 ] && echo "$(($1 * 1000 / $2 / 10)).$(($1 * 1000 / $2 % 10))%" || echo "-"; }
echo "requests answered during the attacks: honest peers $sum_hok of $sum_hexp ($(pct $sum_hok $sum_hexp)),"
echo "trusted peer $sum_tok of $sum_texp ($(pct $sum_tok $sum_texp))"
