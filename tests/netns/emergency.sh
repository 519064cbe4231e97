#!/usr/bin/env bash
# Emergency mode through the real agent, in network namespaces: peerwalld
# driven by peerwallctl, first with enforce = "nft" (no XDP program, the
# nftables table alone), then with enforce = "both"; real TCP exchanges
# show what gets through.
#
#   pwe-t  pwt 198.18.1.10/24 fd00:1::10/64   trusted peer (198.18.1.0/24,
#                                             fd00:1::/48 in the config)
#      |
#   pwe-h  pwe0 198.18.1.1/24 fd00:1::1/64    host under protection:
#          pwe1 198.18.9.1/24 fd00:9::1/64    peerwalld + an echo service on
#      |                                      tcp 26656 (protected), 22
#      |                                      (management), 8080 (not protected)
#   pwe-u  pwu 198.18.9.9/24, 198.18.9.10, fd00:9::9/64   untrusted peer
#
# The host namespace also holds `table inet filter` and `table ip nat` of
# another owner: they must come out byte-identical. Namespaces are entered
# with nsenter (not `ip netns exec`, which remounts /sys and hides bpffs
# pins). Everything is removed on exit, pass or fail.
#
# PWE_KEEP_LOG=FILE keeps the agent's log, PWE_TIME=1 prints the seconds elapsed per check.
# The test opens the control socket to every user (chmod 0666) so that an
# unprivileged user reaches the agent's own per-request check.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
pwt_guard emergency.sh PWE_RUNNING
# The refusal checks set SSH_CONNECTION themselves; the caller's must not leak in.
unset SSH_CONNECTION
pwt_init
H=pwe-h-$$
T=pwe-t-$$
U=pwe-u-$$
TABLE=pwt_emerg
holder= holders=
pwt_xdp_devs="pwe0 pwe1"
pwt_keep_log=${PWE_KEEP_LOG:-}
pwt_log_lines=3
# an exchange: 1.2 s per step, 5 s in all
pwt_connect_timeout=1.2 pwt_connect_limit=5

cleanup() {
	for h in $holders; do kill "$h" 2>/dev/null; done
	pwt_cleanup
}
pwt_trap

# PWE_TIME=1: the seconds elapsed after each passed check
ok() { echo "  ok    $1${PWE_TIME:+ [$SECONDS]}"; passed=$((passed + 1)); }
int() { nsenter --net=/run/netns/"$T" "$@"; }
inu() { nsenter --net=/run/netns/"$U" "$@"; }
# a peerwallctl command as a check: quiet, its output shown when it fails
qctl() { ctl "$@" >"$tmp/out" 2>&1 || { sed 's/^/        /' "$tmp/out"; return 1; }; }
# exit status of a peerwallctl command, output discarded
rc_of() { ctl "$@" >/dev/null 2>&1; echo $?; }
exits() { local want=$1; shift; [ "$(rc_of "$@")" = "$want" ]; }
nobody() { inh setpriv --reuid=nobody --regid=nogroup --clear-groups "$C" -s "$sock" "$@"; }
# a non-root operator: uid daemon (1) with gid users, the control_group
operator() { inh setpriv --reuid=daemon --regid=users --clear-groups "$C" -s "$sock" "$@" >"$tmp/out" 2>&1 || { sed 's/^/        /' "$tmp/out"; return 1; }; }
# nobody's command fails with "permission denied" (not a connect error)
nobody_denied() { local o; o=$(nobody "$@" 2>&1) && return 1; grep -q "permission denied" <<<"$o"; }
# a refused peerwallctl command: exit 1 and stderr names the reason
refused_with() { local want=$1 o rc; shift; o=$(ctl "$@" 2>&1); rc=$?; [ "$rc" = 1 ] && grep -q -- "$want" <<<"$o"; }
nobody_sees_on() { local o; o=$(nobody --json emergency status) && jq -e '.emergency.on == true' >/dev/null <<<"$o"; }

[ "$(id -u)" = 0 ] || { echo "emergency.sh: needs root" >&2; exit 1; }
for c in nft jq python3 setpriv nsenter; do command -v $c >/dev/null || { echo "emergency.sh: $c missing" >&2; exit 1; }; done
PY=$(command -v python3)
# pyenv shims re-exec through the user's home: take the real interpreter
PY=$("$PY" -c 'import sys; print(sys.executable)')

# --- helpers -----------------------------------------------------------------
# hold.py SRC DST PORT N DIR: open N connections (echo on each) and keep
# them; then one more (DIR/extra: ok, refused = reset, or failed); wait for
# DIR/close, close one, try again (DIR/again); wait for DIR/done.
cat >"$tmp/hold.py" <<'PY'
import os, socket, sys, time
src, dst, port, n, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
last = ""
def one():
    global last
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
    s.settimeout(1.5); s.bind((src, 0))
    try:
        s.connect((dst, port)); s.sendall(b"ping\n")
        if s.recv(16) != b"ping\n":
            raise OSError("no echo")
        return s
    except (ConnectionRefusedError, ConnectionResetError):
        last = "refused"
    except OSError:
        last = "failed"
    s.close()
    return None
def put(name, v):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(v)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
def wait(name):
    while not os.path.exists(os.path.join(d, name)):
        time.sleep(0.05)
held = [one() for _ in range(n)]
put("held", str(sum(1 for s in held if s)))
x = one()
put("extra", "ok" if x else last)
if x:
    held.append(x)
wait("close")
held.pop(0).close()
time.sleep(0.5)
y = one()
put("again", "ok" if y else last)
wait("done")
PY

# conn NS SRC DST PORT: a real exchange from namespace NS
conn() { pwt_exchange "$@"; }
blocked() { ! conn "$@"; }
# the usual peers and targets
TV4=(198.18.1.10 198.18.1.1) TV6=(fd00:1::10 fd00:1::1)
UV4=(198.18.9.9 198.18.9.1) UV6=(fd00:9::9 fd00:9::1)

# the other owner's tables, with handles: must never change
others() { inh nft -a list table inet filter; inh nft -a list table ip nat; }
others_same() { others >"$tmp/others.now" 2>&1 && cmp -s "$tmp/others.before" "$tmp/others.now"; }

J() { inh nft -j list table inet "$TABLE"; }
jq_ok() { local j; j=$(J 2>/dev/null) && jq -e "$1" >/dev/null 2>&1 <<<"$j"; }
# elements of one of our sets, sorted, comma-separated
elems() {
	local j
	j=$(J) || return 1
	jq -r --arg s "$1" '[.nftables[] | select(.set.name == $s) | .set.elem // [] | .[] |
		if type == "object" then
			if .prefix then "\(.prefix.addr)/\(.prefix.len)"
			elif .concat then (.concat | map(tostring) | join("."))
			else tostring end
		else tostring end] | sort | join(",")' <<<"$j"
}
elems_are() { [ "$(elems "$1")" = "$2" ]; }
# emergency drop rules: those of chain prerouting (chain bans holds the
# mirrored bans' drop rules, there whenever bans are mirrored)
drop_rules_are() {
	jq_ok "[.nftables[] | select(.rule.table == \"$TABLE\" and .rule.chain == \"prerouting\") | select(any(.rule.expr[]; has(\"drop\")))] | length == $1"
}
table_exists() { inh nft list table inet "$TABLE" >/dev/null 2>&1; }
no_table() { ! table_exists; }

# status's emergency object
E() { ctl --json status | jq -c .emergency; }
e_ok() { local e; e=$(E) && jq -e "$1" >/dev/null 2>&1 <<<"$e"; }
remaining() { ctl --json emergency status | jq -r .emergency.remaining_s; }
e_status_says() { local o; o=$(ctl emergency status) && [[ $o == "emergency: $1"* ]]; }

scrape() { pwt_scrape 19478; }
metric_is() { local t; t=$(scrape) && grep -qx "$1 $2" <<<"$t"; }

xdp_progs() { pwt_xdp_count; }

# start_agent CONF
start_agent() {
	# test scaffolding: the socket is root:root 0660; open it so an
	# unprivileged user reaches the agent's own per-request credential check
	pwt_start_agent "$1" && chmod 0666 "$sock"
}
stop_agent() {
	kill -TERM "$pid" 2>/dev/null
	pwt_await_exit 50
}
detach_agent() {
	ctl detach >/dev/null || return 1
	pwt_await_exit 50
}

# write_conf FILE ENFORCE STATE_DIR [trusted|none] [LIMITS]
write_conf() {
	local f=$1 enforce=$2 st=$3 with_trusted=${4:-trusted} limits=${5:-}
	{
		echo "interfaces = [\"pwe0\", \"pwe1\"];"
		echo "enforce = \"$enforce\";"
		echo "protect = ( { proto = \"tcp\"; port = 26656; } );"
		[ "$with_trusted" = trusted ] && echo 'trusted = [ "198.18.1.0/24", "fd00:1::/48" ];'
		[ -n "$limits" ] && echo "limits = { $limits };"
		echo "nft = { table = \"$TABLE\"; mirror_bans = true; };"
		echo "emergency = { default_ttl = \"7m\"; mgmt_ports = [ 22 ]; };"
		echo "maps = { sources = 65536; prefixes = 4096; sanctions = 4096; bancidrs = 1024; };"
		echo "state_dir = \"$st\";"
		echo "control_socket = \"$sock\";"
		echo "control_group = \"users\";"
		echo "report_socket = \"$tmp/report.sock\";"
		echo "pin_root = \"$pins\";"
		echo "metrics = { listen = \"127.0.0.1:19478\"; };"
	} >"$f"
}

# --- setup -------------------------------------------------------------------
echo "emergency: setting up $T <-> $H <-> $U"
pwt_netns_add "$H" "$T" "$U" || exit 1
pwt_veth "$H" pwe0 "$T" pwt || exit 1
pwt_veth "$H" pwe1 "$U" pwu || exit 1
pwt_addrs "$H" pwe0 198.18.1.1/24 fd00:1::1/64
pwt_addrs "$H" pwe1 198.18.9.1/24 fd00:9::1/64
pwt_addrs "$T" pwt 198.18.1.10/24 fd00:1::10/64
pwt_addrs "$U" pwu 198.18.9.9/24 198.18.9.10/24 fd00:9::9/64

# another owner's tables, there before the agent
inh nft -f - <<'EOF' || exit 1
table inet filter {
	set blocked { type ipv4_addr; elements = { 198.18.99.1, 198.18.99.2 } }
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 9999 drop
		ip saddr @blocked drop
		ip6 saddr fd00:99::/64 drop
	}
	chain forward { type filter hook forward priority 0; policy accept; }
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "pwe-none" masquerade
	}
}
EOF
others >"$tmp/others.before"

# the echo service (connections held open until the client closes: the
# connection-limit checks keep sockets open)
pwt_echo_server "$H" tcp/26656 tcp/22 tcp/8080
chmod 0711 "$tmp"

# --- the connection limit (enforce both and nft) -------------------------------
# Four connections from 198.18.9.9 held open; the fifth is reset; another
# source and the trusted peer still get in; closing one lets a new one in.
# hold NS SRC DST N: start hold.py in the background, wait for its verdict
# on the extra connection
hold() {
	hd=$tmp/hold-$RANDOM
	mkdir -p "$hd"
	nsenter --net=/run/netns/"$1" timeout 30 "$PY" "$tmp/hold.py" "$2" "$3" 26656 "$4" "$hd" >/dev/null 2>&1 &
	holder=$!
	holders="$holders $holder"
	for _ in $(seq 100); do [ -e "$hd/extra" ] && break; sleep 0.1; done
}
held_is() { [ "$(cat "$hd/$1" 2>/dev/null)" = "$2" ]; }
# release: close one, wait for the verdict on the next, end the holder
release() {
	touch "$hd/close"
	for _ in $(seq 100); do [ -e "$hd/again" ] && break; sleep 0.1; done
}
unhold() { touch "$hd/close" "$hd/done"; wait "$holder" 2>/dev/null; holder=; }
connlimit_checks() {
	local m=$1 another=$2 src dst
	if [ "$another" = v6 ]; then src=${UV6[0]} dst=${UV6[1]}; else src=${UV4[0]} dst=${UV4[1]}; fi
	hold "$U" "$src" "$dst" 4
	check "[$m] 4 concurrent connections from $src get in" held_is held 4
	check "[$m] the 5th concurrent one from $src is refused (reset)" held_is extra refused
	if [ "$another" = v4 ]; then
		check "[$m] meanwhile another untrusted source (198.18.9.10) connects" conn "$U" 198.18.9.10 198.18.9.1 26656
	fi
	check "[$m] meanwhile the trusted peer connects" conn "$T" "${TV4[@]}" 26656
	check "[$m] meanwhile $src still reaches the SSH port" conn "$U" "$src" "$dst" 22
	release
	check "[$m] after closing one, a new one from $src gets in" held_is again ok
	unhold
	hold "$T" "${TV4[@]}" 5
	check "[$m] the trusted peer holds 6 concurrent connections (no limit)" held_is extra ok
	unhold
	check "[$m] connlimit chain on the input hook, resets counted" jq_ok \
		'any(.nftables[]; .chain.name == "connlimit" and .chain.hook == "input") and
		 any(.nftables[]; .counter.name == "connlimit_rejects" and .counter.packets > 0)'
}

# --- one enforce mode ----------------------------------------------------------
run_mode() {
	local mode=$1 st=$tmp/state-$1 conf=$tmp/pw-$1.conf xdp_want r1 r2 u1 u2 s1 kb
	write_conf "$conf" "$mode" "$st" trusted 'source = { max_conns = 4; };'
	[ "$mode" = nft ] && xdp_want='[]' || xdp_want='["pwe0","pwe1"]'

	echo "emergency [$mode]: start"
	inh "$D" --check-config "$conf" >/dev/null || { bad "[$mode] config valid"; return; }
	check "[$mode] agent starts" start_agent "$conf"
	if [ "$mode" = nft ]; then
		check "[$mode] no XDP program attached" test "$(xdp_progs)" -eq 0
	else
		check "[$mode] XDP attached to pwe0 and pwe1" test "$(xdp_progs)" -eq 2
	fi
	check "[$mode] status: enforce = $mode" test "$(ctl --json status | jq -r .enforce)" = "$mode"
	check "[$mode] table inet $TABLE created" table_exists
	check "[$mode] trusted_v4 = 198.18.1.0/24" elems_are trusted_v4 198.18.1.0/24
	check "[$mode] trusted_v6 = fd00:1::/48" elems_are trusted_v6 fd00:1::/48
	check "[$mode] protected = tcp . 26656" elems_are protected tcp.26656
	check "[$mode] mgmt = tcp/udp . 22" elems_are mgmt tcp.22,udp.22
	check "[$mode] no drop rule while off" drop_rules_are 0
	check "[$mode] status: emergency off" e_ok '.on == false and .xdp == []'
	check "[$mode] untrusted v4 connects before emergency" conn "$U" "${UV4[@]}" 26656
	check "[$mode] untrusted v6 connects before emergency" conn "$U" "${UV6[@]}" 26656
	check "[$mode] ban 198.18.9.10 --ttl 10m" qctl ban 198.18.9.10 --ttl 10m --reason emergency-test
	check "[$mode] the banned source cannot connect" blocked "$U" 198.18.9.10 198.18.9.1 26656
	check "[$mode] mirror_bans: the ban is in our table" jq_ok '[.nftables[] | select(.set and (.set.name | startswith("conn_") | not)) | .set.elem // [] | .[] | tostring | select(test("198\\.18\\.9\\.10"))] | length > 0'
	check "[$mode] unban 198.18.9.10" qctl unban 198.18.9.10
	check "[$mode]   ... it connects" conn "$U" 198.18.9.10 198.18.9.1 26656

	echo "emergency [$mode]: connection limit"
	connlimit_checks "$mode" v4
	if [ "$mode" = nft ]; then
		connlimit_checks "$mode" v6
		local h1 d1
		write_conf "$conf" "$mode" "$st" trusted 'source = { max_conns = 4; }; prefix = { max_conns = 6; };'
		check "[$mode] reload with limits.prefix.max_conns = 6" qctl reload
		check "[$mode]   ... per-prefix set in the table" jq_ok 'any(.nftables[]; .set.name == "conn_pfx_v4")'
		hold "$U" "${UV4[@]}" 4
		h1=$holder d1=$hd
		hold "$U" 198.18.9.10 198.18.9.1 2
		check "[$mode] 198.18.9.10 gets 2 while 198.18.9.9 holds 4" held_is held 2
		check "[$mode] the 7th from 198.18.9.0/24 is refused (reset, prefix limit)" held_is extra refused
		check "[$mode] meanwhile untrusted v6 connects" conn "$U" "${UV6[@]}" 26656
		check "[$mode] meanwhile the trusted peer connects" conn "$T" "${TV4[@]}" 26656
		unhold
		holder=$h1 hd=$d1
		unhold
		write_conf "$conf" "$mode" "$st" trusted 'source = { max_conns = 4; };'
		check "[$mode] reload back to the source limit only" qctl reload
		check "[$mode]   ... per-prefix set gone" jq_ok 'all(.nftables[]; .set.name != "conn_pfx_v4")'
	fi

	echo "emergency [$mode]: on"
	check "[$mode] emergency on --ttl 10m" qctl emergency on --ttl 10m
	check "[$mode] trusted v4 connects to the protected port" conn "$T" "${TV4[@]}" 26656
	check "[$mode] trusted v6 connects to the protected port" conn "$T" "${TV6[@]}" 26656
	check "[$mode] untrusted v4 blocked on the protected port" blocked "$U" "${UV4[@]}" 26656
	check "[$mode] untrusted v6 blocked on the protected port" blocked "$U" "${UV6[@]}" 26656
	check "[$mode] untrusted v4 still reaches SSH (22)" conn "$U" "${UV4[0]}" "${UV4[1]}" 22
	check "[$mode] untrusted v6 still reaches SSH (22)" conn "$U" "${UV6[0]}" "${UV6[1]}" 22
	check "[$mode] untrusted v4 reaches unprotected 8080" conn "$U" "${UV4[0]}" "${UV4[1]}" 8080
	check "[$mode] untrusted v6 reaches unprotected 8080" conn "$U" "${UV6[0]}" "${UV6[1]}" 8080
	check "[$mode] host reaches itself on 26656" conn "$H" 198.18.9.1 198.18.9.1 26656
	check "[$mode] table: two drop rules" drop_rules_are 2
	check "[$mode] table: v4 drop unless @trusted_v4, v6 unless @trusted_v6" jq_ok \
		'any(.nftables[] | .rule.expr[]?; .match.right == "@trusted_v4" and .match.op == "!=") and
		 any(.nftables[] | .rule.expr[]?; .match.right == "@trusted_v6" and .match.op == "!=")'
	check "[$mode] table: @mgmt accepted before the drops" jq_ok \
		'[.nftables[] | select(.rule.chain == "prerouting")] |
		 (map(any(.rule.expr[]; .match.right == "@mgmt")) | index(true)) <
		 (map(any(.rule.expr[]; has("drop"))) | index(true))'
	check "[$mode] status: on, 590 < remaining_s <= 600" e_ok '.on == true and .remaining_s > 590 and .remaining_s <= 600'
	check "[$mode] status: xdp = $xdp_want" e_ok ".xdp == $xdp_want"
	check "[$mode] status: nft = inet $TABLE, rules in" e_ok ".nft == \"inet $TABLE\" and .nft_rules == true and (has(\"nft_error\") | not)"
	check "[$mode] status: uid 0" e_ok '.uid == 0'
	if [ "$mode" = nft ]; then
		check "[$mode] status: nft_drops > 0 after blocked traffic" e_ok '.nft_drops > 0 and .xdp_drops == 0'
	else
		# XDP drops first: nft never sees the untrusted packets
		check "[$mode] status: xdp_drops > 0 after blocked traffic" e_ok '.xdp_drops > 0'
	fi
	check "[$mode] emergency status says ON" e_status_says ON
	check "[$mode] status (text) shows emergency ON" grep -q '^emergency: *ON' <<<"$(ctl status)"
	check "[$mode] log: EMERGENCY MODE ON ... by uid 0" grep -q "EMERGENCY MODE ON (10m, operator) by uid 0" "$tmp/agent.log"
	check "[$mode] metrics: peerwall_emergency 1 (reads: $(scrape | grep '^peerwall_emergency '))" metric_is peerwall_emergency 1
	check "[$mode] allow add 198.18.9.10/32 under emergency" qctl allow add 198.18.9.10/32
	check "[$mode]   ... trusted_v4 holds it" elems_are trusted_v4 198.18.1.0/24,198.18.9.10
	check "[$mode]   ... 198.18.9.10 connects" conn "$U" 198.18.9.10 198.18.9.1 26656
	check "[$mode]   ... 198.18.9.9 still blocked" blocked "$U" "${UV4[@]}" 26656
	check "[$mode] allow del 198.18.9.10/32" qctl allow del 198.18.9.10/32
	check "[$mode]   ... 198.18.9.10 blocked again" blocked "$U" 198.18.9.10 198.18.9.1 26656
	check "[$mode] reload under emergency" qctl reload
	check "[$mode]   ... still on, two drop rules, xdp = $xdp_want" e_ok ".on == true and .xdp == $xdp_want"
	check "[$mode]   ... two drop rules" drop_rules_are 2
	check "[$mode]   ... untrusted still blocked" blocked "$U" "${UV6[@]}" 26656
	check "[$mode]   ... trusted still connects" conn "$T" "${TV6[@]}" 26656

	echo "emergency [$mode]: extend"
	u1=$(ctl --json emergency status | jq .emergency.until)
	r1=$(remaining)
	check "[$mode] emergency extend 5m" qctl emergency extend 5m
	u2=$(ctl --json emergency status | jq .emergency.until)
	r2=$(remaining)
	check "[$mode] extend moved the end by 300 s ($u1 -> $u2)" test "$((u2 - u1))" -eq 300
	check "[$mode] remaining_s grew by about 300 s ($r1 -> $r2)" test "$((r2 - r1))" -ge 298 -a "$((r2 - r1))" -le 300

	echo "emergency [$mode]: off"
	check "[$mode] emergency off" qctl emergency off
	check "[$mode] untrusted v4 connects again" conn "$U" "${UV4[@]}" 26656
	check "[$mode] untrusted v6 connects again" conn "$U" "${UV6[@]}" 26656
	check "[$mode] trusted v4 connects" conn "$T" "${TV4[@]}" 26656
	check "[$mode] table: no drop rule" drop_rules_are 0
	check "[$mode] status: off, xdp = []" e_ok '.on == false and .xdp == []'
	check "[$mode] metrics: peerwall_emergency 0" metric_is peerwall_emergency 0
	check "[$mode] emergency status says off" e_status_says off
	check "[$mode] extend while off is refused (exit 1)" exits 1 emergency extend 5m

	if [ "$mode" = nft ]; then
		echo "emergency [$mode]: refusals"
		check "on --ttl 0 without --force: exit 1, says --force" refused_with "add --force" emergency on --ttl 0
		check "  ... and it stays off" e_ok '.on == false'
		SSH_CONNECTION="198.18.9.9 5555 198.18.0.1 26656" check \
			"on from an untrusted SSH session via 26656: exit 1, names it" refused_with "session from 198.18.9.9 to port 26656 would be cut" emergency on --ttl 1m
		check "  ... and it stays off" e_ok '.on == false'
		SSH_CONNECTION="fd00:9::9 5555 fd00:9::1 26656" check \
			"on from an untrusted IPv6 SSH session via 26656: exit 1" exits 1 emergency on --ttl 1m
		SSH_CONNECTION="198.18.9.9 5555 198.18.0.1 22" check \
			"on from an untrusted SSH session via 22: accepted" exits 0 emergency on --ttl 1m
		check "  ... off again" qctl emergency off
		SSH_CONNECTION="198.18.1.10 5555 198.18.0.1 26656" check \
			"on from a trusted SSH session via 26656: accepted" exits 0 emergency on --ttl 1m
		check "non-root: emergency status works and says ON" nobody_sees_on
		check "non-root: emergency on is refused (permission denied)" nobody_denied emergency on --ttl 1m
		check "non-root: emergency off is refused (permission denied)" nobody_denied emergency off
		check "non-root: emergency extend is refused (permission denied)" nobody_denied emergency extend 1m
		check "  ... still on (uid 0)" e_ok '.on == true and .uid == 0'
		check "  ... off" qctl emergency off
		check "non-root: on refused while off (permission denied)" nobody_denied emergency on --ttl 1m
		check "  ... and it stays off" e_ok '.on == false'
		check "control_group member (uid 1): emergency on" operator emergency on --ttl 1m
		check "  ... status: uid 1" e_ok '.on == true and .uid == 1'
		check "  ... log: by uid 1" grep -q "EMERGENCY MODE ON (1m, operator) by uid 1" "$tmp/agent.log"
		check "control_group member: emergency off" operator emergency off
		check "  ... off" e_ok '.on == false'
		check "on --ttl 0 --force: accepted, no TTL" qctl emergency on --ttl 0 --force
		check "  ... remaining_s = -1 (no end)" e_ok '.on == true and .remaining_s == -1 and .until == 0'
		check "  ... extend keeps no end" qctl emergency extend 5m
		check "  ... still remaining_s = -1" e_ok '.on == true and .remaining_s == -1'
		check "  ... off" qctl emergency off
		check "on without --ttl: accepted" qctl emergency on
		check "  ... default_ttl (7m) applies" e_ok '.on == true and .remaining_s > 410 and .remaining_s <= 420 and .default_ttl_s == 420'
		check "  ... off" qctl emergency off
		check "bad TTL is a usage/refusal error" test "$(rc_of emergency on --ttl 3x)" != 0
		inh nft delete table inet "$TABLE"
		check "table deleted by hand: emergency on exits 1, not in every layer" \
			refused_with "not in every layer" emergency on --ttl 1m
		check "  ... status: on, nft_error set, nft_rules false" e_ok '.on == true and (.nft_error | length > 0) and .nft_rules == false'
		check "  ... reload rebuilds the table" qctl reload
		check "  ... nft_error cleared, status says rules in" e_ok '.on == true and (has("nft_error") | not) and .nft_rules == true'
		check "  ... the table has the two drop rules" drop_rules_are 2
		check "  ... untrusted blocked" blocked "$U" "${UV4[@]}" 26656
		check "  ... off" qctl emergency off
	fi

	echo "emergency [$mode]: TTL expiry"
	check "[$mode] emergency on --ttl 3s" qctl emergency on --ttl 3s
	check "[$mode] untrusted blocked during the 3 s" blocked "$U" "${UV4[@]}" 26656
	sleep 3
	for _ in $(seq 30); do e_ok '.on == false' && break; sleep 0.2; done
	check "[$mode] status says off by itself" e_ok '.on == false'
	check "[$mode] emergency status says off" e_status_says off
	check "[$mode] untrusted v4 connects after expiry" conn "$U" "${UV4[@]}" 26656
	check "[$mode] table: no drop rule after expiry" drop_rules_are 0
	check "[$mode] log says the TTL ran out" grep -q "TTL ran out" "$tmp/agent.log"

	echo "emergency [$mode]: restart keeps the mode and its TTL"
	check "[$mode] emergency on --ttl 10m (control_group member, uid 1)" operator emergency on --ttl 10m
	sleep 1
	check "[$mode] emergency extend 5m (uid 1)" operator emergency extend 5m
	r1=$(remaining)
	s1=$(ctl --json emergency status | jq .emergency.since)
	sleep 1
	check "[$mode] agent stops on SIGTERM" stop_agent
	check "[$mode] agent down: table stays" table_exists
	check "[$mode] agent down: untrusted still blocked" blocked "$U" "${UV4[@]}" 26656
	check "[$mode] agent down: trusted still connects" conn "$T" "${TV4[@]}" 26656
	check "[$mode] agent starts again" start_agent "$conf"
	r2=$(remaining)
	check "[$mode] remaining_s after restart smaller and > 0 ($r1 -> $r2)" test "$r2" -gt 0 -a "$r2" -lt "$r1"
	check "[$mode]   ... and the extension kept (> 890)" test "$r2" -gt 890
	check "[$mode] since unchanged by the restart ($s1 -> $(E | jq .since))" e_ok ".since == $s1"
	check "[$mode] uid unchanged by the restart (1 -> $(E | jq .uid))" e_ok '.uid == 1'

	check "[$mode] status: on after restart, xdp = $xdp_want" e_ok ".on == true and .xdp == $xdp_want"
	check "[$mode] untrusted v4 still blocked after restart" blocked "$U" "${UV4[@]}" 26656
	check "[$mode] untrusted v6 still blocked after restart" blocked "$U" "${UV6[@]}" 26656
	check "[$mode] trusted connects after restart" conn "$T" "${TV4[@]}" 26656
	check "[$mode] table: two drop rules after restart" drop_rules_are 2
	check "[$mode] log says emergency restored from state" grep -q "emergency mode restored from state" "$tmp/agent.log"
	check "[$mode] emergency off" qctl emergency off
	check "[$mode] untrusted connects" conn "$U" "${UV4[@]}" 26656

	echo "emergency [$mode]: TTL runs out while the agent is down"
	check "[$mode] emergency on --ttl 2s" qctl emergency on --ttl 2s
	check "[$mode] agent stops on SIGTERM" stop_agent
	sleep 2.5
	check "[$mode] agent starts again" start_agent "$conf"
	check "[$mode] status: off (expired while down)" e_ok '.on == false and .xdp == []'
	check "[$mode] table: no drop rule" drop_rules_are 0
	check "[$mode] untrusted connects" conn "$U" "${UV4[@]}" 26656

	if [ "$mode" = nft ]; then
		echo "emergency [$mode]: no trusted CIDRs"
		check "agent stops" stop_agent
		write_conf "$tmp/pw-empty.conf" "$mode" "$tmp/state-empty" none
		sed -i 's/mirror_bans = true;/mirror_bans = true; remove_on_exit = true;/' "$tmp/pw-empty.conf"
		check "agent starts without trusted" start_agent "$tmp/pw-empty.conf"
		check "trusted_v4 empty" elems_are trusted_v4 ""
		check "emergency on with nothing trusted: exit 1, says so" refused_with "no trusted CIDRs" emergency on --ttl 1m
		check "  ... and it stays off" e_ok '.on == false'
		check "emergency on --force with nothing trusted: accepted" qctl emergency on --ttl 1m --force
		check "  ... the formerly trusted peer is blocked too" blocked "$T" "${TV4[@]}" 26656
		check "  ... untrusted blocked" blocked "$U" "${UV4[@]}" 26656
		check "  ... SSH (22) still reachable" conn "$U" "${UV4[0]}" "${UV4[1]}" 22
		check "  ... off" qctl emergency off
		check "agent stops" stop_agent
		check "nft.remove_on_exit: SIGTERM removed the table" no_table
		check "agent starts with the trusted config" start_agent "$conf"
		check "  ... the table is back" table_exists
	fi

	if [ "$mode" = both ]; then
		echo "emergency [$mode]: restart with another enforce value, emergency on"
		local cx=$tmp/pw-xdp.conf cn=$tmp/pw-nft2.conf
		write_conf "$cx" xdp "$st" trusted 'source = { max_conns = 4; };'
		write_conf "$cn" nft "$st" trusted 'source = { max_conns = 4; };'
		check "both -> xdp: emergency on" qctl emergency on --ttl 10m
		check "  ... agent stops" stop_agent
		check "  ... starts with enforce = xdp" start_agent "$cx"
		check "  ... still on in XDP" e_ok '.on == true and .xdp == ["pwe0","pwe1"]'
		check "  ... emergency off" qctl emergency off
		check "  ... enforce = xdp removed the previous run's table" no_table
		check "  ... untrusted connects" conn "$U" "${UV4[@]}" 26656
		check "  ... agent stops" stop_agent
		check "  ... starts with enforce = both" start_agent "$conf"
		check "xdp -> nft: emergency on" qctl emergency on --ttl 10m
		check "  ... agent stops" stop_agent
		check "  ... starts with enforce = nft" start_agent "$cn"
		check "  ... on, xdp = []" e_ok '.on == true and .xdp == []'
		check "  ... emergency off" qctl emergency off
		check "  ... no XDP program left attached" test "$(xdp_progs)" -eq 0
		check "  ... untrusted connects" conn "$U" "${UV4[@]}" 26656
		check "  ... agent stops" stop_agent
		check "  ... starts with enforce = both" start_agent "$conf"
		check "  ... off" e_ok '.on == false'
		check "  ... untrusted connects" conn "$U" "${UV4[@]}" 26656
	fi

	echo "emergency [$mode]: detach"
	check "[$mode] other tables unchanged so far" others_same
	check "[$mode] peerwallctl detach: agent exits" detach_agent
	check "[$mode] detach removed table inet $TABLE" no_table
	check "[$mode] no XDP program left" test "$(xdp_progs)" -eq 0
	check "[$mode] other tables unchanged after detach" others_same
}

run_mode nft
run_mode both

echo "emergency: the other owner's tables"
check "table inet filter and table ip nat byte-identical (nft -a list)" others_same
if ! others_same; then diff "$tmp/others.before" "$tmp/others.now" | sed 's/^/        /'; fi

pwt_summary "emergency netns tests"
