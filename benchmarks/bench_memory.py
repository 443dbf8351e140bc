"""Peak memory (RSS) of `tk translate` on one very large document: 2 MB against 20 MB.

    python benchmarks/bench_memory.py                 # 2 MB and 20 MB
    python benchmarks/bench_memory.py --sizes 0.5 2   # a quicker look

Each size is one plain-text document of French sentences (the seed sentences, each with a number
inside it so that deduplication and the cache cannot hide the work: 98% of the segments are
distinct), written to a temporary folder and translated by a fresh `tk translate` process (md,
jsonl and txt outputs by default, `--format all` for every format; a fresh cache). Peak RSS is that
process's own `ru_maxrss`, read with os.wait4. A one-sentence document gives the fixed part
(Python, torch, the tokenizer, the model) that every run pays.

The model is a tiny random Marian with the test tokenizer whose output bias makes it stop at once
(an empty output). Memory, not translation, is measured: every segment still goes through
tokenizing, batching, generate(), the quality check (and, as every output is empty, its retry),
the cache and the writers; only the decoding loop is short. A real model adds its weights
(~300 MB for OPUS-MT) and per-batch activations, both independent of the document's size.

Where memory goes for one huge document: a document over PART_SEGMENTS segments is segmented
lazily and comes in parts (translate.translate_parts); each part is written as it arrives
(writers.DocumentOutputs) and dropped. A file of STREAM_BYTES (8 MB) or more is not even held as
text: it is decoded block by block as it is segmented (documents.StreamedDocument). What remains
proportional to the input is a smaller file's own text (under 8 MB of bytes).
Prints a Markdown table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
RESULTS = Path(__file__).resolve().parent / "results"
STOP_MODEL = Path(__file__).resolve().parent / ".models" / "stop-marian"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))


def stop_model() -> Path:
    """A tiny random Marian (test tokenizer) whose first output token is always end-of-sentence."""
    if (STOP_MODEL / "model.safetensors").is_file():
        return STOP_MODEL
    import torch
    from transformers import MarianMTModel

    import build_models

    build_models.build_marian(STOP_MODEL, build_models.COPY_MODEL_DIR / "source.spm", max_positions=512)
    model = MarianMTModel.from_pretrained(STOP_MODEL)
    with torch.no_grad():
        model.final_logits_bias[0, model.config.eos_token_id] = 1000.0
    model.save_pretrained(STOP_MODEL)
    return STOP_MODEL


def seed_sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    return [s for s in re.split(r"(?<=[.!?»])\s+", " ".join(text.split())) if 20 < len(s) < 400]


def numbered(sentence: str, n: int) -> str:
    """The sentence with a number inside it, before its final punctuation: "(12)" after the full stop
    would be a segment of its own, and the sentences themselves would repeat."""
    return f"{sentence[:-1]} n{n}{sentence[-1]}"


def unique_sentences(limit_bytes: int, per_paragraph: int = 5):
    """Paragraphs of unique sentences until `limit_bytes` of UTF-8, as lines of a document."""
    sentences, size, n = seed_sentences(), 0, 0
    while size < limit_bytes:
        para = " ".join(numbered(sentences[(n + k) % len(sentences)], n + k) for k in range(per_paragraph)) + "\n\n"
        n += per_paragraph
        size += len(para.encode())
        yield para


def write_document(path: Path, megabytes: float) -> int:
    with path.open("w", encoding="utf-8") as fh:
        for para in unique_sentences(int(megabytes * 1_000_000)):
            fh.write(para)
    return path.stat().st_size


def peak_rss(args: list[str], env: dict) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, stderr) of one child process, from its own rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"tk failed ({proc.returncode}): {stderr[-2000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started, stderr


def tk_translate(inputs: list[Path], work: Path, model: Path, extra: list[str] = ()) -> list[str]:
    return [sys.executable, "-m", "translate_kit", "translate", *map(str, inputs), "--from", "fr", "--to", "en",
            "--model", str(model), "--backend", "torch", "--beams", "1", "--out", str(work / "out"),
            "--cache-dir", str(work / "cache"), "--quiet", *extra]


def measure(label: str, inputs: list[Path], work: Path, model: Path, input_bytes: int, extra: list[str] = ()) -> dict:
    env = {**os.environ, "TRANSFORMERS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    rss, seconds, _ = peak_rss(tk_translate(inputs, work, model, extra), env)
    outputs = sum(p.stat().st_size for p in (work / "out").iterdir())
    row = {"case": label, "input_mb": round(input_bytes / 1e6, 2), "output_mb": round(outputs / 1e6, 2),
           "peak_rss_mb": round(rss, 1), "seconds": round(seconds, 1)}
    print(f"| {label} | {row['input_mb']} | {row['output_mb']} | {row['peak_rss_mb']} | {row['seconds']} |", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[2.0, 20.0], help="document sizes in MB")
    parser.add_argument("--format", default="md,jsonl,txt", help="tk translate --format (default md,jsonl,txt)")
    args = parser.parse_args(argv)
    model = stop_model()
    fmt = ["--format", args.format]
    rows = []
    print("| case | input MB | outputs MB | peak RSS MB | seconds |\n| --- | --- | --- | --- | --- |", flush=True)
    with tempfile.TemporaryDirectory(prefix="tk-bench-memory-") as tmp:
        tiny = Path(tmp) / "baseline" / "one.txt"
        tiny.parent.mkdir()
        tiny.write_text("Le chat dort sur le canapé.\n", encoding="utf-8")
        rows.append(measure("one sentence (fixed cost)", [tiny], tiny.parent, model, tiny.stat().st_size, fmt))
        for mb in args.sizes:
            work = Path(tmp) / f"doc-{mb}"
            work.mkdir()
            doc = work / f"big-{mb}MB.txt"
            rows.append(measure(f"one {mb} MB document", [doc], work, model, write_document(doc, mb), fmt))
            doc.unlink()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"memory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "format": args.format,
                               "rows": rows}, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
