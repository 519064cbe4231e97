#!/usr/bin/env bash
# docs/runbook.md, executed. Every line of every ```sh block runs, in
# document order, in one shell, against the real agent in a network
# namespace while attackers flood it over a veth (the shape of
# tests/netns/agent.sh); a line that fails fails the test. A few lines are
# followed by checks of their effect (a ban blocks, emergency mode lets
# only trusted peers through, ...). Then: every `peerwallctl COMMAND` the
# runbook mentions anywhere is one the blocks ran, and every metric the
# alert rules and the dashboard use is in the live agent's /metrics.
#
#   pwr-host  pw0 198.18.0.1/24    peerwalld, a TCP service on 26656
#   pwr-peer  pw1 198.18.0.2/24    an untrusted honest peer
#             198.18.1.10          trusted (config)
#             198.18.2.5           trusted at runtime (allow add 198.18.2.0/28)
#             198.18.9.9-12        attackers (9.11, 9.12 flood SYNs)
#
# The runbook's paths and names map to this test's: /etc/peerwall/peerwall.conf,
# /var/lib/peerwall, eth0, /var/tmp/incident, /sys/fs/bpf/peerwall. Programs
# that need something this machine lacks are shell functions:
#   peerwallctl, ip, curl  run inside the host namespace (-s: the test's socket)
#   nft                    runs in the peer namespace (the "upstream box")
#   systemctl, journalctl  systemd is not PID 1 here: `restart` restarts the
#                          test's agent, `status` checks it, journalctl greps
#                          the agent's log (-g must match something)
#
# Commands another change is adding (emergency, capture, evidence, forgive,
# top --by conns) are probed in `peerwallctl -h`: when this build lacks
# one, its lines (and the lines that use their output) are reported as
# "pend" and not run; once the command exists they must pass.
set -uo pipefail
. "$(dirname "$0")/../netns/lib.sh"
pwt_guard runbook.sh PWT_RUNNING
pwt_init
RB=$root/docs/runbook.md
H=pwr-host-$$
P=pwr-peer-$$
flood=
pending=0
pwt_xdp_devs=pw0
pwt_keep_log=${PWT_KEEP_LOG:-}
# a failed line shows its own output and log lines
pwt_log_lines=0

cleanup() {
	[ -n "$flood" ] && kill $flood 2>/dev/null
	pwt_cleanup
}
pwt_trap

# --- the runbook's programs ---------------------------------------------------
peerwallctl() { inh "$C" -s "$sock" "$@"; }
peerwalld() { "$D" "$@"; }
peerwall-replay() { "$R" "$@"; }
ip() { nsenter --net=/run/netns/"$H" ip "$@"; }
curl() { nsenter --net=/run/netns/"$H" curl "$@"; }
nft() { nsenter --net=/run/netns/"$P" nft "$@"; }
systemctl() {
	case "$1 ${2:-}" in
	"status peerwalld") kill -0 "$pid" 2>/dev/null && echo "peerwalld: active (running), pid $pid" ;;
	"restart peerwalld") kill -TERM "$pid" && wait "$pid"; start_agent ;;
	*) echo "systemctl shim: unsupported: $*" >&2; return 2 ;;
	esac
}
journalctl() {
	local pat= n=
	while [ $# -gt 0 ]; do
		case "$1" in
		-t | -u | --since) shift ;;
		-g) pat=$2; shift ;;
		-n) n=$2; shift ;;
		*) echo "journalctl shim: unsupported: $1" >&2; return 2 ;;
		esac
		shift
	done
	if [ -n "$pat" ]; then grep -E -- "$pat" "$tmp/agent.log"; else tail -n "${n:-1000000}" "$tmp/agent.log"; fi
}

start_agent() { pwt_start_agent; }
# connect SRC: a TCP exchange with the service completes
connect() { pwt_exchange "$P" "$1" 198.18.0.1 26656; }
blocked() { ! connect "$1"; }
state_is() { [ "$(ctl --json peer "$1" | jq -r .peer.state)" = "$2" ]; }
posture_is() { [ "$(ctl --json status | jq -r .posture)" = "$1" ]; }
emergency_is() { [ "$(ctl --json status | jq -r .emergency.on)" = "$1" ]; }
prog_count() { pwt_xdp_count pw0; }
nonempty() { [ -s "$1" ]; }
nonempty_dir() { [ -n "$(ls -A "$1" 2>/dev/null)" ]; }

echo "runbook: setting up $H <-> $P"
pwt_pair "$H" pw0 "$P" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24
pwt_addrs "$P" pw1 198.18.0.2/24 198.18.1.10/32 198.18.2.5/32 198.18.9.9/32 198.18.9.10/32 198.18.9.11/32 198.18.9.12/32
pwt_routes "$H" pw0 198.18.1.0/24 198.18.2.0/24 198.18.9.0/24

pwt_echo_server "$H" -b 198.18.0.1 tcp/26656

pwt_conf "$tmp/pw.conf" 'metrics = { listen = "127.0.0.1:9477"; };'
mkdir -p "$tmp/work" "$tmp/incident-base"
check "agent starts" start_agent || exit 1
check "honest peer connects before the attack" connect 198.18.0.2

# The attack: SYN floods from two sources for the whole incident.
if command -v hping3 >/dev/null; then
	for a in 198.18.9.11 198.18.9.12; do
		nsenter --net=/run/netns/"$P" hping3 -q -S -i u1000 -a $a -p 26656 198.18.0.1 >/dev/null 2>&1 &
		flood="$flood $!"
	done
	sleep 3
else
	echo "  skip  hping3 not installed: no flood (the runbook still runs)"
fi

# --- which announced commands this build has ------------------------------------
help=$("$C" -h)
missing_features=
for f in emergency capture evidence forgive; do grep -q "^  $f" <<<"$help" || missing_features="$missing_features $f"; done
grep -q 'top .*conns' <<<"$help" || missing_features="$missing_features conns"
[ -n "$missing_features" ] && echo "runbook: not in this build yet:$missing_features"
has() { ! grep -qw "$1" <<<"$missing_features"; }
# needs LINE: the feature a line depends on that this build lacks, if any
needs() {
	case "$1" in
	*"peerwallctl emergency"*) has emergency || echo emergency ;;
	*"peerwallctl capture"* | *drops.pcapng*) has capture || echo capture ;;
	*"peerwallctl evidence"*) has evidence || echo evidence ;;
	*"peerwallctl forgive"*) has forgive || echo forgive ;;
	*"--by conns"*) has conns || echo "top --by conns" ;;
	esac
}

# --- checks tied to lines ------------------------------------------------------
before() {
	case "$1" in
	"peerwallctl emergency off")
		# the attack is over when the operator rolls back
		[ -n "$flood" ] && kill $flood 2>/dev/null
		flood=
		sleep 1.5
		;;
	"journalctl -t peerwalld -g 'saving state'")
		# make the state directory unwritable for the agent (a file in its
		# place), and give it something to save
		mv "$tmp/state" "$tmp/state.real" && : >"$tmp/state"
		ctl ban 198.18.9.9 --ttl 1m --reason state-test >/dev/null
		sleep 2.5
		;;
	esac
}
after() {
	case "$1" in
	"peerwallctl ban 198.18.9.0/24 --ttl 6h --reason \"flood INC-1234\"")
		check "  the banned /24 cannot connect" blocked 198.18.9.9
		check "  an honest peer still connects" connect 198.18.0.2
		check "  a trusted peer still connects" connect 198.18.1.10 ;;
	"peerwallctl quarantine 198.18.9.10 --ttl 30m")
		check "  198.18.9.10 is quarantined" state_is 198.18.9.10 quarantine ;;
	"peerwallctl posture severe")
		check "  posture is severe" posture_is severe ;;
	"peerwallctl emergency on --ttl 30m")
		check "  emergency: status says true" emergency_is true
		check "  emergency: an untrusted honest peer is dropped" blocked 198.18.0.2
		check "  emergency: a config-trusted peer connects" connect 198.18.1.10
		check "  emergency: the peer trusted with allow add connects" connect 198.18.2.5 ;;
	"peerwallctl emergency off")
		check "  emergency off: the honest peer connects again" connect 198.18.0.2 ;;
	"peerwallctl posture normal")
		check "  posture is normal" posture_is normal ;;
	"peerwallctl unban 198.18.9.0/24")
		check "  the /24 connects again (198.18.9.9)" connect 198.18.9.9 ;;
	"peerwallctl forgive 198.18.9.11")
		sleep 1.5
		not_banned() { ! state_is 198.18.9.11 banned; }
		check "  198.18.9.11 is not banned after forgive" not_banned ;;
	"peerwallctl import bans.txt --ttl 1d")
		check "  bans.txt has the bans" grep -q '198.18.9.0/24' bans.txt ;;
	"nft -f bans.nft")
		nft_has() { local t; t=$(nft list table inet peerwall) && grep -q '198.18.9.0/24' <<<"$t"; }
		check "  the upstream box's nft set holds the banned /24" nft_has ;;
	"peerwallctl evidence -o \$d/bundle")
		check "  evidence bundle written" nonempty_dir "$d/bundle" ;;
	"peerwallctl capture --seconds 10 -o \$d/drops.pcapng")
		check "  capture written" nonempty "$d/drops.pcapng" ;;
	"peerwall-replay --config /etc/peerwall/peerwall.conf --pcap \$d/drops.pcapng --json > \$d/replay.json")
		check "  replay report is JSON" jq -e . "$d/replay.json" ;;
	"systemctl restart peerwalld")
		check "  the restart adopted the pinned maps" grep -q 'adopted pinned maps' "$tmp/agent.log"
		check "  still one XDP program" test "$(prog_count)" -eq 1 ;;
	"ls -la /var/lib/peerwall")
		failures() { local t; t=$(curl -s http://127.0.0.1:9477/metrics) && grep -q '^peerwall_state_write_failures_total [1-9]' <<<"$t"; }
		check "  peerwall_state_write_failures_total counts the failures" failures
		rm -f "$tmp/state" && mv "$tmp/state.real" "$tmp/state"
		sleep 1.5
		saved() { grep -q 'state-test' "$tmp/state/state.json"; }
		check "  state saved again once the directory is back" saved ;;
	"peerwallctl detach")
		pwt_await_exit 30
		check "  after detach no XDP program is attached" test "$(prog_count)" -eq 0 ;;
	esac
}

# --- run the runbook ------------------------------------------------------------
# Lines of ```sh blocks, with the runbook's paths mapped to the test's.
mapfile -t lines < <(awk '/^```sh$/ {on = 1; next} /^```/ {on = 0} on' "$RB")
[ "${#lines[@]}" -ge 40 ] || { bad "runbook has only ${#lines[@]} command lines in sh blocks"; exit 1; }
cd "$tmp/work" || exit 1
echo "runbook: running ${#lines[@]} lines of docs/runbook.md"
ran_cmds=
for line in "${lines[@]}"; do
	case "$line" in "" | "#"*) continue ;; esac
	want=0
	case "$line" in *" # refused") want=1 ;; esac
	before "$line"
	f=$(needs "$line")
	if [ -n "$f" ]; then
		pend "$line   (needs $f)"
		continue
	fi
	run=$(sed -e "s|/etc/peerwall/peerwall.conf|$tmp/pw.conf|g" \
		-e "s|/var/lib/peerwall|$tmp/state|g" \
		-e "s|/var/tmp/incident|$tmp/incident|g" \
		-e "s|/sys/fs/bpf/peerwall|$pins|g" \
		-e 's|\beth0\b|pw0|g' <<<"$line")
	eval "$run" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$line"
		ran_cmds="$ran_cmds
$line"
	else
		bad "$line   (exit $rc, want $want)"
		tail -5 "$tmp/out" | sed 's/^/        | /'
		tail -3 "$tmp/agent.log" | sed 's/^/        log: /'
	fi
	after "$line"
done

# --- the runbook mentions only commands it ran ----------------------------------
# "peerwallctl [-s X] [--json] CMD [SUB]" anywhere in the text, with SUB kept
# for the commands whose first argument is a verb.
mentions() {
	grep -oE 'peerwallctl( -s [^ `]+)?( --json)? [a-z]+( [a-z]+)?' |
		sed -E 's/peerwallctl( -s [^ `]+)?( --json)? //' |
		awk '$1 == "emergency" || $1 == "allow" || $1 == "posture" { print $1, $2; next } { print $1 }' | sort -u
}
# only real command names count ("peerwallctl talks to ..." is prose)
known=$( (sed -n 's/^  \([a-z]*\) .*/\1/p; s/^  \([a-z]*\)$/\1/p' <<<"$help"; echo emergency capture evidence forgive) | sort -u)
doc_cmds=$(sed -e 's/`//g' "$RB" | mentions | while read -r c rest; do grep -qx "$c" <<<"$known" && echo "$c${rest:+ $rest}"; done)
run_cmds=$(mentions <<<"$ran_cmds")
unexercised=
while read -r c; do
	[ -z "$c" ] && continue
	grep -qx "$c" <<<"$run_cmds" && continue
	# a command this build lacks: counted as pending above
	case "$c" in emergency* | capture | evidence | forgive) has "${c%% *}" || continue ;; esac
	unexercised="$unexercised '$c'"
done <<<"$doc_cmds"
[ -z "$unexercised" ] && ok "every peerwallctl command the runbook mentions was run" || bad "mentioned but never run:$unexercised"
for by in drops pps conns; do
	grep -q -- "--by $by" "$RB" || continue
	if grep -q -- "--by $by" <<<"$ran_cmds"; then ok "top --by $by was run"; elif [ "$by" = conns ] && ! has conns; then :; else bad "top --by $by mentioned, never run"; fi
done

# --- alert rules and dashboard use only what the live agent exports -------------------
if start_agent >/dev/null 2>&1; then
	live=$(nsenter --net=/run/netns/"$H" curl -s http://127.0.0.1:9477/metrics | grep -v '^#' | grep -o '^peerwall_[a-z0-9_]*' | sort -u)
	used=$( (sed -n '/^ *expr:/,/^ *for:/p' "$root/conf/peerwall-alerts.yml"; jq -r '.. | objects | select(has("expr")) | .expr' "$root/conf/grafana-dashboard.json") |
		grep -o 'peerwall_[a-z0-9_]*' | sort -u)
	notlive=$(comm -13 <(echo "$live") <(echo "$used") | paste -sd' ')
	announced="peerwall_emergency_drops_total peerwall_connections_established"
	unknown=
	for m in $notlive; do grep -qw "$m" <<<"$announced" && echo "  note  $m: announced, not exported by this build yet" || unknown="$unknown $m"; done
	[ -z "$unknown" ] && ok "alerts and dashboard use only series the live agent exports ($(wc -w <<<"$used") names)" || bad "not exported by the live agent:$unknown"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=
else
	bad "agent restarts for the live metrics check"
fi

pwt_summary "runbook tests" "$pending pending (commands not in this build)"
