#!/usr/bin/env bash
# Checks the alert rules, and (given a target) every PromQL expression against a real Prometheus.
#
#   bash scripts/check-observability.sh                 # (a) + (b)
#   bash scripts/check-observability.sh http://127.0.0.1:9464/metrics   # (a) + (b) + (c)
#
# (a) installs Prometheus (Debian package: promtool and prometheus) if promtool is missing;
# (b) promtool check rules + promtool test rules on dashboards/alerts.yml;
# (c) starts a throw-away Prometheus on loopback (free port, temporary data directory)
#     scraping the target URL every second with the alert rules loaded, waits for a few
#     scrapes, and evaluates every expression of the dashboard, the rules and the runbooks
#     (scripts/evaluate-promql.ts). Exits non-zero when one does not parse or evaluate.
#
# Environment: CHECK_SCRAPES (scrapes to wait for, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_URL=${1:-}
SCRAPES=${CHECK_SCRAPES:-5}
RULES=dashboards/alerts.yml
RULE_TESTS=dashboards/alerts.test.yml

step() { printf '\n=== %s\n' "$*"; }

# --- (a) Prometheus -------------------------------------------------------------------
if ! command -v promtool >/dev/null 2>&1; then
  step "installing prometheus (provides promtool)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi

# --- (b) the rule file and its unit tests ----------------------------------------------
step "promtool check rules $RULES"
promtool check rules "$RULES"
step "promtool test rules $RULE_TESTS"
promtool test rules "$RULE_TESTS"

if [ -z "$TARGET_URL" ]; then
  printf '\nno target URL given: skipped the live Prometheus check (pass the /metrics URL of a cutover process)\n'
  exit 0
fi

# --- (c) a throw-away Prometheus scraping the target -----------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutover-prometheus.XXXXXX")
PROM_PID=""
EVAL_PID=""
cleanup() {
  for pid in $EVAL_PID $PROM_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The target URL's scheme, host:port and path; and a free loopback port for Prometheus.
read -r SCHEME HOSTPORT METRICS_PATH < <(node -e '
  const u = new URL(process.argv[1]);
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  console.log(u.protocol.replace(":", ""), `${u.hostname}:${port}`, (u.pathname || "/metrics") + u.search);
' "$TARGET_URL")
PORT=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')

cp "$RULES" "$WORK/alerts.yml"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - alerts.yml
scrape_configs:
  - job_name: cutover
    scheme: $SCHEME
    metrics_path: '$METRICS_PATH'
    static_configs:
      - targets: ['$HOSTPORT']
EOF

step "starting Prometheus on 127.0.0.1:$PORT, scraping $TARGET_URL every second"
prometheus \
  --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$PORT" \
  --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

for _ in $(seq 1 60); do
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/-/ready"; then break; fi
  if ! kill -0 "$PROM_PID" 2>/dev/null; then
    echo "Prometheus exited:" >&2
    cat "$WORK/prometheus.log" >&2
    exit 1
  fi
  sleep 0.5
done

step "evaluating every PromQL expression after $SCRAPES scrapes"
# In the background and waited for, so that Ctrl-C or a kill reaches the trap at once.
node --import tsx scripts/evaluate-promql.ts "http://127.0.0.1:$PORT" "$SCRAPES" &
EVAL_PID=$!
wait "$EVAL_PID"
