#!/usr/bin/env bash
# A picture of docs/grafana/commons-worker.json rendering real data: a development chain with
# three workers serving jobs for MINUTES minutes, scraped by a real Prometheus (Debian's
# package), whose answers to the dashboard's own queries are drawn to docs/grafana/commons-worker.png
# by scripts/dashboard_png.py (matplotlib). Grafana itself is neither in Debian nor on PyPI,
# so the panels are drawn from the same queries instead of by Grafana.
# Usage: scripts/dashboard-screenshot.sh [MINUTES]   (default 6)
set -euo pipefail
MINUTES="${1:-6}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"

if ! command -v prometheus >/dev/null; then
	SUDO=""
	if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
fi
if ! "$COMMONS_VENV/bin/python" -c "import matplotlib" 2>/dev/null; then
	python3 -m venv "$COMMONS_VENV"
	"$COMMONS_VENV/bin/pip" install --quiet --disable-pip-version-check "matplotlib==3.11.2"
fi
build_release
bash scripts/fetch-model.sh >/dev/null

WORK="$(mktemp -d -t commons-dashboard.XXXXXX)"
trap 'stop_started; rm -rf "$WORK"' EXIT
start_dev_node "$WORK"
targets=""
for i in 0 1 2; do
	start_worker "$WORK" "worker$i" cpu
	targets+="  - targets: ['127.0.0.1:$METRICS_PORT']
    labels: {instance: worker$i}
"
done
cat >"$WORK/prometheus.yml" <<YAML
global: {scrape_interval: 2s}
scrape_configs:
- job_name: commons-worker
  static_configs:
$targets
YAML
PROMETHEUS_PORT="$(free_port)"
prometheus --config.file "$WORK/prometheus.yml" --storage.tsdb.path "$WORK/tsdb" \
	--web.listen-address "127.0.0.1:$PROMETHEUS_PORT" >"$WORK/prometheus.log" 2>&1 &
STARTED_PIDS+=($!)

start="$(date +%s)"
end=$((start + MINUTES * 60))
requesters=(//Alice //Bob //Charlie)
n=0
while (($(date +%s) < end)); do
	# Three requesters post at once, then wait for their jobs to settle.
	pids=()
	for key in "${requesters[@]}"; do
		"$COMMONS_BIN/commons" --json infer --key "$key" --model 0 --max-tokens 16 --replicas 3 \
			--price 1 --models-dir models --prompt "Write one word about the number $n." >/dev/null &
		pids+=($!)
		n=$((n + 1))
	done
	wait "${pids[@]}" || true
done
sleep 4 # the last scrape
"$COMMONS_VENV/bin/python" scripts/dashboard_png.py "http://127.0.0.1:$PROMETHEUS_PORT" \
	docs/grafana/commons-worker.json "$start" "$(date +%s)" docs/grafana/commons-worker.png
echo "$n jobs posted in $MINUTES minutes"
