#!/usr/bin/env bash
# Runs `npm run demo -- --quick` on the embedded server and checks its exit code and the key lines of its story.
# Writes a vitest-like JSON report ($1) so the summary counts each check.
set -uo pipefail
report=$1
log=$(dirname "$report")/demo.log
timeout 300 npm run -s demo -- --quick </dev/null >"$log" 2>&1
code=$?
passed=0; failed=0
check() { # name, condition result
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "demo check ok: $1"; else failed=$((failed + 1)); echo "demo check FAILED: $1"; fi
}
check "exits 0" "$([ "$code" = 0 ]; echo $?)"
for line in \
  'the read comparison caught it: divergence recorded' \
  'verify found it too (exit code 1)' \
  'repaired: verify is clean again' \
  'the guardrail rolled back by itself: guardrail: shadow read p99' \
  'guardrail_rollback shadow_primary -> dual_write' \
  'rolled back ramp 50% -> dual_write, every member in one transaction' \
  'demo finished in'; do
  grep -qF -- "$line" "$log"; check "prints: $line" $?
done
[ "$code" != 0 ] && tail -40 "$log"

# Ctrl-C midway (SIGINT to the whole process group, as a terminal sends it) cleans up too.
# The demo gets a temporary directory of its own, so other runs' servers never count.
demo_tmp=$(mktemp -d)
chmod 755 "$demo_tmp" # the embedded server runs as another user when we are root
TMPDIR="$demo_tmp" setsid node bin/cutover.js demo --quick </dev/null >"$log.int" 2>&1 &
pid=$!
# Interrupt once the server is up (the story is then under way), whatever the machine's load; at most 90 s.
for _ in $(seq 1 180); do grep -q 'embedded PostgreSQL' "$log.int" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
sleep 1
kill -INT -- "-$pid" 2>/dev/null
for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
kill -0 "$pid" 2>/dev/null; check "Ctrl-C ends the demo" "$([ $? != 0 ]; echo $?)"
started=$(grep -c 'embedded PostgreSQL' "$log.int")
check "Ctrl-C came after the embedded server started" "$([ "$started" -gt 0 ]; echo $?)"
check "Ctrl-C removes the embedded server's directory" "$([ -z "$(ls -d "$demo_tmp"/cutover-pg-* 2>/dev/null)" ]; echo $?)"
check "Ctrl-C leaves no demo config directory" "$([ -z "$(ls -d "$demo_tmp"/cutover-demo-* 2>/dev/null)" ]; echo $?)"
rm -rf "$demo_tmp"
printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":0,"numFailedTestSuites":0}\n' "$passed" "$failed" >"$report"
