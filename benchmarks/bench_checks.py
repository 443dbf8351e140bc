"""Per-sentence cost of the consistency checks (translate_kit/checks/), which run on every
translated sentence: they must stay negligible next to the model (about 5-50 sentences a second on
a CPU, benchmarks/results/translate-*.json) and next to a cached re-run.

    python benchmarks/bench_checks.py

Two sets, each timed ROUNDS times (the median is kept), after one warm-up pass that loads the
language detector:
- seeds: every sentence of seeds/*.txt (tk's own segmentation), each paired with an English
  target of the evaluation set cycled by position: a cost measure (all rules run in full), not a
  quality one, since the seeds have no translations but a few references;
- eval: the evaluation set's clean pairs (tests/data/checks/clean.jsonl), real translations.

Writes JSON to benchmarks/results/checks-speed-<time>.json and prints microseconds per sentence
(mean, median, p95) for the whole verdict and for each rule alone.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 5

from translate_kit import quality  # noqa: E402
from translate_kit.checks import assess  # noqa: E402
from translate_kit.checks.verdict import RULES  # noqa: E402


def eval_pairs() -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in (ROOT / "tests/data/checks/clean.jsonl").read_text(encoding="utf-8").splitlines()]
    return [(r["source"], r["target"], r["src_lang"]) for r in rows]


def seed_pairs(targets: list[str]) -> list[tuple[str, str, str]]:
    from translate_kit.documents import load_documents
    from translate_kit.segment import segment_document

    pairs = []
    for doc in load_documents([str(p) for p in sorted((ROOT / "seeds").glob("*.txt"))]):
        for s in segment_document(doc, "fr"):
            if s.kind == "text":
                pairs.append((s.text, targets[len(pairs) % len(targets)], "fr"))
    return pairs


def timed(fn, pairs) -> dict:
    """Microseconds per pair: the median round's mean, and the median and p95 of single calls."""
    rounds, calls = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for source, target, src in pairs:
            t = time.perf_counter()
            fn(source, target, src, "en")
            calls.append(time.perf_counter() - t)
        rounds.append((time.perf_counter() - start) / len(pairs))
    calls.sort()
    return {"mean_us": round(statistics.median(rounds) * 1e6, 1), "median_us": round(calls[len(calls) // 2] * 1e6, 1),
            "p95_us": round(calls[int(len(calls) * 0.95)] * 1e6, 1)}


def main() -> None:
    evals = eval_pairs()
    sets = {"seeds": seed_pairs([t for _, t, _ in evals]), "eval": evals}
    for source, target, src in evals[:5]:
        assess(source, target, src, "en")  # warm-up: loads py3langid's model once
    rules = {"verdict (all rules)": assess, "quality.problem": lambda s, t, a, b: quality.problem(s, t)}
    rules.update({rule.__name__: rule for rule in RULES})
    rows = []
    for name, pairs in sets.items():
        chars = statistics.mean(len(s) for s, _, _ in pairs)
        for label, fn in rules.items():
            rows.append({"set": name, "pairs": len(pairs), "mean_source_chars": round(chars), "what": label, **timed(fn, pairs)})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"checks-speed-{stamp}.json"
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    out.write_text(json.dumps({"benchmark": "bench_checks", "date": stamp, "machine": machine, "rounds": ROUNDS,
                               "rows": rows}, indent=1) + "\n", encoding="utf-8")
    print("| set | pairs | what | mean µs | median µs | p95 µs |\n| --- | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['set']} | {r['pairs']} | {r['what']} | {r['mean_us']} | {r['median_us']} | {r['p95_us']} |")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
