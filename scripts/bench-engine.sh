#!/usr/bin/env bash
# Benchmarks the inference engine and prints a table: the integer path on the CPU at 1 and 2
# threads and through wgpu, next to llama.cpp on the same GGUF file in the same run, and the
# decode roofline (weight bytes read per token against the machine's memory read bandwidth).
#
#   scripts/bench-engine.sh            PROMPT_TOKENS=128 DECODE=64 by default
#
# llama.cpp comes from the llama-cpp-python package (built from source once, into
# ~/.cache/commons/bench-venv); it is a benchmark-only dependency.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/fetch-model.sh" >/dev/null
MODEL="$REPO_ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
TEXT="$REPO_ROOT/worker/engine/tests/fixtures/agreement.txt"
PROMPT_TOKENS="${PROMPT_TOKENS:-128}"
DECODE="${DECODE:-64}"
LLAMA_CPP_PYTHON_VERSION=0.3.36

VENV="$HOME/.cache/commons/bench-venv"
if ! "$VENV/bin/python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON_VERSION')" 2>/dev/null; then
	echo "bench-engine: building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (llama.cpp from source, once)" >&2
	python3 -m venv "$VENV"
	CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
		"$VENV/bin/pip" install --quiet "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
fi

cargo build --release --locked -p commons-engine --example bench >&2
BENCH="$CARGO_TARGET_DIR/release/examples/bench"
common=(--model "$MODEL" --text "$TEXT" --prompt-tokens "$PROMPT_TOKENS" --decode "$DECODE")

results=()
for threads in 1 2; do
	results+=("$("$BENCH" "${common[@]}" --threads "$threads")")
	results+=("$("$VENV/bin/python" scripts/bench_llama.py "${common[@]}" --threads "$threads")")
done
# The wgpu backend on the best adapter found (lavapipe where there is no GPU).
results+=("$("$BENCH" "${common[@]}" --backend gpu 2>/dev/null)")
bandwidth="$("$BENCH" "${common[@]}" --bandwidth --threads 0)"

# The raw figures are kept, so that a table can be made again from them.
printf '%s\n' "${results[@]}" | tee "${BENCH_ENGINE_JSON:-/tmp/bench-engine.jsonl}" | python3 -c '
import json, sys
bandwidth = json.loads(sys.argv[1])["bandwidth_gbs"]
rows = [json.loads(line) for line in sys.stdin if line.strip()]
per_token = next(r["bytes_per_token"] for r in rows if "bytes_per_token" in r)
print(f"prompt {sys.argv[2]} tokens, decode {sys.argv[3]} tokens; weights read per decoded token: "
      f"{per_token / 1e6:.1f} MB; memory read bandwidth (all cores): {bandwidth:.1f} GB/s")
print()
print("| engine | backend | threads | prefill tok/s | decode tok/s | peak MiB | decode roofline |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    roof = 100 * r["decode_tps"] * per_token / (bandwidth * 1e9)
    print("| {engine} | {backend} | {threads} | {prefill_tps:.1f} | {decode_tps:.1f} | {peak_mib} | "
          "{roof:.1f} % |".format(roof=roof, **r))
' "$bandwidth" "$PROMPT_TOKENS" "$DECODE"
