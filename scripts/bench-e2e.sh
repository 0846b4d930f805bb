#!/usr/bin/env bash
# End-to-end market figures on a development chain with three workers (real model):
#   - post-to-settled latency of a 16-token job with three replicas (median of RUNS jobs);
#   - jobs settled per minute with three workers, JOBS jobs posted at once by different requesters.
# Prints a table. Usage: scripts/bench-e2e.sh [RUNS] [JOBS]   (defaults 3 and 6)
set -euo pipefail
RUNS="${1:-3}"
JOBS="${2:-6}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"
build_release
bash scripts/fetch-model.sh >/dev/null
CLI="$COMMONS_BIN/commons"
WORK="$(mktemp -d -t commons-bench.XXXXXX)"
trap 'stop_started; rm -rf "$WORK"' EXIT
start_dev_node "$WORK"
BACKEND="${BENCH_BACKEND:-cpu}"
for i in 0 1 2; do start_worker "$WORK" "worker$i" "$BACKEND"; done

job() { # job KEY PROMPT: prints the seconds from post to settled
	local start end
	start="$(date +%s.%N)"
	"$CLI" --json infer --key "$1" --model 0 --prompt "$2" --max-tokens 16 --replicas 3 --price 1 \
		--models-dir models >"$WORK/job-$RANDOM.json"
	end="$(date +%s.%N)"
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}

echo "| measure | value |"
echo "|---|---|"
latencies=()
for run in $(seq 1 "$RUNS"); do
	latencies+=("$(job //Alice "Name a colour of the sky, run $run.")")
done
median="$(printf '%s\n' "${latencies[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
echo "| post to settled, 16 tokens, k = 3 ($BACKEND workers), each run | ${latencies[*]} s |"
echo "| post to settled, median of $RUNS | $median s |"

REQUESTERS=(//Alice //Bob //Charlie //Dave //Eve //Ferdie)
start="$(date +%s.%N)"
job_pids=()
for n in $(seq 0 $((JOBS - 1))); do
	job "${REQUESTERS[$((n % ${#REQUESTERS[@]}))]}" "Write one word about the number $n." >/dev/null &
	job_pids+=($!)
	# Jobs from the same requester go one block apart so their nonces do not collide.
	if (((n + 1) % ${#REQUESTERS[@]} == 0)); then sleep 3; fi
done
# Only the requesters: a bare `wait` would also wait for the node and the workers.
wait "${job_pids[@]}"
end="$(date +%s.%N)"
awk -v s="$start" -v e="$end" -v n="$JOBS" \
	'BEGIN { printf "| %d jobs posted at once, all settled in | %.1f s |\n| jobs settled per minute, three workers | %.1f |\n", n, e - s, n * 60 / (e - s) }'
