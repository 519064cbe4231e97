#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run.sh - run the libFuzzer harnesses one after another, then the
# datapath invariant run, and print one table.
#
#   tests/fuzz/run.sh [-s SECONDS] [-n RUNS] [-p PACKETS] [-S SEED] [TARGET...]
#
# Each harness runs SECONDS, or until RUNS executions when -n is given
# and that comes first, under `nice -n 10` (the machine is shared)
# from a fresh work corpus in $BUILD/fuzz/work/<target>/ seeded by
# tests/fuzz/corpus/<target>/ (the tree's corpus is only read). Crashes,
# leaks, timeouts and OOMs land in $BUILD/fuzz/work/<target>/artifacts/;
# turn each into a unit-test case (see tests/fuzz/README.md). PACKETS 0
# skips the invariant run. Exit status 1 if anything crashed or broke an
# invariant.
set -eu

BUILD=${BUILD:-build}
secs=60
runs=-1
pkts=200000
seed=1
while getopts s:n:p:S: opt; do
	case $opt in
	s) secs=$OPTARG ;;
	n) runs=$OPTARG ;;
	p) pkts=$OPTARG ;;
	S) seed=$OPTARG ;;
	*) echo "usage: $0 [-s SECONDS] [-n RUNS] [-p PACKETS] [-S SEED]" \
		"[TARGET...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
targets=${*:-config report control duration cidr banlist state pcap}
here=$(dirname "$0")
table=$(mktemp)
trap 'rm -f "$table"' EXIT INT TERM
failed=0

for t in $targets; do
	bin=$BUILD/fuzz/fuzz_$t
	work=$BUILD/fuzz/work/$t
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ "$runs" -ge 0 ]; then
		echo "  FUZZ     $t (${secs}s or $runs runs)"
	else
		echo "  FUZZ     $t (${secs}s)"
	fi
	rc=0
	# -close_fd_mask=2: the harness's own stderr (the project's log) is
	# closed; libFuzzer and the sanitizers keep theirs.
	nice -n 10 "$bin" -max_total_time="$secs" -runs="$runs" \
		-print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
		-artifact_prefix="$work/artifacts/" \
		"$work/corpus" "$here/corpus/$t" >"$work/log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	cov=$(grep -o ' cov: [0-9]*' "$work/log" | tail -n 1 | tr -dc 0-9)
	crashes=$(find "$work/artifacts" -type f | wc -l)
	if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
		failed=1
		echo "  FAIL     $t: exit $rc, $crashes artifact(s); log $work/log" >&2
		grep -E 'ERROR|SUMMARY|violated|runtime error' "$work/log" |
			head -n 5 >&2 || true
		[ "$crashes" != 0 ] || crashes=1
	fi
	printf '%-10s %14s %10s %8s %8s\n' "$t" "${execs:-0}" "${rate:-0}" \
		"${cov:-0}" "$crashes" >>"$table"
done

if [ "$pkts" -gt 0 ]; then
	echo "  FUZZ     datapath invariants ($pkts packets, seed $seed)"
	out=$BUILD/fuzz/work/dp_invariants.log
	mkdir -p "$BUILD/fuzz/work"
	rc=0
	nice -n 10 "$BUILD/fuzz/dp_invariants" --packets "$pkts" \
		--seed "$seed" >"$out" 2>&1 || rc=$?
	line=$(grep '^total:' "$out" | tail -n 1)
	sent=$(echo "$line" | sed -n 's/.*packets=\([0-9]*\).*/\1/p')
	prate=$(echo "$line" | sed -n 's/.*pps=\([0-9]*\).*/\1/p')
	bad=$(echo "$line" | sed -n 's/.*violations=\([0-9]*\).*/\1/p')
	if [ "$rc" != 0 ]; then
		failed=1
		echo "  FAIL     datapath invariants: exit $rc; log $out" >&2
		head -n 20 "$out" >&2
	fi
	printf '%-10s %14s %10s %8s %8s\n' dp-invar "${sent:-0}" \
		"${prate:-0}" - "${bad:-1}" >>"$table"
fi

printf '\n%-10s %14s %10s %8s %8s\n' target executions exec/s edges crashes
cat "$table"
echo
[ "$failed" = 0 ] || { echo "fuzz: FAILED" >&2; exit 1; }
