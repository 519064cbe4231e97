#!/usr/bin/env bash
# The shipped unit under a real systemd: /lib/systemd/systemd booted as
# PID 1 of its own namespaces (pid, mount, uts, ipc, cgroup; the network
# namespace is the test's host namespace), the way a container manager
# boots it, without touching the machine's own init, mounts or services.
#
# What the booted instance sees, all private to its mount namespace:
#   /run, /tmp, /var/tmp, /var/lib, /var/log/journal  fresh tmpfs
#   /dev            a minimal tmpfs /dev (null, zero, ..., a new devpts)
#   /proc/sys       read-only
#   /sys/fs/cgroup  cgroup2, rooted (cgroup namespace) at a cgroup made
#                   for this test under the machine's cgroup2 hierarchy
#   /usr, /etc      read-only overlays: `make install DESTDIR=stage
#                   PREFIX=/usr` over the real ones, /etc/peerwall bound
#                   to the test's config dir
# Units: SYSTEMD_UNIT_PATH holds only the installed peerwalld.service, the
# journal's units and empty stand-ins for the targets it orders against,
# so nothing of the machine's own unit set is started; generators are off.
# The drop-in lowers WatchdogSec to 3 s (and LimitCORE=0: no core file).
#
# Asserts, through the namespace's systemctl: start returns after READY=1
# with the control socket answering and XDP attached; the unit's sandbox
# (capabilities, syscall filter, ProtectSystem, state/runtime dirs) lets
# the agent run; reload with a good config applies it, with a bad one
# fails and leaves the service active; SIGSTOP past WatchdogSec gets it
# killed and restarted (NRestarts) while XDP stays attached and a ban
# stays enforced; stop sends STOPPING=1, leaves the service inactive and
# the datapath enforcing (fail-static); `peerwallctl detach` ends it for
# good. Skips (exit 0) when systemd cannot be booted here.
set -uo pipefail
. "$(dirname "$0")/../netns/lib.sh"
pwt_guard systemd.sh PWT_RUNNING
pwt_init peerwall-systemd
H=pwsd-host-$$
P=pwsd-peer-$$
pwt_xdp_devs=pw0
upid= sdpid= cg=
unit=peerwalld.service
cleanup() {
	# SIGKILL to the namespace's PID 1 kills every process in it
	[ -z "$sdpid" ] && [ -n "$upid" ] && sdpid=$(ps -o pid= --ppid "$upid" 2>/dev/null | tr -d ' ')
	[ -n "$sdpid" ] && kill -9 "$sdpid" 2>/dev/null
	if [ -n "$upid" ]; then
		for _ in $(seq 50); do kill -0 "$upid" 2>/dev/null || break; sleep 0.1; done
		wait "$upid" 2>/dev/null
	fi
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		for _ in $(seq 50); do
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$cg" ] || break
			sleep 0.1
		done
		[ -d "$cg" ] && echo "systemd.sh: could not remove cgroup $cg" >&2
	fi
	pwt_cleanup
}
pwt_trap
skip() {
	echo "  skip  $1"
	exit 0
}

echo "ship: the unit under a real systemd (PID 1 of its own namespaces)"
[ "$(id -u)" = 0 ] || skip "systemd test: needs root"
[ -x /lib/systemd/systemd ] || skip "systemd test: no /lib/systemd/systemd"
for c in unshare nsenter systemctl journalctl; do
	command -v "$c" >/dev/null || skip "systemd test: no $c"
done
grep -qw overlay /proc/filesystems || skip "systemd test: no overlayfs"
# The machine's cgroup2 hierarchy (/sys/fs/cgroup itself, or the hybrid
# layout's /sys/fs/cgroup/unified) and our place in it: the namespace gets
# a child cgroup of ours.
cg2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
[ -n "$cg2" ] || skip "systemd test: no cgroup2 hierarchy mounted"
cg=$cg2$(sed -n 's/^0:://p' /proc/self/cgroup)
cg=${cg%/}/peerwall-systemd-$$
mkdir "$cg" 2>/dev/null || {
	cg=
	skip "systemd test: cannot create a cgroup under $cg2"
}

st=$tmp/stage
if ! make -s -C "$root" install BUILD="$BUILD" DESTDIR="$st" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	bad "make install DESTDIR=stage PREFIX=/usr"
	sed 's/^/        /' "$tmp/install.log"
	pwt_summary "ship systemd tests"
	exit 1
fi

pwt_pair "$H" pw0 "$P" pw1 || exit 1
pwt_addrs "$H" pw0 198.18.0.1/24 || exit 1
pwt_addrs "$P" pw1 198.18.0.2/24 198.18.0.3/24 || exit 1
pwt_echo_server "$H" -b 198.18.0.1 tcp/26656 || exit 1

# The config the unit's ExecStart names: the unit's own state and runtime
# paths (the defaults), a control group that exists (the agent chowns the
# sockets: CAP_CHOWN), a short tick for the short watchdog.
conf=$st/etc/peerwall/peerwall.conf
pwt_conf "$conf" -state_dir -control_socket -report_socket \
	'control_group = "daemon";' 'tick_ms = 500;'

# Units: the installed peerwalld.service (through the /usr overlay), the
# journal, and empty targets for what it is ordered against.
u=$tmp/units
mkdir -p "$u/$unit.d" "$tmp/empty"
ln -s /usr/lib/systemd/system/$unit "$u/$unit"
for t in sysinit.target basic.target sockets.target shutdown.target network.target network-online.target; do
	printf '[Unit]\nDescription=%s (empty, for the test)\nDefaultDependencies=no\n' "$t" >"$u/$t"
done
for f in systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket; do
	cp /lib/systemd/system/$f "$u/" || skip "systemd test: no /lib/systemd/system/$f"
done
cat >"$u/pwtest.target" <<'EOF'
[Unit]
Description=peerwall systemd test
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald-dev-log.socket
After=systemd-journald.socket systemd-journald-dev-log.socket
EOF
cat >"$u/$unit.d/test.conf" <<'EOF'
[Service]
WatchdogSec=3s
LimitCORE=0
EOF

# PID 1 of the new namespaces until it execs systemd; $1 is $tmp. Every
# mount is in its own mount namespace (propagation private).
cat >"$tmp/init.sh" <<'EOF'
set -e
t=$1
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mkdir /run/pwtest
mount --bind "$t" /run/pwtest
mount -t overlay -o "lowerdir=$t/stage/usr:/usr" overlay /usr
mount -t overlay -o "lowerdir=$t/stage/etc:/etc" overlay /etc
mount --bind "$t/stage/etc/peerwall" /etc/peerwall
for d in /tmp /var/tmp; do mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $d; done
mount -t tmpfs -o mode=755 tmpfs /var/lib
mount -t tmpfs -o mode=755 tmpfs /var/log/journal
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
d=/run/pwtest/dev
mkdir $d
mount -t tmpfs -o mode=755,nosuid tmpfs $d
for n in null zero full random urandom tty; do
	touch $d/$n
	mount --bind /dev/$n $d/$n
done
mkdir $d/pts $d/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts $d/pts
ln -s pts/ptmx $d/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $d/shm
ln -s /proc/self/fd $d/fd
ln -s /proc/self/fd/0 $d/stdin
ln -s /proc/self/fd/1 $d/stdout
ln -s /proc/self/fd/2 $d/stderr
mount --move $d /dev
exec env -i container=peerwall-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	SYSTEMD_UNIT_PATH=/run/pwtest/units SYSTEMD_GENERATOR_PATH=/run/pwtest/empty \
	SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/pwtest/empty \
	/lib/systemd/systemd --system --unit=pwtest.target \
	--log-target=journal --log-level=debug --show-status=no
EOF

# the machine's mount table, but for the test's own netns pins (other
# tests add and remove theirs meanwhile): the same after the boot
host_mounts() { findmnt -rn -o TARGET,SOURCE,FSTYPE | grep -v '^/run/netns/'; }
mounts0=$(host_mounts)
dev_log0=$(ls -l /dev/log 2>&1)

# Boot: this subshell joins the test cgroup, then becomes unshare, whose
# forked child (PID 1 inside) becomes systemd.
(
	echo "$BASHPID" >"$cg/cgroup.procs" &&
		exec nsenter --net=/run/netns/"$H" unshare --pid --fork --mount --uts --ipc --cgroup \
			--mount-proc --propagation private -- /bin/sh "$tmp/init.sh" "$tmp"
) >"$tmp/boot.log" 2>&1 &
upid=$!
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
for _ in $(seq 50); do
	sdpid=$(ps -o pid= --ppid "$upid" 2>/dev/null | tr -d ' ')
	[ -n "$sdpid" ] && [ "$(cat /proc/"$sdpid"/comm 2>/dev/null)" = systemd ] && break
	sdpid=
	kill -0 "$upid" 2>/dev/null || break
	sleep 0.1
done
why_not() { sed 's/^/        /' "$tmp/boot.log" | tail -5; }
if [ -z "$sdpid" ]; then
	why_not
	skip "systemd test: systemd did not start as PID 1 of new namespaces"
fi
# in NS: run a command in every namespace of the booted instance
inns() { nsenter -t "$sdpid" -a "$@"; }
sc() { inns timeout 30 systemctl "$@"; }
booted=
for _ in $(seq 100); do
	s=$(sc is-system-running 2>/dev/null)
	case $s in running | degraded) booted=1 && break ;; esac
	kill -0 "$sdpid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$booted" ]; then
	why_not
	skip "systemd test: systemd did not finish booting (state '${s:-none}')"
fi
echo "  info  systemd $(/lib/systemd/systemd --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')" \
	"booted as PID 1 of its namespaces in $(($(ms) - t0)) ms ($s)"
check "systemd runs in its own cgroup namespace, the test's cgroup" \
	grep -q "^0::/init.scope\$" <<<"$(inns cat /proc/1/cgroup)"

prop() { sc show -p "$1" --value "$unit"; }
journal() { inns journalctl --no-pager -o cat "$@" 2>/dev/null; }
ctl() { inns /usr/bin/peerwallctl "$@"; }
xdp_on() { [ "$(pwt_xdp_count pw0)" -eq 1 ]; }
show_journal() {
	journal -u "$unit" -p info -n 15 | sed 's/^/        journal: /'
}
# like check, but show the unit's journal on failure
jcheck() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else
		bad "$d"
		show_journal
	fi
}
pwt_log_lines=0

echo "ship: systemctl start"
jcheck "systemctl start peerwalld returns 0" sc start "$unit"
ctl status >/dev/null 2>&1
ctl_rc=$?
check "peerwallctl status answers as soon as start returns (READY=1 after the socket)" test "$ctl_rc" -eq 0
check "systemctl is-active: active" test "$(sc is-active "$unit")" = active
if [ "$(sc is-active "$unit")" != active ]; then
	pwt_summary "ship systemd tests" "the service did not start: nothing more to test"
	exit 1
fi
check "status text from READY=1: enforcing" grep -q '^enforcing on 1 interface' <<<"$(prop StatusText)"
check "XDP program attached to pw0" xdp_on
check "installed unit is the one running (/usr/sbin/peerwalld from make install)" \
	grep -q 'path=/usr/sbin/peerwalld ' <<<"$(prop ExecStart)"
check "watchdog from the drop-in: 3 s" test "$(prop WatchdogUSec)" = 3s
check "control socket in RuntimeDirectory, group control_group (CAP_CHOWN)" \
	test "$(inns stat -c '%G %F' /run/peerwall/control.sock)" = "daemon socket"
check "StateDirectory /var/lib/peerwall made 0700" test "$(inns stat -c %a /var/lib/peerwall)" = 700
# the sandbox the agent runs in, as the kernel sees it
mp=$(prop MainPID)
pst=$(inns cat /proc/"$mp"/status)
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$root/conf/$unit" | tr ' ' '\n' | grep . |
	sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -)
want=$(setpriv --bounding-set=-all,"$caps" -- grep '^CapBnd:' /proc/self/status)
check "capability bounding set is the unit's ($caps)" grep -qx "$want" <<<"$pst"
check "NoNewPrivs and a seccomp filter (SystemCallFilter=)" \
	test "$(grep -E '^(NoNewPrivs|Seccomp):' <<<"$pst" | awk '{print $2}' | paste -sd/)" = 1/2
# mountinfo field 5 is the mount point, 6 its options
mnt_opts() { inns awk -v m="$2" '$5 == m { o = $6 } END { print substr(o, 1, 2) }' /proc/"$1"/mountinfo; }
check "ProtectSystem=strict: / read-only for the agent, /sys/fs/bpf and /var/lib/peerwall writable" \
	test "$(mnt_opts "$mp" /)/$(mnt_opts "$mp" /sys/fs/bpf)/$(mnt_opts "$mp" /var/lib/peerwall)" = ro/rw/rw
check "agent logs reach the journal through syslog" grep -q . <<<"$(journal -t peerwalld -n 1)"
check "traffic from a peer passes" pwt_exchange "$P" 198.18.0.2 198.18.0.1 26656
pwt_quiet=1 check "ban a peer through the control socket" ctl ban 198.18.0.3 --ttl 1h --reason systemd-test
refused() { ! pwt_connect_timeout=1 pwt_exchange "$P" "$1" 198.18.0.1 26656; }
check "the banned peer is dropped" refused 198.18.0.3
check "the agent saw the drop-in's watchdog" grep -q 'systemd watchdog: 3000 ms, pinged from the tick' <<<"$(journal -t peerwalld)"

echo "ship: systemctl reload"
hash_of() { sed -n 's/.*config \([0-9a-f]\{16\}\).*/\1/p' <<<"$1"; }
h0=$(hash_of "$(prop StatusText)")
# the file is edited in place (same inode) in the directory bound at /etc/peerwall
printf '%s\n' 'trusted = [ "198.18.1.0/24", "198.18.2.0/24" ];' >"$tmp/trusted.line"
good=$(sed "s|^trusted = .*|$(cat "$tmp/trusted.line")|" "$conf")
printf '%s\n' "$good" >"$conf"
jcheck "systemctl reload with a good config returns 0" sc reload "$unit"
reloaded() {
	for _ in $(seq 30); do
		st_now=$(prop StatusText)
		case $st_now in reloaded*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}
jcheck "status text after the reload: reloaded" reloaded
h1=$(hash_of "$st_now")
check "the new config is in force (config hash $h0 -> $h1)" test -n "$h1" -a "$h1" != "$h0"
check "still active after the reload" test "$(sc is-active "$unit")" = active
printf '%s\n' 'mode = "bogus";' >>"$conf"
pid0=$(prop MainPID)
check "systemctl reload with a broken config fails" eval '! sc reload "$unit" 2>/dev/null'
# -t, not -u: journald may file a short-lived ExecReload= process's output
# under init.scope (it connects its stdout before systemd moves it into
# the service's cgroup: systemd/systemd#11162, #30886)
named() {
	for _ in $(seq 20); do
		grep -q "error: /etc/peerwall/peerwall.conf:$(wc -l <"$conf"): 'mode'" <<<"$(journal -t peerwalld)" && return 0
		sleep 0.1
	done
	return 1
}
check "the journal names the broken line (journalctl -t peerwalld: peerwall.conf:N)" named
check "still active after the refused reload, same main PID" \
	test "$(sc is-active "$unit")/$(prop MainPID)" = "active/$pid0"
check "the running config is unchanged (hash $h1)" test "$(hash_of "$(prop StatusText)")" = "$h1"
printf '%s\n' "$good" >"$conf"

echo "ship: watchdog (SIGSTOP for longer than WatchdogSec=3s)"
n0=$(prop NRestarts)
pid0=$(prop MainPID)
sc kill --kill-who=main -s SIGSTOP "$unit"
t0=$(ms)
# until a new main PID is active; XDP must stay attached the whole time
gaps=0 samples=0 restarted=
for _ in $(seq 150); do
	xdp_on || gaps=$((gaps + 1))
	samples=$((samples + 1))
	if [ "$(prop NRestarts)" -gt "$n0" ] && [ "$(sc is-active "$unit")" = active ]; then
		restarted=1
		break
	fi
	sleep 0.1
done
took=$(($(ms) - t0))
jcheck "killed by the watchdog and restarted (NRestarts $n0 -> $(prop NRestarts), after $took ms)" \
	test -n "$restarted"
check "systemd logged the watchdog timeout" grep -q 'Watchdog timeout' <<<"$(journal -u "$unit")"
check "a new main PID ($pid0 -> $(prop MainPID))" test "$(prop MainPID)" != "$pid0"
check "XDP attached throughout ($samples samples, $gaps without)" test "$gaps" -eq 0
check "the restart adopted the pinned maps" grep -q 'adopted pinned maps' <<<"$(journal -t peerwalld)"
ban_kept() { [ "$(ctl --json peer 198.18.0.3 | jq -r .ban.reason)" = systemd-test ]; }
check "the ban from before the watchdog kill is still there" ban_kept
check "the banned peer is still dropped" refused 198.18.0.3

echo "ship: systemctl stop (fail-static)"
jcheck "systemctl stop returns 0" sc stop "$unit"
check "systemctl is-active: inactive" test "$(sc is-active "$unit")" = inactive
check "the agent sent STOPPING=1" grep -q 'Got notification message from PID [0-9]* (STOPPING=1' <<<"$(journal -u "$unit")"
check "clean exit (Result=success, status 0)" test "$(prop Result)/$(prop ExecMainStatus)" = success/0
check "XDP program still attached" xdp_on
check "a peer still passes" pwt_exchange "$P" 198.18.0.2 198.18.0.1 26656
check "the banned peer is still dropped with the agent stopped" refused 198.18.0.3
check "state saved in /var/lib/peerwall" test -n "$(inns ls -A /var/lib/peerwall)"
check "RuntimeDirectoryPreserve: /run/peerwall kept" inns test -d /run/peerwall

echo "ship: peerwallctl detach ends the service for good"
jcheck "systemctl start again (adopts the attached program)" sc start "$unit"
n0=$(prop NRestarts)
pwt_quiet=1 check "peerwallctl detach" ctl detach
gone() {
	for _ in $(seq 50); do
		[ "$(sc is-active "$unit")" = inactive ] && ! xdp_on && return 0
		sleep 0.1
	done
	return 1
}
jcheck "service inactive and XDP detached" gone
sleep 2.5
check "not restarted after detach (RestartSec=2 passed, NRestarts $n0)" \
	test "$(sc is-active "$unit")/$(prop NRestarts)" = "inactive/$n0"
check "the peer once banned passes again" pwt_exchange "$P" 198.18.0.3 198.18.0.1 26656

# what the unit's sandbox refused, if anything
denied=$(journal -t peerwalld | grep -iE 'operation not permitted|permission denied|read-only file system' | head -3)
check "no EPERM/EACCES/EROFS in the agent's journal${denied:+: $denied}" test -z "$denied"

check "the machine's mounts untouched (private propagation), no /dev/log made" \
	test "$(host_mounts)|$(ls -l /dev/log 2>&1)" = "$mounts0|$dev_log0"

pwt_summary "ship systemd tests"
