#!/usr/bin/env bash
# forge coverage over src/ only (tests, references and the replica excluded), failing below the bar:
# lines and branches >= COVERAGE_MIN percent (default 95). Fork and gas suites are left out (no RPC; gas only).
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${COVERAGE_MIN:-95}
report=$(forge coverage --report summary --no-match-coverage '^(test|script)/' \
  --no-match-path 'test/{fork,gas}/*' 2>&1) || { echo "$report" | tail -30; exit 1; }
echo "$report" | grep -E '^\| (src/|File|Total)'
total=$(echo "$report" | grep -E '^\| Total' | head -1)
lines=$(echo "$total" | awk -F'|' '{print $3}' | grep -oE '[0-9.]+%' | tr -d '%')
branches=$(echo "$total" | awk -F'|' '{print $5}' | grep -oE '[0-9.]+%' | tr -d '%')
echo "coverage of src/: lines ${lines}%, branches ${branches}% (bar ${MIN}%)"
awk -v l="$lines" -v b="$branches" -v m="$MIN" 'BEGIN { exit !(l >= m && b >= m) }' \
  || { echo "coverage below ${MIN}%" >&2; exit 1; }
