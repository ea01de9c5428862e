#!/usr/bin/env bash
# The checks that need no server: types, lint rules and Prettier's style (`npm run format -- --check`).
# Writes a vitest-like JSON report ($1) so the summary counts each check.
set -uo pipefail
report=$1
log=$(dirname "$report")/static.log
: >"$log"
passed=0; failed=0
check() { # name, then the command
  local name=$1; shift
  if "$@" >>"$log" 2>&1; then passed=$((passed + 1)); echo "static check ok: $name"
  else failed=$((failed + 1)); echo "static check FAILED: $name"; fi
}
check "npm run typecheck" npm run -s typecheck
check "npm run lint" npm run -s lint
check "npm run format -- --check" npm run -s format -- --check
[ "$failed" != 0 ] && tail -40 "$log"
printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":0,"numFailedTestSuites":0}\n' "$passed" "$failed" >"$report"
