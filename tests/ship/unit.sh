#!/usr/bin/env bash
# `make install` into a staging DESTDIR installs what an operator expects
# (binaries, BPF object, example config, unit, man pages, monitoring
# files), rewrites the unit's ExecStart to PREFIX, and the unit passes
# `systemd-analyze verify` with no message at all.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT
failed=0
ok() { echo "  ok    $1"; }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); }

for prefix in /usr /usr/local; do
	d=$st/stage${prefix//\//_}
	if ! make -s -C "$root" install BUILD="$BUILD" DESTDIR="$d" PREFIX="$prefix" >"$st/install.log" 2>&1; then
		bad "make install PREFIX=$prefix"; sed 's/^/        /' "$st/install.log"; continue
	fi
	missing=
	for f in sbin/peerwalld bin/peerwallctl bin/peerwall-replay lib/peerwall/peerwall.bpf.o \
		lib/systemd/system/peerwalld.service share/man/man8/peerwalld.8 share/man/man8/peerwallctl.8 \
		share/man/man5/peerwall.conf.5 share/man/man1/peerwall-replay.1 \
		share/peerwall/peerwall-alerts.yml share/peerwall/grafana-dashboard.json share/doc/peerwall/runbook.md; do
		[ -f "$d$prefix/$f" ] || missing="$missing $prefix/$f"
	done
	[ -f "$d/etc/peerwall/peerwall.conf.example" ] || missing="$missing /etc/peerwall/peerwall.conf.example"
	if [ -z "$missing" ]; then ok "make install PREFIX=$prefix installs every file"; else bad "make install PREFIX=$prefix misses:$missing"; fi
	[ -x "$d$prefix/sbin/peerwalld" ] && ok "peerwalld installed executable" || bad "peerwalld not executable"
	u=$d$prefix/lib/systemd/system/peerwalld.service
	if grep -q "^ExecStart=$prefix/sbin/peerwalld -c /etc/peerwall/peerwall.conf\$" "$u" &&
		! grep -q '/usr/sbin' <<<"$(grep '^Exec' "$u" | grep -v "$prefix/sbin")"; then
		ok "unit's Exec lines point at $prefix/sbin"
	else
		bad "unit's Exec lines not rewritten for PREFIX=$prefix"; grep '^Exec' "$u" | sed 's/^/        /'
	fi
done

if command -v systemd-analyze >/dev/null; then
	# verify checks that Exec binaries exist and that Documentation= man
	# pages resolve: point both at the staged /usr install.
	d=$st/stage_usr
	mkdir -p "$st/verify"
	sed "s|/usr/sbin/peerwalld|$d/usr/sbin/peerwalld|g" "$d/usr/lib/systemd/system/peerwalld.service" >"$st/verify/peerwalld.service"
	out=$(MANPATH=$d/usr/share/man systemd-analyze verify "$st/verify/peerwalld.service" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify: clean"; else bad "systemd-analyze verify:"; sed 's/^/        /' <<<"$out"; fi
	exposure=$(systemd-analyze security --offline=yes "$root/conf/peerwalld.service" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "  info  systemd-analyze security --offline: exposure $exposure (0 best, 10 worst)"
else
	echo "  skip  systemd-analyze not installed"
fi
grep -q '^Type=notify$' "$root/conf/peerwalld.service" && ok "unit is Type=notify" || bad "unit is not Type=notify"
grep -q '^ProtectSystem=strict$' "$root/conf/peerwalld.service" && ok "ProtectSystem=strict" || bad "ProtectSystem is not strict"
grep -q '^Restart=on-failure$' "$root/conf/peerwalld.service" && ok "Restart=on-failure" || bad "Restart is not on-failure"
echo "unit and install: $failed failed"
[ "$failed" -eq 0 ]
