"""How well the consistency checks find errors: recall per kind of error, false alarms on clean pairs.

    python benchmarks/eval_checks.py [DIR]

DIR (default tests/data/checks/) holds clean.jsonl (good translations) and one file per kind of
corruption (number.jsonl, name.jsonl, untranslated.jsonl, partly.jsonl, dropped.jsonl,
repeat.jsonl; tests/data/checks/make_set.py writes them). Every file goes THROUGH `tk check
--json`, as a user would run it, so the figures include reading the files. Reported per kind:
the share of corrupted pairs whose verdict is `check` or worse (recall), and for the clean pairs
the share marked so (false alarms). Floors (issue 24): recall >= 0.9 for number, name,
untranslated and dropped; false alarms <= 0.05. Another folder in the same shape (pairs these
rules never saw) is measured the same way.

Writes JSON to benchmarks/results/checks-eval-<time>.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("number", "name", "untranslated", "partly", "dropped", "repeat")
FLOORS = {"number": 0.9, "name": 0.9, "untranslated": 0.9, "dropped": 0.9}
MAX_FALSE_ALARMS = 0.05


def tk_check(path: Path) -> dict:
    """The report of `tk check --json PATH` (this checkout's translate_kit)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "translate_kit", "check", "--json", str(path)],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if run.returncode not in (0, 1) or not run.stdout.strip():
        raise SystemExit(f"tk check failed on {path}: {run.stderr.strip()}")
    return json.loads(run.stdout)


def flagged(report: dict) -> tuple[int, int, Counter, dict]:
    """(pairs, pairs check-or-worse, codes seen, pairs and flagged per language)."""
    total = hit = 0
    codes: Counter = Counter()
    by_lang: dict[str, list[int]] = {}
    for doc in report["documents"]:
        counts = by_lang.setdefault(doc["src_lang"], [0, 0])
        for s in doc["segments"]:
            bad = s["verdict"] != "ok"
            total, hit = total + 1, hit + bad
            counts[0], counts[1] = counts[0] + 1, counts[1] + bad
            codes.update({c["code"] for c in s["checks"]})
    return total, hit, codes, by_lang


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "checks"
    rows = []
    for kind in ("clean",) + KINDS:
        path = folder / f"{kind}.jsonl"
        if not path.exists():
            continue
        start = time.perf_counter()
        total, hit, codes, by_lang = flagged(tk_check(path))
        rows.append({"kind": kind, "pairs": total, "flagged": hit, "rate": round(hit / max(total, 1), 4),
                     "by_language": {k: round(v[1] / max(v[0], 1), 4) for k, v in sorted(by_lang.items())},
                     "codes": dict(codes.most_common()), "seconds": round(time.perf_counter() - start, 2)})
    passed = all(r["rate"] >= FLOORS[r["kind"]] for r in rows if r["kind"] in FLOORS) and \
        all(r["rate"] <= MAX_FALSE_ALARMS for r in rows if r["kind"] == "clean")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"checks-eval-{stamp}.json"
    out.write_text(json.dumps({"date": stamp, "set": str(folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder),
                               "floors": FLOORS, "max_false_alarms": MAX_FALSE_ALARMS, "passed": passed,
                               "rows": rows}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("| kind | pairs | check or worse | rate | by language | floor |\n| --- | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        floor = f"<= {MAX_FALSE_ALARMS}" if r["kind"] == "clean" else (f">= {FLOORS[r['kind']]}" if r["kind"] in FLOORS else "")
        langs = ", ".join(f"{k} {v:.2f}" for k, v in r["by_language"].items())
        print(f"| {r['kind']}{' (false alarms)' if r['kind'] == 'clean' else ''} | {r['pairs']} | {r['flagged']} | {r['rate']:.3f} | {langs} | {floor} |")
    print(f"\n{'all floors met' if passed else 'A FLOOR IS NOT MET'}; written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
