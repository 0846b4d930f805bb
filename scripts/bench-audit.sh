#!/usr/bin/env bash
# What verification costs on a development chain with three workers (real model): for
# replicated jobs (k = 3) and audited jobs at 1 %, 5 % and 10 %, JOBS jobs of 16 tokens each at
# a price of 1 CMN. Prints a table: model runs per verified job (seats that committed, from each
# job's record), what the requester paid per job (payments and protocol fee, from the
# receipts), audits drawn, and the expected figures from the rate.
# Usage: scripts/bench-audit.sh [JOBS]   (default 12)
set -euo pipefail
JOBS="${1:-12}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"
build_release
bash scripts/fetch-model.sh >/dev/null
CLI="$COMMONS_BIN/commons"
WORK="$(mktemp -d -t commons-audit.XXXXXX)"
trap 'stop_started; rm -rf "$WORK"' EXIT
start_dev_node "$WORK"
for i in 0 1 2; do start_worker "$WORK" "worker$i" cpu; done

# measure LABEL ARGS...: JOBS jobs, three requesters at a time; one table row.
measure() {
	local label="$1" requesters=(//Alice //Bob //Charlie) n pids
	shift
	rm -f "$WORK"/receipt-*.json
	for ((n = 0; n < JOBS; n += 3)); do
		pids=()
		for i in 0 1 2; do
			((n + i < JOBS)) || break
			"$CLI" --json infer --key "${requesters[$i]}" --model 0 --max-tokens 16 --price 1 \
				--models-dir models --prompt "Name a colour, number $((n + i))." "$@" \
				>"$WORK/receipt-$((n + i)).json" &
			pids+=($!)
		done
		# Only the requesters: a bare `wait` would also wait for the node and the workers.
		wait "${pids[@]}" || true
	done
	python3 - "$label" "$WORK" "$JOBS" "$CLI" <<'PY'
import json, subprocess, sys, glob
label, work, jobs, cli = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
runs = paid = audits = accepted = 0
for path in glob.glob(f"{work}/receipt-*.json"):
    receipt = json.load(open(path))
    if receipt.get("outcome") != "accepted":
        continue
    accepted += 1
    paid += int(receipt["paid"]) + int(receipt["fee"])
    shown = json.loads(subprocess.run([cli, "--json", "job", "show", str(receipt["job"])],
                                      capture_output=True, text=True, check=True).stdout)
    runs += sum(1 for seat in shown["seats"] if seat["committed"])
    if (receipt.get("verification") or {}).get("audited"):
        audits += 1
unit = 10**12
rate = {"replicated, k = 3": None, "audited at 1 %": 0.01, "audited at 5 %": 0.05, "audited at 10 %": 0.10}[label]
expected_runs = 3 if rate is None else 1 + rate
per_run = 1.05  # price 1 CMN and the default 5 % protocol fee
print(f"| {label} | {accepted} of {jobs} | {runs / max(accepted, 1):.2f} | {expected_runs:.2f} | "
      f"{paid / unit / max(accepted, 1):.3f} | {expected_runs * per_run:.3f} | {audits} |")
PY
}

echo "| verification | jobs accepted | model runs per job, measured | expected | requester paid per job (CMN), measured | expected | audits drawn |"
echo "|---|---|---|---|---|---|---|"
measure "replicated, k = 3" --replicas 3
measure "audited at 1 %" --audit-rate 1%
measure "audited at 5 %" --audit-rate 5%
measure "audited at 10 %" --audit-rate 10%
