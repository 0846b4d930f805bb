#!/usr/bin/env bash
# End-to-end market figures on a development chain with three workers (real model):
#   - post-to-settled latency of a 16-token job with three replicas (median of RUNS jobs);
#   - jobs settled per minute with three workers, JOBS jobs posted at once by different requesters.
# Prints a table, one row per build: the current one and, when BASELINE_BIN names a directory
# holding an earlier build's commons-node and commons-worker, that one on a fresh chain in the
# same run (the requester is this build's `commons` in both).
# Usage: [BASELINE_BIN=dir] scripts/bench-e2e.sh [RUNS] [JOBS]   (defaults 3 and 6)
set -euo pipefail
RUNS="${1:-3}"
JOBS="${2:-6}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"
build_release
bash scripts/fetch-model.sh >/dev/null
CLI="$COMMONS_BIN/commons"
BACKEND="${BENCH_BACKEND:-cpu}"
WORK=""
trap 'stop_started; [[ -z "$WORK" ]] || rm -rf "$WORK"' EXIT

job() { # job KEY PROMPT: prints the seconds from post to settled
	local start end
	start="$(date +%s.%N)"
	"$CLI" --json infer --key "$1" --model 0 --prompt "$2" --max-tokens 16 --replicas 3 --price 1 \
		--models-dir models >"$WORK/job-$RANDOM.json"
	end="$(date +%s.%N)"
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}

# measure LABEL BIN_DIR: one table row from a fresh chain of BIN_DIR's node and three fresh
# workers of BIN_DIR's worker.
measure() {
	local label="$1" latencies=() median start end n job_pids=()
	WORK="$(mktemp -d -t commons-bench.XXXXXX)"
	NODE_BIN="$2/commons-node" start_dev_node "$WORK"
	for i in 0 1 2; do WORKER_BIN="$2/commons-worker" start_worker "$WORK" "worker$i" "$BACKEND"; done
	for run in $(seq 1 "$RUNS"); do
		latencies+=("$(job //Alice "Name a colour of the sky, run $run.")")
	done
	median="$(printf '%s\n' "${latencies[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
	local requesters=(//Alice //Bob //Charlie //Dave //Eve //Ferdie)
	start="$(date +%s.%N)"
	for n in $(seq 0 $((JOBS - 1))); do
		job "${requesters[$((n % ${#requesters[@]}))]}" "Write one word about the number $n." >/dev/null &
		job_pids+=($!)
		# Jobs from the same requester go one block apart so their nonces do not collide.
		if (((n + 1) % ${#requesters[@]} == 0)); then sleep 3; fi
	done
	# Only the requesters: a bare `wait` would also wait for the node and the workers.
	wait "${job_pids[@]}"
	end="$(date +%s.%N)"
	awk -v l="$label" -v runs="${latencies[*]}" -v m="$median" -v s="$start" -v e="$end" -v n="$JOBS" \
		'BEGIN { printf "| %s | %s | %s | %d in %.1f s | %.1f |\n", l, runs, m, n, e - s, n * 60 / (e - s) }'
	stop_started
	STARTED_PIDS=()
	rm -rf "$WORK"
	WORK=""
}

echo "| build (workers on $BACKEND, three on this machine) | post to settled, 16 tokens, k = 3, each run (s) | median of $RUNS (s) | jobs posted at once, all settled | jobs settled per minute |"
echo "|---|---|---|---|---|"
measure "this build" "$COMMONS_BIN"
if [[ -n "${BASELINE_BIN:-}" ]]; then
	measure "baseline ($BASELINE_BIN)" "$BASELINE_BIN"
fi
