#!/usr/bin/env bash
# nftables layer test: the real src/nft.c (through pw-bench-nft) against the
# real kernel in two fresh network namespaces joined by a veth pair; real
# TCP and UDP show what emergency mode lets through.
#
#   pwn-host  pwn0 198.18.0.1/24 fd00:18::1/64   the table under test, and
#             an echo service: tcp 26656 + udp 30303 (protected), tcp 22
#             (management), tcp 8080 (not protected)
#   pwn-peer  pwn1 198.18.0.2, fd00:18::2      (untrusted)
#                  198.18.0.10, fd00:18::10    (trusted)
#
# The host namespace also holds `table inet other` and `table ip peerwall`
# (same name, other family): every operation must leave both byte-for-byte
# as they were. nft needs no bpffs, so `ip netns exec` is fine here.
# Everything is removed on exit, pass or fail. PWN_LEGACY=1 runs it all
# with the add + delete + add table replacement of pre-6.3 kernels.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
pwt_guard nft.sh PWN_RUNNING
pwt_init
T=$root/$BUILD/bin/pw-bench-nft
H=pwn-host-$$
P=pwn-peer-$$
pins= # nft needs no bpffs
pwt_trap

# nft needs no bpffs: `ip netns exec` is fine here
inh() { ip netns exec "$H" "$@"; }
inp() { ip netns exec "$P" "$@"; }
# PWN_LEGACY=1: every table replacement by add + delete + add
pwnft() { inh "$T" ${PWN_LEGACY:+-L} "$@"; }

[ "$(id -u)" = 0 ] || { echo "nft.sh: needs root" >&2; exit 1; }
for c in nft jq python3; do command -v $c >/dev/null || { echo "nft.sh: $c missing" >&2; exit 1; }; done
[ -x "$T" ] || { echo "nft.sh: $T missing (make $T)" >&2; exit 1; }

# --- helpers ---------------------------------------------------------------
# cli.py tcp|udp|hold SRC DST PORT: exit 0 when an echo comes back.
# hold: echo once, wait for $tmp/go, then echo again on the same flow.
cat >"$tmp/cli.py" <<'PY'
import os, socket, sys, time
mode, src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
if mode == "udp":
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(0.7); s.bind((src, 0))
    for _ in range(2):
        s.sendto(b"ping", (dst, port))
        try:
            s.recvfrom(64); sys.exit(0)
        except socket.timeout:
            pass
    sys.exit(1)
s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(1.5); s.bind((src, 0))
s.connect((dst, port)); s.sendall(b"ping\n"); assert s.recv(16)
if mode == "hold":
    go = sys.argv[5]
    open(go + ".ready", "w").close()
    while not os.path.exists(go):
        time.sleep(0.05)
    s.sendall(b"again\n"); assert s.recv(16)
PY

# conn MODE SRC DST PORT from the peer; blocked = no echo within timeouts
conn() { inp timeout 6 python3 "$tmp/cli.py" "$@" >/dev/null 2>&1; }
blocked() { ! conn "$@"; }
self_conn() { inh timeout 6 python3 "$tmp/cli.py" "$@" >/dev/null 2>&1; }

# the other tables, with handles: must never change
others() { inh nft -a list table inet other; inh nft -a list table ip peerwall; }
others_same() { others >"$tmp/others.now" 2>&1 && cmp -s "$tmp/others.before" "$tmp/others.now"; }
# after every operation
# (its stderr is kept in $tmp/op.err, shown when it fails)
op() {
	local d=$1; shift
	if "$@" 2>"$tmp/op.err"; then ok "$d"; else bad "$d"; sed 's/^/        /' "$tmp/op.err"; fi
	check "  ... other tables unchanged" others_same
}

J() { inh nft -j list table inet peerwall; }
jq_ok() { J | jq -e "$1" >/dev/null 2>&1; }
# elements of a set as one comma-separated string
elems() {
	J | jq -r --arg s "$1" '[.nftables[] | select(.set.name == $s) | .set.elem // [] | .[] |
		if type == "object" then
			if .prefix then "\(.prefix.addr)/\(.prefix.len)"
			elif .range then "\(.range[0])-\(.range[1])"
			elif .concat then (.concat | map(tostring) | join("."))
			else tostring end
		else tostring end] | sort | join(",")'
}
elems_are() { [ "$(elems "$1")" = "$2" ]; }
rule_count() { J | jq '[.nftables[] | select(.rule.chain == "prerouting")] | length'; }
rules_are() { [ "$(rule_count)" = "$1" ]; }
no_table() { ! inh nft list table inet peerwall >/dev/null 2>&1; }
# without the counter's values, which traffic changes
listing() { inh nft list table inet peerwall | sed -E 's/packets [0-9]+ bytes [0-9]+//'; }
status_val() { pwnft status | awk -v k="$1" '$1 == k { print $2 }'; }
dropped_pos() { [ "$(status_val dropped_packets)" -gt 0 ] 2>/dev/null; }
dropped_at_least() { [ "$(status_val dropped_packets)" -ge "$1" ] 2>/dev/null; }
emergency_is() { [ "$(status_val emergency)" = "$1" ]; }
v4_count_is() { [ "$(J | jq '[.nftables[] | select(.set.name == "trusted_v4") | .set.elem[]] | length')" = "$1" ]; }
# the listing taken right after the first reconcile
same_listing() { listing | cmp -s - "$tmp/l1"; }
# pw-bench-nft fails (its stderr in $tmp/err)
refused() { ! pwnft "$@" 2>"$tmp/err"; }

# --- setup -----------------------------------------------------------------
echo "nft: setting up $H <-> $P"
pwt_pair "$H" pwn0 "$P" pwn1 || exit 1
pwt_addrs "$H" pwn0 198.18.0.1/24 fd00:18::1/64
pwt_addrs "$P" pwn1 198.18.0.2/24 198.18.0.10/24 fd00:18::2/64 fd00:18::10/64

inh nft -f - <<'EOF' || exit 1
table inet other {
	set blocked { type ipv4_addr; elements = { 198.18.99.1 } }
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 9999 counter drop
		ip saddr @blocked drop
	}
}
table ip peerwall {
	chain foreign { type filter hook prerouting priority -150; policy accept; udp dport 9998 drop; }
}
EOF
others >"$tmp/others.before"

# the echo service; idle connections closed after 5 s
pwt_echo_server "$H" -i 5 tcp/26656 udp/30303 tcp/22 tcp/8080

cat >"$tmp/trusted" <<'EOF'
# the trusted peer, inside a /29 (merged away), two adjacent /24s
198.18.0.8/29
198.18.0.10
198.18.200.0/24
198.18.201.0/24
fd00:18::10
EOF
PORTS=(-p tcp/26656 -p udp/30303 -p tcp/22)

# --- the pure helper ---------------------------------------------------------
echo "nft: CIDR merge helper"
check "merge table (pw-bench-nft selftest)" "$T" selftest >/dev/null

# --- table layout --------------------------------------------------------------
echo "nft: reconcile"
op "reconcile creates the table" pwnft reconcile "${PORTS[@]}" -t "$tmp/trusted"
check "  ... warns that tcp/22 is a management port" grep -q "tcp/22 is a management port" "$tmp/op.err"
check "four sets and one counter" jq_ok '([.nftables[] | select(.set)] | length) == 4 and ([.nftables[] | select(.counter.name == "emergency_drops")] | length) == 1'
check "trusted_v4 is an ipv4_addr interval set" jq_ok '.nftables[] | select(.set.name == "trusted_v4") | .set.type == "ipv4_addr" and (.set.flags | index("interval"))'
check "trusted_v6 is an ipv6_addr interval set" jq_ok '.nftables[] | select(.set.name == "trusted_v6") | .set.type == "ipv6_addr" and (.set.flags | index("interval"))'
check "protected is inet_proto . inet_service" jq_ok '.nftables[] | select(.set.name == "protected") | .set.type == ["inet_proto", "inet_service"]'
check "chain prerouting: filter, hook prerouting, prio -300, accept" jq_ok '.nftables[] | select(.chain.name == "prerouting") | .chain | .type == "filter" and .hook == "prerouting" and .prio == -300 and .policy == "accept"'
check "no rules outside emergency" rules_are 0
check "trusted_v4 merged: /29 swallows .10, adjacent /24s join" elems_are trusted_v4 "198.18.0.8/29,198.18.200.0/23"
check "trusted_v6 holds fd00:18::10" elems_are trusted_v6 "fd00:18::10"
check "protected: tcp 26656, udp 30303; mgmt tcp/22 left out" elems_are protected "tcp.26656,udp.30303"
check "mgmt: tcp and udp 22" elems_are mgmt "tcp.22,udp.22"
listing >"$tmp/l1"
op "reconcile again" pwnft reconcile "${PORTS[@]}" -t "$tmp/trusted"
check "  ... is idempotent (same listing)" same_listing
op "reconcile with add+delete+add (-L)" pwnft -L reconcile "${PORTS[@]}" -t "$tmp/trusted"
check "  ... gives the same listing" same_listing

echo "nft: traffic, emergency off"
check "untrusted v4 tcp/26656 connects" conn tcp 198.18.0.2 198.18.0.1 26656
check "trusted v4 tcp/26656 connects" conn tcp 198.18.0.10 198.18.0.1 26656
check "untrusted v6 tcp/26656 connects" conn tcp fd00:18::2 fd00:18::1 26656
check "untrusted v4 udp/30303 answered" conn udp 198.18.0.2 198.18.0.1 30303

# an untrusted flow established before emergency mode
rm -f "$tmp/go" "$tmp/go.ready"
inp timeout 20 python3 "$tmp/cli.py" hold 198.18.0.2 198.18.0.1 26656 "$tmp/go" >/dev/null 2>&1 &
held=$!
for _ in $(seq 50); do [ -e "$tmp/go.ready" ] && break; sleep 0.1; done

echo "nft: emergency on"
op "emergency on" pwnft emergency on
check "four rules in our chain" rules_are 4
check "two drop rules, counted by emergency_drops" jq_ok '[.nftables[] | select(.rule.chain == "prerouting") | select(any(.rule.expr[]; has("drop")) and any(.rule.expr[]; .counter == "emergency_drops"))] | length == 2'
check "v4 drop rule: not in @trusted_v4" jq_ok 'any(.nftables[] | select(.rule.chain == "prerouting") | .rule.expr[]; .match.right == "@trusted_v4" and .match.op == "!=")'
check "v6 drop rule: not in @trusted_v6" jq_ok 'any(.nftables[] | select(.rule.chain == "prerouting") | .rule.expr[]; .match.right == "@trusted_v6" and .match.op == "!=")'
check "management accept comes before the drops" jq_ok '[.nftables[] | select(.rule.chain == "prerouting")] | .[1].rule.expr[0].match.right == "@mgmt"'
touch "$tmp/go"
held_cut() { ! wait "$held"; }
check "untrusted flow established before emergency is cut" held_cut
check "untrusted v4 tcp/26656 blocked" blocked tcp 198.18.0.2 198.18.0.1 26656
check "untrusted v6 tcp/26656 blocked" blocked tcp fd00:18::2 fd00:18::1 26656
check "untrusted v4 udp/30303 blocked" blocked udp 198.18.0.2 198.18.0.1 30303
check "trusted v4 tcp/26656 connects" conn tcp 198.18.0.10 198.18.0.1 26656
check "trusted v6 tcp/26656 connects" conn tcp fd00:18::10 fd00:18::1 26656
check "trusted v4 udp/30303 answered" conn udp 198.18.0.10 198.18.0.1 30303
check "untrusted v4 SSH tcp/22 connects" conn tcp 198.18.0.2 198.18.0.1 22
check "untrusted v6 SSH tcp/22 connects" conn tcp fd00:18::2 fd00:18::1 22
check "untrusted v4 to unprotected tcp/8080 connects" conn tcp 198.18.0.2 198.18.0.1 8080
check "host to itself on 127.0.0.1:26656" self_conn tcp 127.0.0.1 127.0.0.1 26656
check "host to itself on 198.18.0.1:26656" self_conn tcp 198.18.0.1 198.18.0.1 26656
check "host to itself on [::1]:26656" self_conn tcp ::1 ::1 26656
check "drops counted" dropped_pos
before=$(status_val dropped_packets)

echo "nft: state survives processes and reloads"
check "a new process sees emergency on" emergency_is on
op "reconcile during emergency" pwnft reconcile "${PORTS[@]}" -t "$tmp/trusted"
check "  ... keeps the four rules" rules_are 4
check "  ... keeps the drop counter" dropped_at_least "$before"
check "  ... untrusted still blocked" blocked tcp 198.18.0.2 198.18.0.1 26656
op "emergency on twice" pwnft emergency on
check "  ... still four rules" rules_are 4

echo "nft: trusted set replaced under emergency"
printf '198.18.0.2/32\nfd00:18::2\n' >"$tmp/trusted2"
op "trusted: only .2 and ::2" pwnft trusted "$tmp/trusted2"
check "trusted_v4 is 198.18.0.2" elems_are trusted_v4 "198.18.0.2"
check "newly trusted .2 connects" conn tcp 198.18.0.2 198.18.0.1 26656
check "no longer trusted .10 blocked" blocked tcp 198.18.0.10 198.18.0.1 26656
check "newly trusted ::2 connects" conn tcp fd00:18::2 fd00:18::1 26656
op "trusted: back to the first list" pwnft trusted "$tmp/trusted"
check "trusted_v4 restored" elems_are trusted_v4 "198.18.0.8/29,198.18.200.0/23"

echo "nft: emergency off"
op "emergency off" pwnft emergency off
check "chain empty" rules_are 0
check "untrusted v4 tcp/26656 connects" conn tcp 198.18.0.2 198.18.0.1 26656
check "untrusted v6 tcp/26656 connects" conn tcp fd00:18::2 fd00:18::1 26656
check "trusted v4 tcp/26656 connects" conn tcp 198.18.0.10 198.18.0.1 26656
check "a new process sees emergency off" emergency_is off
op "emergency off twice" pwnft emergency off

echo "nft: one batch is all or nothing"
# trusted_v6 gone: the batch flushes and refills v4, then fails on v6; the
# whole batch must roll back, v4 included.
inh nft delete set inet peerwall trusted_v6
printf '198.18.77.0/24\nfd00:18::77\n' >"$tmp/trusted3"
check "trusted with a missing set is refused" refused trusted "$tmp/trusted3"
check "  ... the error names the set" grep -q trusted_v6 "$tmp/err"
check "  ... trusted_v4 unchanged (rolled back)" elems_are trusted_v4 "198.18.0.8/29,198.18.200.0/23"
op "reconcile repairs the table" pwnft reconcile "${PORTS[@]}" -t "$tmp/trusted"
check "  ... same listing as before" same_listing

echo "nft: edge contents"
printf '0.0.0.0/0\n::/0\n' >"$tmp/all"
op "trusted: everything" pwnft trusted "$tmp/all"
check "trusted_v4 is 0.0.0.0/0" elems_are trusted_v4 "0.0.0.0/0"
check "trusted_v6 is ::/0" elems_are trusted_v6 "::/0"
python3 -c '
for i in range(100000):
    a = 0x0a000000 + 2 * i * 256
    print("%d.%d.%d.0/24" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255))' >"$tmp/100k"
op "trusted: 100k /24s in one batch" pwnft trusted "$tmp/100k"
check "  ... 100000 elements listed" v4_count_is 100000
op "trusted: back to the first list" pwnft trusted "$tmp/trusted"
check "  ... restored" elems_are trusted_v4 "198.18.0.8/29,198.18.200.0/23"
check "a bad port is refused before the kernel" refused reconcile -p tcp/0
check "  ... table unchanged" same_listing

echo "nft: remove"
op "remove" pwnft remove
check "our table is gone" no_table
op "remove again (nothing to do)" pwnft remove
op "remove with add+delete+add (-L), table absent" pwnft -L remove
check "status without a table fails" refused status
check "emergency on without a table fails" refused emergency on
check "  ... and creates nothing" no_table
op "reconcile after remove" pwnft reconcile "${PORTS[@]}" -t "$tmp/trusted"
op "remove (-L) with the table present" pwnft -L remove
check "our table is gone" no_table

pwt_summary nft
