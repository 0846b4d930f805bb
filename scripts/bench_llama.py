"""llama.cpp (through llama-cpp-python) on the same GGUF file, measured the way
worker/engine/examples/bench.rs measures Commons: the first N tokens of a text as the prompt
(one batch), then greedy decode steps one token at a time. Prints one JSON line."""

import argparse
import json
import resource
import time

import numpy as np
from llama_cpp import Llama

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--text", required=True)
parser.add_argument("--prompt-tokens", type=int, default=128)
parser.add_argument("--decode", type=int, default=64)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()

llm = Llama(
    model_path=args.model,
    n_ctx=args.prompt_tokens + args.decode + 8,
    n_threads=args.threads,
    n_threads_batch=args.threads,
    n_batch=512,
    logits_all=False,
    verbose=False,
)
with open(args.text, encoding="utf-8") as f:
    prompt = llm.tokenize(f.read().encode("utf-8"), add_bos=False)[: args.prompt_tokens]

start = time.perf_counter()
llm.eval(prompt)
prefill = time.perf_counter() - start

start = time.perf_counter()
for _ in range(args.decode):
    token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    llm.eval([token])
decode = time.perf_counter() - start

print(
    json.dumps(
        {
            "engine": "llama.cpp",
            "backend": "cpu",
            "threads": args.threads,
            "prefill_tps": round(len(prompt) / prefill, 2),
            "decode_tps": round(args.decode / decode, 2),
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )
)
