#!/usr/bin/env bash
# conf/peerwall-alerts.yml and conf/grafana-dashboard.json:
# - every peerwall_* name in a rule or panel expression is one the agent
#   exports (a string in src/metrics.c), or one of the few announced and
#   not merged yet (PENDING, reported);
# - every runbook_url points at a heading that exists in docs/runbook.md;
# - the dashboard is valid JSON with a Prometheus datasource variable that
#   every panel uses, unique panel ids;
# - promtool check rules + promtool test rules (tests/ship/alerts_test.yml)
#   when promtool is installed (Debian: prometheus), skipped otherwise.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
alerts=$root/conf/peerwall-alerts.yml
dash=$root/conf/grafana-dashboard.json
# Announced metrics another change adds to src/metrics.c.
PENDING="peerwall_emergency_drops_total peerwall_connections_established"
failed=0
ok() { echo "  ok    $1"; }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); }

exported=$(grep -o '"peerwall_[a-z0-9_]*' "$root/src/metrics.c" | tr -d '"' | sort -u)
[ -n "$exported" ] || { bad "no metric names found in src/metrics.c"; exit 1; }

# names_ok WHAT NAMES...: each name exported or pending
names_ok() {
	local what=$1 n unknown= pending=
	shift
	for n in "$@"; do
		if grep -qx "$n" <<<"$exported"; then continue; fi
		if grep -qw "$n" <<<"$PENDING"; then pending="$pending $n"; else unknown="$unknown $n"; fi
	done
	[ -n "$pending" ] && echo "  note  $what uses announced metrics not in src/metrics.c yet:$(tr ' ' '\n' <<<"$pending" | sort -u | paste -sd' ')"
	if [ -z "$unknown" ]; then ok "$what: every peerwall_* metric is exported ($# references)"; else bad "$what: not exported:$unknown"; fi
}

# --- alert rules ------------------------------------------------------------
rule_names=$(sed -n '/^ *expr:/,/^ *for:/p' "$alerts" | grep -o 'peerwall_[a-z0-9_]*')
# shellcheck disable=SC2086
names_ok "alert rules" $rule_names
others=$(sed -n '/^ *expr:/,/^ *for:/p' "$alerts" | grep -o '\bup{[^}]*}' | sort -u)
if [ -z "$others" ] || [ "$others" = 'up{job="peerwall"}' ]; then ok "alert rules: the only other series is up{job=\"peerwall\"}"; else bad "alert rules: unexpected series $others"; fi

# GitHub-style anchors of the runbook's headings.
anchors=$(grep -E '^#{1,6} ' "$root/docs/runbook.md" | sed -E 's/^#+ +//' |
	tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')
n_alerts=$(grep -c '^ *- alert:' "$alerts")
n_urls=$(grep -c 'runbook_url: "docs/runbook.md#' "$alerts")
[ "$n_alerts" -eq "$n_urls" ] && ok "every alert ($n_alerts) has a runbook_url into docs/runbook.md" || bad "$n_alerts alerts, $n_urls runbook_urls"
missing=
for a in $(grep -o 'runbook_url: "docs/runbook.md#[^"]*' "$alerts" | sed 's/.*#//' | sort -u); do
	grep -qx "$a" <<<"$anchors" || missing="$missing #$a"
done
[ -z "$missing" ] && ok "every runbook_url anchor is a heading in docs/runbook.md" || bad "runbook anchors missing:$missing"

if command -v promtool >/dev/null; then
	out=$(promtool check rules "$alerts" 2>&1) && ok "promtool check rules" || { bad "promtool check rules"; sed 's/^/        /' <<<"$out"; }
	out=$(cd "$root/tests/ship" && promtool test rules alerts_test.yml 2>&1) && ok "promtool test rules (tests/ship/alerts_test.yml)" || { bad "promtool test rules"; sed 's/^/        /' <<<"$out"; }
else
	echo "  skip  promtool not installed (Debian package prometheus): rules not checked by promtool"
fi

# --- dashboard ----------------------------------------------------------------
if ! jq -e . "$dash" >/dev/null 2>&1; then
	bad "grafana-dashboard.json is not valid JSON"
else
	ok "grafana-dashboard.json is valid JSON"
	jq -e '.title and .uid and (.schemaVersion | type == "number") and (.panels | length > 0)' "$dash" >/dev/null &&
		ok "dashboard has title, uid, schemaVersion, panels" || bad "dashboard lacks title/uid/schemaVersion/panels"
	jq -e '[.templating.list[] | select(.type == "datasource" and .query == "prometheus" and .name == "datasource")] | length == 1' "$dash" >/dev/null &&
		ok "dashboard has a Prometheus datasource variable" || bad "no Prometheus datasource variable"
	jq -e '[.panels[] | select(.type != "row") | .datasource.uid == "${datasource}" and ([.targets[].datasource.uid] | all(. == "${datasource}"))] | all' "$dash" >/dev/null &&
		ok "every panel and target uses \${datasource}" || bad "a panel or target does not use \${datasource}"
	jq -e '[.panels[].id] | length == (unique | length)' "$dash" >/dev/null && ok "panel ids are unique" || bad "duplicate panel ids"
	jq -e '[.panels[] | select(.type != "row") | (.targets | length > 0) and (.gridPos.w > 0) and (.title | length > 0)] | all' "$dash" >/dev/null &&
		ok "every panel has a title, a size and a query" || bad "a panel lacks a title, size or query"
	dash_names=$(jq -r '.. | objects | select(has("expr")) | .expr' "$dash" | grep -o 'peerwall_[a-z0-9_]*')
	# shellcheck disable=SC2086
	names_ok "dashboard" $dash_names
	want="peerwall_packets_total peerwall_bans_active peerwall_bans_issued_total peerwall_emergency peerwall_tick_duration_seconds peerwall_state_write_failures_total"
	gaps=
	for m in $want; do grep -qx "$m" <<<"$dash_names" || gaps="$gaps $m"; done
	[ -z "$gaps" ] && ok "dashboard covers pass/drop by reason, bans, emergency, agent health" || bad "dashboard does not show:$gaps"
fi
echo "monitoring files: $failed failed"
[ "$failed" -eq 0 ]
