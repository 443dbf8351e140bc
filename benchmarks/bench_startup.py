"""How long a warm `tk` run takes, start to end: what a user waits for when every answer is cached.

    python benchmarks/bench_startup.py              # 15 interleaved rounds
    python benchmarks/bench_startup.py --rounds 5   # a quick look

A warm run loads no model (every sentence and summary is in the cache), so its time is Python's
start, tk's imports, reading and segmenting the document, the cache lookups and the output. The
issue's target: a fully cached `tk summarize 003` under 0.5 s, as warm `tk translate`.

Setup (not timed): the test models (tests/fixtures/build_models.py, the real architectures with
tiny random weights) laid out as a Hugging Face cache in a temporary HF_HOME, offline, and one
cold `tk translate 003` and `tk summarize 003` to fill a temporary cache. Then each round runs,
one after the other (the machine drifts, so methods alternate):

- python: `python -c pass`, the floor;
- help: `tk --help`;
- translate: `tk translate 003 --quiet` (writes md, jsonl, txt);
- summarize: `tk summarize 003 --quiet` (English and French, the bilingual summary printed).

Each command is the `tk` console script of this environment, with stdout and stderr to files
(no terminal: no progress bar). Python's bytecode cache is on, as on a user's machine (this
sandbox sets PYTHONDONTWRITEBYTECODE=1 for its shell; the script clears it, and the first
warm-up run writes the .pyc files).

Prints a Markdown table (median, 90th percentile, best) and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DOC = "003"


def tk_command() -> list[str]:
    script = Path(sys.executable).with_name("tk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "translate_kit"]


def build_hub(hf_home: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import build_models

    build_models.build_test_hub(hf_home, texts=build_models.load_corpus(SEEDS))


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    with open(cwd / "stdout", "wb") as out, open(cwd / "stderr", "wb") as err:
        start = time.perf_counter()
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd)
        seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {(cwd / 'stderr').read_text()[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    tk = tk_command()
    work = Path(tempfile.mkdtemp(prefix="tk-startup-"))
    try:
        build_hub(work / "hf")
        env = {**os.environ, "HF_HOME": str(work / "hf"), "HF_HUB_CACHE": str(work / "hf" / "hub"),
               "HF_HUB_OFFLINE": "1", "TK_CACHE_DIR": str(work / "cache"), "TK_CORPUS": str(SEEDS)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for key in [k for k in env if k.startswith("TK_") and k not in ("TK_CACHE_DIR", "TK_CORPUS")]:
            env.pop(key)  # the user's own settings would change what is measured
        methods = {
            "python": [sys.executable, "-c", "pass"],
            "help": [*tk, "--help"],
            "translate": [*tk, "translate", DOC, "--corpus", str(SEEDS), "--out", str(work / "out"), "--quiet"],
            "summarize": [*tk, "summarize", DOC, "--corpus", str(SEEDS), "--quiet"],
        }
        for name in ("translate", "summarize"):  # cold: fills the cache (and writes bytecode)
            timed(methods[name], env, work)
        for argv in methods.values():  # warm-up: the page cache holds every file of a warm run
            timed(argv, env, work)
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(args.rounds):
            for name, argv in methods.items():
                times[name].append(timed(argv, env, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def q90(values: list[float]) -> float:
        return statistics.quantiles(values, n=10)[-1] if len(values) >= 2 else values[0]

    results = [{"method": name, "median_s": round(statistics.median(v), 3), "p90_s": round(q90(v), 3),
                "best_s": round(min(v), 3), "runs_s": [round(x, 3) for x in v]} for name, v in times.items()]
    report = {
        "benchmark": "startup", "doc": DOC, "rounds": args.rounds,
        "command": tk, "machine": {"cpus": len(os.sched_getaffinity(0)), "processor": platform.processor() or platform.machine(),
                                   "load_average": [round(x, 2) for x in os.getloadavg()],
                                   "python": platform.python_version(), "typer": metadata.version("typer")},
        "results": results,
    }
    lines = ["| run | median s | p90 s | best s |", "|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['median_s']:.2f} | {r['p90_s']:.2f} | {r['best_s']:.2f} |" for r in results]
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "results" / f"startup-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
