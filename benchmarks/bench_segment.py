"""Segmentation time on hostile input: is every step linear in its input?

    python benchmarks/bench_segment.py               # 64 KB .. 4 MB, and the previous implementation
    python benchmarks/bench_segment.py --max-mb 1    # quicker

Each input is one unit repeated to the size (no spaces, only blank lines, only punctuation,
alternating quotes, abbreviations, ordinals), plus a sentence at the end, segmented as a whole
document (`segment_document`) and as a file read block by block (`stream` rows: 64 KB pieces,
as a StreamedDocument gives them). Linear means the seconds per MB stay flat as the size grows.

The implementation before issue 13/14 (`--before`, default: commit 7d116b0, read from git) runs
interleaved with the current one at small sizes only: it is quadratic, so at 1 MB it would take
hours. Best of --rounds rounds per cell. Writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"

from translate_kit import segment  # noqa: E402
from translate_kit.documents import Document, parse_meta  # noqa: E402

KB = 1 << 10
UNITS = {
    "no spaces": "a",
    "address start, no spaces": "x@",
    "only blank lines": "\n",
    "blank lines of spaces, CRLF": " \t\r\n",
    "only punctuation": ".!?…",
    "alternating quotes": "«»",
    "quotes, spaced": "« » „ “ \" ",
    "abbreviations (de)": "z. B. M. ",
    "ordinals (de)": "die 2. ",
    "news sentences (de)": "Am 3. Oktober sprach er über 12,5 Mrd. Euro. „Wir bleiben. Sicher“, sagte er. ",
}


class Pieces(Document):
    """A document whose text comes in 64 KB pieces, as a file read block by block."""

    def pieces(self):
        return (self.text[i : i + 64 * KB] for i in range(0, len(self.text), 64 * KB))


def load_before(commit: str) -> types.ModuleType | None:
    """translate_kit/segment.py as it was at `commit`, importable beside the current one."""
    try:
        source = subprocess.run(["git", "show", f"{commit}:translate_kit/segment.py"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    module = types.ModuleType("translate_kit._segment_before")
    module.__package__ = "translate_kit"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:segment.py", "exec"), module.__dict__)
    return module


def timed(run, text: str, lang: str, streamed: bool) -> float:
    doc = (Pieces if streamed else Document)(id="x", text=text, meta=parse_meta(text))
    started = time.perf_counter()
    segments = run(doc, lang)
    seconds = time.perf_counter() - started
    assert "".join(s.source + s.space_after for s in segments) == text
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mb", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", default="7d116b0", help="git commit of the implementation to compare with")
    parser.add_argument("--before-max-kb", type=int, default=8, help="largest input given to the old implementation")
    args = parser.parse_args()
    before = load_before(args.before)
    sizes = [s for s in (64 * KB, 256 * KB, 1024 * KB, 4096 * KB) if s <= args.max_mb * 1024 * KB]
    old_sizes = [s for s in (4 * KB, 8 * KB, 16 * KB, 32 * KB) if s <= args.before_max_kb * KB]
    methods = [("current", segment.segment_document)]
    if before is not None:
        methods.append((f"before ({args.before})", lambda doc, lang: before.segment_document(doc, lang)))
    rows = []
    for name, unit in UNITS.items():
        for streamed in (False, True):
            for size in sorted(set(sizes + old_sizes)):
                text = unit * (size // len(unit)) + "Eine Frage."
                cell = {}
                for _ in range(args.rounds):  # methods interleaved, best of the rounds
                    for method, run in methods:
                        if method != "current" and size not in old_sizes:
                            continue  # quadratic: hours at a megabyte
                        seconds = timed(run, text, "de", streamed)
                        cell[method] = min(cell.get(method, seconds), seconds)
                for method, seconds in cell.items():
                    row = {"input": name, "streamed": streamed, "chars": len(text), "method": method,
                           "seconds": round(seconds, 4), "seconds_per_mb": round(seconds / (len(text) / (1024 * KB)), 3)}
                    rows.append(row)
                    print(f"{name:28} {'stream' if streamed else 'whole ':6} {len(text) // KB:>6} KB  {method:18} "
                          f"{seconds:8.3f} s  {row['seconds_per_mb']:9.3f} s/MB", flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"segment-{stamp}.json"
    report = {"date": stamp, "python": platform.python_version(), "machine": platform.machine(),
              "cpus": __import__("os").cpu_count(), "rounds": args.rounds, "rows": rows}
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
