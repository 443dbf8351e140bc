"""Cold vs warm `tk translate seeds/ --to en`, and peak memory on a large corpus vs the seeds.

    python benchmarks/bench_cache.py                  # seeds cold/warm, then a 20 MB corpus
    python benchmarks/bench_cache.py --corpus-mb 2    # a quicker memory check

Every figure is a whole `tk` process, started as a user would (process start, imports, model
loading, writing outputs included), timed from outside, with its peak RSS from wait4().
The model is the full-size random-weight opus-mt-fr-en (benchmarks/full_model.py), installed
into a temporary Hugging Face cache as Helsinki-NLP/opus-mt-fr-en, offline.

Runs, in order, each with a fresh output folder:
1. first: empty translation cache, no converted CTranslate2 model yet (conversion included);
2. cold: translation cache emptied again, the converted model kept (what every later new
   document costs);
3. warm (twice, the faster kept): the same command again, everything cached;
4. large corpus: about --corpus-mb MB of articles (copies of the seeds under new names), after
   the seeds are cached, so it measures what grows with the corpus (documents, segments,
   windows, cache lookups, writers) rather than days of translation; compared with the warm
   seeds run, which does the same kinds of work.

A random model never chooses to stop: its outputs run to tk's length bound (2x the source + 16
tokens, where a real OPUS-MT output is ~1.1x) and look degenerate, so tk retries each once: a
cold run as is does several times a real model's decoding work. So cold and warm are measured twice:
- as is: tk's own settings, the random model's inflated work;
- real-model work: the same command through a wrapper that sets tk's output bound to 1.1x the
  source and turns the degenerate-output retry off (REAL_WORK below), so the random model decodes
  about what a real one would. The cold/warm target is read on this pair.

Writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import full_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REPO_ID = "Helsinki-NLP/opus-mt-fr-en"
# `python -c REAL_WORK translate ...` runs tk with the decoding work of a real model (see above).
REAL_WORK = """
import runpy, sys
from translate_kit import options

checked = options.DecodeOptions.__post_init__

def real_model_work(self):
    checked(self)
    for name, value in (("max_length_ratio", 1.1), ("max_length_extra", 0), ("repetition_retry", False)):
        object.__setattr__(self, name, value)

options.DecodeOptions.__post_init__ = real_model_work
sys.argv = ["tk", *sys.argv[1:]]
runpy.run_module("translate_kit", run_name="__main__")
"""


def install_model(hf_home: Path) -> None:
    """The full-size random model as the hub's opus-mt-fr-en, in a Hugging Face cache layout."""
    from build_models import layout_hf_cache  # tests/fixtures, put on sys.path by full_model

    layout_hf_cache(hf_home, REPO_ID, full_model.model_dir())


def tk(args: list[str], env: dict, real_work: bool = False) -> dict:
    """Run one tk command; wall time (process start included) and peak RSS of that process."""
    if real_work:
        command = [sys.executable, "-c", REAL_WORK, *args]
    else:
        command = [shutil.which("tk") or sys.executable, *([] if shutil.which("tk") else ["-m", "translate_kit"]), *args]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:  # files: a pipe could fill up
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        stdout.seek(0), stderr.seek(0)
        stdout, stderr = stdout.read(), stderr.read()
    code = process.returncode = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"tk {' '.join(args)} failed ({code}): {stderr.decode(errors='replace')[-2000:]}")
    report = json.loads(stdout) if "--json" in args else None
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024), "report": report}


def translate(corpus: Path, work: Path, env: dict, label: str, real_work: bool = False) -> dict:
    out = work / f"out-{label}"
    shutil.rmtree(out, ignore_errors=True)
    result = tk(["translate", str(corpus), "--to", "en", "--out", str(out), "--quiet", "--json"], env, real_work)
    docs = result.pop("report")["documents"]
    result["documents"] = len(docs)
    result["segments"] = sum(d["segments"] for d in docs)
    result["translated"] = sum(d["translated"] for d in docs)
    result["cached"] = sum(d["cached"] for d in docs) + sum(d["duplicates"] for d in docs)
    shutil.rmtree(out, ignore_errors=True)
    print(f"{label}: {result}", file=sys.stderr)
    return result


def large_corpus(folder: Path, megabytes: float) -> Path:
    """About `megabytes` MB of .txt articles: the seeds, copied under new names."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = sorted(full_model.SEEDS.glob("*.txt"))
    size, n = 0, 0
    while size < megabytes * 1e6:
        source = seeds[n % len(seeds)]
        target = folder / f"{n:06d}_{source.stem.split('_')[-1]}.txt"
        shutil.copyfile(source, target)
        size += target.stat().st_size
        n += 1
    return folder


def real_model_tokens(env: dict) -> dict:
    """Source tokens of the seeds' segments, and what a real model would decode (~1.1x)."""
    from transformers import AutoTokenizer

    from translate_kit.documents import load_documents
    from translate_kit.segment import segment_document

    texts = {s.text for doc in load_documents([str(full_model.SEEDS)]) for s in segment_document(doc, "fr") if s.kind == "text"}
    tokenizer = AutoTokenizer.from_pretrained(full_model.model_dir())
    source = sum(len(ids) for ids in tokenizer(sorted(texts))["input_ids"])
    return {"unique_segments": len(texts), "source_tokens": source, "real_model_output_tokens": round(1.1 * source),
            "random_model_output_bound_tokens": 2 * source + 16 * len(texts)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus-mb", type=float, default=20.0, help="size of the large corpus (0: skip it)")
    parser.add_argument("--backend", default=None, help="TK_BACKEND for every run (default: tk's own)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="tk-bench-cache-"))
    try:
        install_model(work / "hf")
        env = {**os.environ, "HF_HOME": str(work / "hf"), "HF_HUB_CACHE": str(work / "hf" / "hub"),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TK_CACHE_DIR": str(work / "cache")}
        if args.backend:
            env["TK_BACKEND"] = args.backend
        runs = {"first": translate(full_model.SEEDS, work, env, "first")}
        (work / "cache" / "translations.sqlite3").unlink()
        for suffix in ("-wal", "-shm"):
            (work / "cache" / f"translations.sqlite3{suffix}").unlink(missing_ok=True)
        runs["cold"] = translate(full_model.SEEDS, work, env, "cold")
        warm = [translate(full_model.SEEDS, work, env, "warm") for _ in range(2)]
        runs["warm"] = min(warm, key=lambda r: r["seconds"])
        runs["cold, real-model work"] = translate(full_model.SEEDS, work, env, "cold-real", real_work=True)
        warm = [translate(full_model.SEEDS, work, env, "warm-real", real_work=True) for _ in range(2)]
        runs["warm, real-model work"] = min(warm, key=lambda r: r["seconds"])
        if args.corpus_mb:
            corpus = large_corpus(work / "large", args.corpus_mb)
            runs["large"] = translate(corpus, work, env, "large")
            runs["large"]["megabytes"] = round(sum(p.stat().st_size for p in corpus.iterdir()) / 1e6, 1)
        report = {
            "benchmark": "bench_cache", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": len(os.sched_getaffinity(0)), "load_average": [round(x, 2) for x in os.getloadavg()],
            "backend": args.backend or "default", "runs": runs, "work": real_model_tokens(env),
            "cold_over_warm": round(runs["cold"]["seconds"] / runs["warm"]["seconds"], 1),
            "cold_over_warm_real_work": round(runs["cold, real-model work"]["seconds"]
                                              / runs["warm, real-model work"]["seconds"], 1),
            "large_over_seeds_rss": round(runs["large"]["peak_rss_mb"] / runs["warm"]["peak_rss_mb"], 2) if "large" in runs else None,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = args.out or RESULTS / f"cache-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(table(report))
    print(f"written to {out}")
    return 0


def table(report: dict) -> str:
    lines = ["| run | seconds | peak RSS MB | documents | segments | translated | cached |", "|---|---|---|---|---|---|---|"]
    for name, r in report["runs"].items():
        label = f"{name} ({r['megabytes']} MB)" if "megabytes" in r else name
        lines.append(f"| {label} | {r['seconds']:.1f} | {r['peak_rss_mb']} | {r['documents']} | {r['segments']} "
                     f"| {r['translated']} | {r['cached']} |")
    lines.append(f"\ncold / warm: {report['cold_over_warm_real_work']}x with real-model work "
                 f"({report['cold_over_warm']}x as is); large corpus / seeds peak RSS: {report['large_over_seeds_rss']}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
