#!/usr/bin/env bash
# The GPU path of issue 26, measured in one prepared run (under ten minutes on one GPU).
#
#   benchmarks/gpu_check.sh               # on a CUDA machine
#   benchmarks/gpu_check.sh --cpu-smoke   # no GPU: every step on the CPU at the smallest sizes
#   benchmarks/gpu_check.sh --dry-run     # print the steps, run nothing (with --cpu-smoke: its steps)
#
# Writes benchmarks/results/gpu-check-<time>/ (one JSON per step, each step's log) and
# benchmarks/results/gpu-check-<time>.json (all steps: command, exit status, seconds, report).
# Steps, each under its own time limit so that one stuck step cannot eat the budget:
#   0. environment: translate_kit, torch, ctranslate2 and the serve extra importable, else
#      `pip install -e .[serve]`, but only into an active virtual environment or with INSTALL=1
#      (never silently into a system Python); no network on the device machine: it stops, saying so
#   1. models: the full-size random opus-mt-fr-en, opus-mt-tc-big-fr-en and distilbart-cnn-12-6
#      (benchmarks/full_model.py)
#   2. speed: bench_translate.py --device cuda --tier big (big beside base, interleaved): tk torch
#      fp16, tk CTranslate2 float16 and int8_float16, greedy and beam 4, at each batch budget
#   3. summarizer on both backends: bench_summarize.py --methods tk-torch,tk-ct2
#   4. a forced out-of-memory back-off ending in a correct output: gpu_oom.py, torch (its GPU
#      memory share capped) and CTranslate2 (a batch of thousands of long sentences)
#   5. bench_serve.py: 1, 4 and 16 clients (target: 16 clients >= 5x one client's throughput)
# Knobs (environment): BUDGETS="1000 4000 16000", SENTENCES=64, ROUNDS=1, STEP_TIMEOUT=150, PYTHON=python
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"
MODE=gpu
DRY=0
for arg in "$@"; do
  case "$arg" in
    --cpu-smoke) MODE=smoke ;;
    --dry-run) DRY=1 ;;
    *) echo "usage: benchmarks/gpu_check.sh [--cpu-smoke] [--dry-run]" >&2; exit 2 ;;
  esac
done

STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="benchmarks/results/gpu-check-$STAMP"
[[ $MODE == smoke ]] && OUT="benchmarks/results/gpu-check-smoke-$STAMP"
STEP_TIMEOUT="${STEP_TIMEOUT:-150}"
if [[ $MODE == smoke ]]; then
  DEVICE=cpu; BUDGETS="${BUDGETS:-2000}"; SENTENCES="${SENTENCES:-2}"; ROUNDS="${ROUNDS:-1}"; BEAMS=1
  METHODS=tk-torch,tk-ct2-int8
else
  DEVICE=cuda; BUDGETS="${BUDGETS:-1000 4000 16000}"; SENTENCES="${SENTENCES:-64}"; ROUNDS="${ROUNDS:-1}"; BEAMS=1,4
  METHODS=tk-torch-fp16,tk-ct2-fp16,tk-ct2-int8
fi
FAILED=()

# step NAME SECONDS COMMAND...: run one step under `timeout`, its log and exit status kept.
step() {
  local name=$1 limit=$2
  shift 2
  if (( DRY )); then
    printf '%s (limit %ss):' "$name" "$limit"; printf ' %q' "$@"; printf '\n'
    return 0
  fi
  local started rc=0
  started=$(date +%s)
  echo "== $name: $*" >&2
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - started ))" >>"$OUT/steps.tsv"
  if (( rc != 0 )); then
    FAILED+=("$name (exit $rc)")
    echo "   $name failed (exit $rc); last lines of $OUT/$name.log:" >&2
    tail -n 5 "$OUT/$name.log" >&2
  fi
  return 0
}

environment() {
  if "$PYTHON" -c 'import translate_kit, torch, ctranslate2, transformers, fastapi, uvicorn' 2>/dev/null; then
    return 0
  fi
  if [[ -z ${VIRTUAL_ENV:-} && ${INSTALL:-0} != 1 ]]; then
    echo "gpu_check: $PYTHON cannot import translate_kit, torch, ctranslate2 and the serve extra; activate" \
      "a virtual environment that has them (or one to install them into), or set INSTALL=1" >&2
    exit 2
  fi
  echo "installing translate_kit with the serve extra into $("$PYTHON" -c 'import sys; print(sys.prefix)')" >&2
  if ! "$PYTHON" -m pip install -q -e ".[serve]"; then
    echo "gpu_check: cannot install the dependencies (no network?); install translate_kit[serve] first" >&2
    exit 2
  fi
}

device_ready() {
  [[ $DEVICE == cpu ]] && return 0
  if ! "$PYTHON" -c 'import sys, torch, ctranslate2; sys.exit(not (torch.cuda.is_available() and ctranslate2.get_cuda_device_count() > 0))'; then
    echo "gpu_check: no CUDA device visible to torch and CTranslate2 (use --cpu-smoke on a CPU)" >&2
    exit 2
  fi
}

merge() {
  "$PYTHON" - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
steps = []
for line in (out / "steps.tsv").read_text().splitlines():
    name, rc, seconds = line.split("\t")
    report = out / f"{name}.json"
    if report.is_file():
        body = json.loads(report.read_text())
    else:  # gpu_oom prints one JSON line last
        lines = [x for x in (out / f"{name}.log").read_text().splitlines() if x.startswith("{")]
        body = json.loads(lines[-1]) if lines else None
    steps.append({"step": name, "exit": int(rc), "seconds": int(seconds), "report": body})
target = out.with_suffix(".json")
target.write_text(json.dumps({"steps": steps}, indent=1) + "\n")
print(f"results: {target}")
PY
}

main() {
  if (( ! DRY )); then
    mkdir -p "$OUT"
    : >"$OUT/steps.tsv"
    environment
    device_ready
  fi
  local started
  started=$(date +%s)

  if [[ $MODE == smoke ]]; then
    # tiny models for the smoke: the test suite's hub (tiny tc-big, tiny BART), built in seconds
    step tiny-models 120 "$PYTHON" -c 'import sys; sys.path.insert(0, "tests/fixtures"); import build_models; build_models.build_test_hub(sys.argv[1])' "$OUT/tiny-models"
    step models 300 "$PYTHON" -c 'import sys; sys.path.insert(0, "benchmarks"); import full_model; full_model.model_dir("base"); full_model.model_dir("big")'
  else
    step models 240 "$PYTHON" -c 'import sys; sys.path.insert(0, "benchmarks"); import full_model; full_model.model_dir("base"); full_model.model_dir("big"); full_model.summarizer_dir()'
  fi

  local budget
  for budget in $BUDGETS; do
    step "speed-$budget" "$STEP_TIMEOUT" "$PYTHON" benchmarks/bench_translate.py --device "$DEVICE" --tier big \
      --methods "$METHODS" --beams "$BEAMS" --sentences "$SENTENCES" --rounds "$ROUNDS" --memory-sentences 0 \
      --tk-batch-tokens "$budget" --out "$OUT/speed-$budget.json"
  done

  if [[ $MODE == smoke ]]; then
    step summarizer "$STEP_TIMEOUT" "$PYTHON" benchmarks/bench_summarize.py --methods tk-torch,tk-ct2 --no-alone \
      --length 8 --model "$OUT/tiny-models/local-models/tiny-bart-128" --out "$OUT/summarizer.json"
    step oom-torch "$STEP_TIMEOUT" "$PYTHON" benchmarks/gpu_oom.py --device cpu --backend torch --simulate 4 \
      --sentences 12 --beams 1 --repeat 1 --model "$OUT/tiny-models/local-models/opus-mt-tc-big-fr-en"
    step serve 300 "$PYTHON" benchmarks/bench_serve.py --rounds 1 --requests 2 --beams 1 --out "$OUT/serve.json"
  else
    step summarizer "$STEP_TIMEOUT" "$PYTHON" benchmarks/bench_summarize.py --methods tk-torch,tk-ct2 --no-alone \
      --out "$OUT/summarizer.json"
    step oom-torch "$STEP_TIMEOUT" "$PYTHON" benchmarks/gpu_oom.py --device cuda --backend torch --tier big \
      --memory-fraction 0.02 --sentences 512 --beams 4
    step oom-ct2 "$STEP_TIMEOUT" "$PYTHON" benchmarks/gpu_oom.py --device cuda --backend ct2 --tier big \
      --sentences 4096 --repeat 4 --beams 4
    step serve "$STEP_TIMEOUT" "$PYTHON" benchmarks/bench_serve.py --rounds 1 --requests 32 --out "$OUT/serve.json"
  fi

  (( DRY )) && return 0
  merge
  echo "gpu_check: $(( $(date +%s) - started )) s; steps in $OUT/steps.tsv" >&2
  if (( ${#FAILED[@]} )); then
    echo "gpu_check: failed steps: ${FAILED[*]}" >&2
    exit 1
  fi
}

main
