"""`--engine ray` (and `--engine ray --shard`) against `--engine local` on one machine, and where
the driver spends its time.

    python benchmarks/bench_ray.py                       # 8 copies of the seeds, 2 rounds
    python benchmarks/bench_ray.py --copies 2 --rounds 1 # a quick look

Every arm translates the same corpus with the same full-size random-weight model (the exact
opus-mt-fr-en architecture, benchmarks/full_model.py) through tk's whole pipeline, as `tk
translate` runs it (reading, segmenting, cache, batches, model, cache store, and writing md, jsonl
and txt outputs), each run with an empty cache. The corpus is the seed articles copied `--copies` times, each copy's
sentences made unique (a marker before each sentence end), so that nothing is deduplicated away.
Decoding: greedy, output bounded at 1.1x the source tokens (a random model never stops by itself,
so every sentence decodes to that bound), no degenerate-output retry (every output of a random
model looks degenerate).

- local: `--engine local`, tk's default CPU layout on 2 cores (CTranslate2 int8, 2 workers x 1 thread).
- ray: `--engine ray --workers 2 --threads 1`: two Ray actors, CTranslate2 int8, 1 thread each,
  on a local Ray started once by this script (a cluster is up before a run; its start is timed
  apart, as "ray.init").
- shard: the same with `--shard`: whole documents to the two actors, each running the local
  pipeline against its own cache (sharded.py); the driver merges and writes.

The arms alternate (local, ray, shard, local, ...) because the machine is shared and its speed
drifts. For each run: wall time, the steady rate (segments per second from the first finished
batch to the last: without model loading and actor start, which are timed apart as "start"; for
shard, from the first finished shard), and the driver process's CPU time per segment
(time.process_time: every thread of the driver, Ray's own included; the model's too for local).

Then the driver's own costs per segment, each measured alone on the same corpus: reading the
files, segmenting, counting tokens (the driver plans the batches), the cache lookup and store,
serialising a batch for Ray (pickle, as Ray does for small arguments), and one Ray round trip
per batch (an actor that echoes its batch). For shard, the same for what its driver does, on the
shards of the last shard run: listing the inputs, reading their bytes, serialising a shard and
its result, merging the result's cache rows, writing its files. docs/benchmarks.md#past-one-machine-ray-and-sharded
projects from these.

Prints a Markdown table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
import full_model  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
ARMS = ("local", "ray", "shard")
SENTENCE_END = re.compile(r"([.!?…])(?=\s|$)")


def make_corpus(folder: Path, copies: int) -> Path:
    """The seeds, `copies` times, each copy's sentences unique (no deduplication across copies)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(copies):
        for seed in sorted(full_model.SEEDS.glob("*.txt")):
            text = seed.read_text(encoding="utf-8")
            text = SENTENCE_END.sub(lambda m: f" n{k}{m.group(1)}", text) if k else text
            (folder / f"c{k}_{seed.name}").write_text(text, encoding="utf-8")
    return folder


def options(arm: str, cache_dir: Path):
    from translate_kit.options import DecodeOptions, RunOptions

    decode = DecodeOptions(beams=1, max_length_ratio=1.1, max_length_extra=0, repetition_retry=False, backend="ct2")
    extra = {"engine": "ray", "workers": 2, "threads": 1, "shard": arm == "shard"} if arm != "local" else {}
    return decode, RunOptions(device="cpu", cache_dir=cache_dir, **extra)


class FirstBatch:
    """Times the first finished batch of a run (ModelTask.generated), to tell start from steady work."""

    def __init__(self):
        from translate_kit.translators import ModelTask

        self.at: float | None = None
        original = ModelTask.generated

        def timed(task, texts, failed, **overrides):
            for item in original(task, texts, failed, **overrides):
                if self.at is None:
                    self.at = time.perf_counter()
                yield item

        ModelTask.generated = timed


class KeptShards:
    """Keeps the results of the last shard run (sharded.run_shards), for shard_costs()."""

    def __init__(self):
        from translate_kit import sharded

        self.results: list = []
        original = sharded.run_shards

        def kept(actors, todo):
            self.results = []
            for result in original(actors, todo):
                self.results.append(pickle.loads(pickle.dumps(result)))  # before the driver writes (and drops) its files
                yield result

        sharded.run_shards = kept


def one_run(arm: str, corpus: Path, model: Path, first: FirstBatch) -> dict:
    from translate_kit.documents import load_documents
    from translate_kit.translate import Progress, translate_parts
    from translate_kit.writers import get_writers, write_documents

    cache_dir = Path(tempfile.mkdtemp(prefix=f"bench-ray-{arm}-"))
    shutil.copytree(full_model.MODELS / "ct2", cache_dir / "ct2", dirs_exist_ok=True)  # converted once
    out = cache_dir / "out"
    decode, run = options(arm, cache_dir)
    done: list[tuple[float, int]] = []
    progress = Progress(advance=lambda n: done.append((time.perf_counter(), n)))
    writers = get_writers("md,jsonl,txt")
    first.at = None
    started, cpu = time.perf_counter(), time.process_time()
    if arm == "shard":
        from translate_kit.sharded import translate_sharded

        results = list(translate_sharded([str(corpus)], "en", out, writers, run=run, src="fr", decode=decode,
                                         model=str(model), corpus=corpus, progress=progress))
        first.at = next((t for t, n in done if n), None)
    else:
        parts = translate_parts(load_documents([str(corpus)], corpus), "en", src="fr", decode=decode, run=run,
                                model=str(model), progress=progress)
        results = list(write_documents(parts, writers, out))
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    shutil.rmtree(cache_dir, ignore_errors=True)
    assert not any(r.error for r in results), [r.error for r in results if r.error]
    counts = [r.to_dict() for r in results]
    translated, segments = sum(c["translated"] for c in counts), sum(c["segments"] for c in counts)
    after_first = sum(n for t, n in done if first.at is not None and t > first.at)
    return {"engine": arm, "seconds": round(ended - started, 2), "segments": segments,
            "translated": translated, "start_s": round(first.at - started, 2),
            "steady_seg_s": round(after_first / (ended - first.at), 2) if ended > first.at and after_first else None,
            "seg_s": round(translated / (ended - started), 2),
            "driver_cpu_us_per_segment": round(cpu / segments * 1e6, 1)}


def driver_costs(corpus: Path, model: Path, ray) -> dict:
    """Seconds per segment for each thing the driver does (each alone, on the same corpus)."""
    from translate_kit import models
    from translate_kit.cache import Cache
    from translate_kit.documents import load_documents
    from translate_kit.runtime.engine import load_without_weights, plan_batches
    from translate_kit.segment import iter_segments

    t = time.perf_counter()
    docs = list(load_documents([str(corpus)], corpus))
    reading = time.perf_counter() - t
    t = time.perf_counter()
    segments = [s for d in docs for s in iter_segments(d, "fr")]
    segmenting = time.perf_counter() - t
    texts = list(dict.fromkeys(s.text for s in segments if s.kind == "text"))
    n = len(texts)

    ref = models.ModelRef(str(model), "local", local=True)
    planner = load_without_weights(ref, model, "cpu")
    t = time.perf_counter()
    lengths = [len(x) for x in planner.tokenizer(texts, add_special_tokens=True)["input_ids"]]
    plan = plan_batches(lengths, 2048)
    counting = time.perf_counter() - t

    folder = Path(tempfile.mkdtemp(prefix="bench-ray-cache-"))
    cache = Cache(folder)
    t = time.perf_counter()
    for start in range(0, n, 2048):
        cache.get_many("sig", texts[start:start + 2048])
    lookup = time.perf_counter() - t
    t = time.perf_counter()
    for batch in plan:
        cache.put_many("sig", "translate", "bench", [(texts[i], texts[i], "model", None) for i in batch])
    store = time.perf_counter() - t
    cache.close()
    shutil.rmtree(folder, ignore_errors=True)

    t = time.perf_counter()
    for batch in plan:
        pickle.loads(pickle.dumps(([texts[i] for i in batch], {}), protocol=5))
        pickle.loads(pickle.dumps(([texts[i] for i in batch], [0.0] * len(batch), ""), protocol=5))  # outputs, scores back
    serialising = time.perf_counter() - t

    @ray.remote(num_cpus=0)
    class Echo:
        def translate(self, texts, overrides):
            return list(texts), [0.0] * len(texts), ""  # outputs, scores, error: as BatchWorker

    echo = Echo.remote()
    ray.get(echo.translate.remote(["warm up"], {}))
    t = time.perf_counter()
    refs = [echo.translate.remote([texts[i] for i in batch], {}) for batch in plan]
    for ref in refs:
        ray.get(ref)
    round_trips = time.perf_counter() - t
    per = lambda seconds: round(seconds / n * 1e6, 1)  # noqa: E731  microseconds per segment
    return {"unique_segments": n, "batches": len(plan), "us_per_segment": {
        "reading": per(reading), "segmenting": per(segmenting), "counting tokens": per(counting),
        "cache lookup": per(lookup), "cache store": per(store), "serialising": per(serialising),
        "ray round trip": per(round_trips)}}


def shard_costs(corpus: Path, kept: KeptShards, segments: int) -> dict:
    """Seconds per segment for what the sharded driver does (sharded.py), each step alone,
    on the shards and results of the last shard run."""
    from translate_kit.cache import Cache
    from translate_kit import sharded

    t = time.perf_counter()
    inputs = sharded.list_inputs([str(corpus)], corpus, corpus / "out", False)
    listing = time.perf_counter() - t
    t = time.perf_counter()
    loaded = [sharded.loaded(shard) for shard in sharded.shards(inputs, 2)]
    reading = time.perf_counter() - t
    t = time.perf_counter()
    for shard in loaded:
        pickle.loads(pickle.dumps(shard, protocol=5))
    for result in kept.results:
        pickle.loads(pickle.dumps(result, protocol=5))
    serialising = time.perf_counter() - t
    folder = Path(tempfile.mkdtemp(prefix="bench-ray-shard-"))
    cache = Cache(folder)
    t = time.perf_counter()
    for result in kept.results:
        sharded.merge_rows(cache, result)
    merging = time.perf_counter() - t
    t = time.perf_counter()
    for result in kept.results:
        sharded.merge_rows(cache, result)  # a re-run: every row is there already
    merging_again = time.perf_counter() - t
    cache.close()
    t = time.perf_counter()
    for result in kept.results:
        sharded.write_files(result.documents, folder / "out")
    writing = time.perf_counter() - t
    shutil.rmtree(folder, ignore_errors=True)
    per = lambda seconds: round(seconds / segments * 1e6, 1)  # noqa: E731  microseconds per segment
    return {"shards": len(kept.results), "segments": segments, "us_per_segment": {
        "listing": per(listing), "reading bytes": per(reading), "serialising shards and results": per(serialising),
        "merging cache rows": per(merging), "merging rows already there": per(merging_again),
        "writing files": per(writing)}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=8, help="copies of the seed articles in the corpus")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (local, ray, shard); the median is reported")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import logging

    import ray

    model = full_model.model_dir()
    scratch = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    corpus = make_corpus(scratch / "corpus", args.copies)
    _convert_once(model)

    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray_init = round(time.perf_counter() - t, 2)
    first, kept = FirstBatch(), KeptShards()
    runs = []
    for r in range(args.rounds):
        for arm in ARMS:
            runs.append(one_run(arm, corpus, model, first))
            print(json.dumps(runs[-1]), flush=True)
    costs = driver_costs(corpus, model, ray)
    costs_shard = shard_costs(corpus, kept, runs[-1]["segments"])
    ray.shutdown()
    shutil.rmtree(scratch, ignore_errors=True)

    keys = ("seconds", "seg_s", "steady_seg_s", "start_s", "driver_cpu_us_per_segment")
    summary = {arm: {k: statistics.median(x[k] for x in runs if x["engine"] == arm) for k in keys} for arm in ARMS}
    ratio = {arm: {k: round(summary[arm][k] / summary["local"][k], 3) for k in ("seg_s", "steady_seg_s")}
             for arm in ARMS if arm != "local"}
    result = {"benchmark": "ray", "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "copies": args.copies, "ray_init_s": ray_init, "runs": runs, "median": summary,
              "over_local": ratio, "driver": costs, "driver_shard": costs_shard}
    print("\n| arm | wall s | seg/s (whole run) | seg/s (steady) | start s | driver CPU us/seg |\n|---|---|---|---|---|---|")
    for arm, m in summary.items():
        print(f"| {arm} | {m['seconds']} | {m['seg_s']} | {m['steady_seg_s']} | {m['start_s']} | "
              f"{m['driver_cpu_us_per_segment']} |")
    for arm, r in ratio.items():
        print(f"\n{arm} / local: whole run {r['seg_s']}, steady {r['steady_seg_s']}; ray.init {ray_init} s")
    print("\nray driver, microseconds per segment:", json.dumps(costs["us_per_segment"]))
    print("shard driver, microseconds per segment:", json.dumps(costs_shard["us_per_segment"]))
    out = args.out or RESULTS / f"ray-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


def _convert_once(model: Path) -> None:
    """The CTranslate2 conversion, done once into benchmarks/.models/ct2 (each run copies it)."""
    from translate_kit import models
    from translate_kit.runtime import ct2
    from translate_kit.options import RunOptions

    ct2.load(models.ModelRef(str(model), "local", local=True), "cpu", "int8", RunOptions(cache_dir=full_model.MODELS))


if __name__ == "__main__":
    sys.exit(main())
