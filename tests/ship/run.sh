#!/usr/bin/env bash
# make check's shipping checks: man pages, monitoring files, the unit and
# make install, sd_notify under the unit's capabilities, the syscall filter,
# the runbook run against a real agent. Each script stands alone; this runs
# them all and fails if any failed.
set -uo pipefail
[ -n "${PWT_SHIP_RUNNING:-}" ] && { echo "ship/run.sh: refusing to run nested" >&2; exit 99; }
export PWT_SHIP_RUNNING=1
here=$(cd "$(dirname "$0")" && pwd)
failed=
for t in man monitoring unit notify syscalls runbook systemd; do
	echo "  SHIP     $t"
	"$here/$t.sh" || failed="$failed $t"
done
[ -z "$failed" ] || { echo "ship checks failed:$failed" >&2; exit 1; }
