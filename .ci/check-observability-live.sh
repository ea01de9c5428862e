#!/usr/bin/env bash
# The observability check against real parts: promtool check/test rules, then a throw-away
# Prometheus scraping the demo's application (kept running with --linger-seconds) evaluates
# every dashboard and alert expression. Writes a vitest-like JSON report ($1) for the summary.
set -uo pipefail
report=$1
out=$(dirname "$report")
PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
setsid node bin/cutover.js demo --quick --metrics-port "$PORT" --linger-seconds 90 </dev/null >"$out/demo-linger.log" 2>&1 &
demo=$!
# Until the story is told (at most 120 s); a demo that died is reported at once, not waited for.
for _ in $(seq 1 120); do grep -q 'the application keeps running' "$out/demo-linger.log" && break; kill -0 "$demo" 2>/dev/null || break; sleep 1; done
if kill -0 "$demo" 2>/dev/null; then
  CHECK_SCRAPES=${CHECK_SCRAPES:-5} bash scripts/check-observability.sh "http://127.0.0.1:$PORT/metrics" >"$out/observability.log" 2>&1
  code=$?
else
  { echo "the demo serving the metrics ended before its story was told:"; tail -15 "$out/demo-linger.log"; } >"$out/observability.log"
  code=1
fi
kill -INT -- "-$demo" 2>/dev/null
for _ in $(seq 1 30); do kill -0 "$demo" 2>/dev/null || break; sleep 0.5; done
tail -25 "$out/observability.log"
passed=0; failed=0
if [ "$code" = 0 ]; then passed=1; else failed=1; fi
printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":0,"numFailedTestSuites":0}\n' "$passed" "$failed" >"$report"
