#!/usr/bin/env bash
# Every man page in docs/ renders with no groff/man warnings at 80 columns,
# and `man -l docs/peerwallctl.8` (the path operators are told) works.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
failed=0 n=0
command -v man >/dev/null || { echo "  skip  man pages: man(1) not installed (apt-get install man-db)"; exit 0; }
for f in "$root"/docs/*.[1-8]; do
	n=$((n + 1))
	# man writes the page to stdout, warnings to stderr
	warn=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	if [ -n "$warn" ]; then
		echo "  FAIL  ${f#$root/} renders with warnings:"
		sed 's/^/        /' <<<"$warn"
		failed=$((failed + 1))
	else
		echo "  ok    ${f#$root/} renders cleanly"
	fi
done
for page in peerwalld.8 peerwallctl.8 peerwall.conf.5 peerwall-replay.1; do
	[ -f "$root/docs/$page" ] || { echo "  FAIL  docs/$page missing"; failed=$((failed + 1)); }
done
text=$(cd "$root" && MANWIDTH=80 man -l docs/peerwallctl.8 2>/dev/null)
if grep -q 'peerwallctl' <<<"$text"; then echo "  ok    man -l docs/peerwallctl.8"; else echo "  FAIL  man -l docs/peerwallctl.8"; failed=$((failed + 1)); fi
echo "man pages: $n checked, $failed failed"
[ "$failed" -eq 0 ]
