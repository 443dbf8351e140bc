"""Load: many short documents, or a few long ones, complete; peak memory (RSS) and time for each.

    python benchmarks/bench_load.py                        # 2 000 short, 20 long (and halves, to see growth)
    python benchmarks/bench_load.py --short 200 --long 4   # a quicker look

Corpora (unique sentences from the seeds, numbered so that deduplication hides no work):
- short: N documents of 3 sentences each (~0.4 KB), all in one folder;
- long: N documents of 1 000 sentences each (~130 KB).
Each corpus is translated by one fresh `tk translate FOLDER` process with md, jsonl and txt
outputs and a fresh cache; peak RSS is that process's own, from os.wait4. Each corpus is also run
at half its size: peak RSS must not grow with the number of documents (translate.py works in
windows of WINDOW_SEGMENTS segments and the CLI writes and drops each document as its window
ends), only with the size of the largest window.

The model is bench_memory's tiny stop-at-once Marian (see there why that measures memory fairly).
Prints a Markdown table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_memory import RESULTS, ROOT, measure, seed_sentences, stop_model  # noqa: E402


def write_corpus(folder: Path, documents: int, sentences_each: int) -> int:
    """`documents` files of `sentences_each` unique sentences, paragraphs of 5; returns total bytes."""
    folder.mkdir(parents=True)
    pool, n, size = seed_sentences(), 0, 0
    for d in range(documents):
        paras = []
        for start in range(0, sentences_each, 5):
            count = min(5, sentences_each - start)
            paras.append(" ".join(f"{pool[(n + k) % len(pool)]} ({n + k})" for k in range(count)))
            n += count
        path = folder / f"doc-{d:05d}.txt"
        path.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
        size += path.stat().st_size
    return size


def run(label: str, documents: int, sentences_each: int, tmp: Path, model: Path) -> dict:
    work = tmp / label.replace(" ", "-")
    work.mkdir()
    corpus = work / "corpus"
    size = write_corpus(corpus, documents, sentences_each)
    row = measure(label, [corpus], work, model, size)
    written = len(list((work / "out").glob("*.jsonl")))
    assert written == documents, f"{label}: {written} of {documents} documents written"
    row["documents"] = documents
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", type=int, default=2000, help="number of short documents")
    parser.add_argument("--long", type=int, default=20, help="number of long documents")
    args = parser.parse_args(argv)
    model = stop_model()
    rows = []
    print("| case | input MB | outputs MB | peak RSS MB | seconds |\n| --- | --- | --- | --- | --- |", flush=True)
    with tempfile.TemporaryDirectory(prefix="tk-bench-load-") as tmp:
        for n in (args.short // 2, args.short):
            rows.append(run(f"{n} short documents", n, 3, Path(tmp), model))
        for n in (args.long // 2, args.long):
            rows.append(run(f"{n} long documents", n, 1000, Path(tmp), model))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
