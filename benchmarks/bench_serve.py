"""`tk serve` under concurrent clients: requests per second and p50/p95 latency for 1, 4 and 16
clients at once, on the full-size random opus-mt-fr-en (benchmarks/full_model.py).

    python benchmarks/bench_serve.py              # 2 interleaved rounds of 1, 4, 16 clients
    python benchmarks/bench_serve.py --rounds 3 --requests 64

The server is the real app on uvicorn on 127.0.0.1 and a free port (translate_kit.serve.testing),
with tk's defaults (CTranslate2 int8 on a CPU) and no translation cache, so every request costs
model work; each client sends POST /translate (JSON, one seed sentence, source fr, target en),
waits for the answer and sends the next. The sentences of one level are all different, so no two
requests can share a translation: what the clients gain is model calls shared by micro-batching.
Levels are interleaved (1, 4, 16, 1, 4, 16, ...), and each figure is the median over rounds,
since this shared machine's speed drifts by 2x within minutes. A fourth level, one client
sending lists of 16 sentences, is the ceiling: the most that batching 16 sentences into the same
model calls gains on this machine, with no concurrency at all. Last, with no server at all, the
model alone decodes 16 sentences one call each and then in one call (tk's engine, same layout).

A random model never chooses to stop, so decoding is bounded at 1.1x the source length in tokens
(a real OPUS-MT output's length) with the degenerate-output retry off, as bench_cache.py does.

Targets (issue 27, replacing issue 17's 5x): 16 concurrent clients get at least 85% of the
throughput of one client sending lists of 16 (the same sentences batched by the client), and their
p95 latency stays within 3x of one client's p95, at greedy (--beams 1) and at beam 4. Clients that
wait for each answer before sending the next see, by Little's law, a mean latency of 16 / the
throughput: at best they wait as long as one client sending all 16 at once, and the report gives
that client's p95 over one client's too (p95_lists_of_16_vs_1). The load
average is recorded before and after: on a shared machine, read the figures with it. Writes JSON
to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import full_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REPO_ID = "Helsinki-NLP/opus-mt-fr-en"
LEVELS = (1, 4, 16)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def post(url: str, text) -> float:
    body = json.dumps({"q": text, "source": "fr", "target": "en"}).encode()
    request = urllib.request.Request(url + "/translate", data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.loads(response.read())
    assert answer["translatedText"], answer
    return time.perf_counter() - started


BATCHES: list[int] = []  # sentences in each batch the model decoded (the engine's run(), patched)


def count_batches() -> None:
    from translate_kit.runtime.ct2 import Ct2Engine
    from translate_kit.runtime.engine import Engine

    for cls in (Engine, Ct2Engine):
        original = cls.__dict__["run"]

        def run(self, texts, *args, _original=original, **kwargs):
            for positions, outputs, scores in _original(self, texts, *args, **kwargs):
                BATCHES.append(len(positions))
                yield positions, outputs, scores

        cls.run = run


def level(url: str, clients: int, sentences: list[str], per_request: int = 1) -> dict:
    """`clients` threads share `sentences` (`per_request` a request); requests/s and latency percentiles."""
    requests = [sentences[i:i + per_request] for i in range(0, len(sentences), per_request)]
    share = [requests[i::clients] for i in range(clients)]

    def client(mine: list[list[str]]) -> list[float]:
        return [post(url, texts if per_request > 1 else texts[0]) for texts in mine]

    BATCHES.clear()
    before = health(url)
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for result in pool.map(client, share) for t in result]
    seconds = time.perf_counter() - started
    after = health(url)
    groups = after["groups"] - before["groups"]
    return {"clients": clients, "sentences_per_request": per_request, "requests": len(latencies),
            "seconds": round(seconds, 2), "requests_per_s": round(len(latencies) / seconds, 3),
            "sentences_per_s": round(len(sentences) / seconds, 3),
            "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
            "requests_per_group": round((after["grouped_requests"] - before["grouped_requests"]) / max(groups, 1), 2),
            "model_batches": len(BATCHES), "sentences_per_batch": round(statistics.mean(BATCHES), 2) if BATCHES else 0}


def model_alone(settings, sentences: list[str], rounds: int) -> dict:
    """The model with no server: the same 16 sentences decoded one call each, then as one call
    (engine.run, tk's CPU layout), interleaved: what batching itself can gain on this machine."""
    from translate_kit.translators import Translators, open_cache

    engine = Translators(settings.decode, settings.run, open_cache(settings.run)).get("fr", "en").engine
    list(engine.run(sentences[:2]))  # loaded and warm
    one, batched = [], []
    for round_ in range(rounds):
        picked = sentences[round_ * 16:(round_ + 1) * 16]
        started = time.perf_counter()
        for text in picked:
            list(engine.run([text]))
        one.append(len(picked) / (time.perf_counter() - started))
        started = time.perf_counter()
        list(engine.run(picked))
        batched.append(len(picked) / (time.perf_counter() - started))
    return {"one_at_a_time_sentences_per_s": round(statistics.median(one), 3),
            "batch_of_16_sentences_per_s": round(statistics.median(batched), 3),
            "ratio": round(statistics.median(batched) / statistics.median(one), 2)}


def health(url: str) -> dict:
    with urllib.request.urlopen(url + "/stats", timeout=60) as response:
        return json.loads(response.read())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=32, help="sentences per level and round (all distinct)")
    parser.add_argument("--beams", type=int, default=None, help="beam size (default: the model's own, 4)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: benchmarks/results/serve-<time>.json)")
    args = parser.parse_args(argv)

    from build_models import layout_hf_cache  # tests/fixtures, put on sys.path by full_model

    work = Path(tempfile.mkdtemp(prefix="tk-bench-serve-"))
    layout_hf_cache(work / "hf", REPO_ID, full_model.model_dir())
    os.environ.update(HF_HOME=str(work / "hf"), HF_HUB_CACHE=str(work / "hf" / "hub"), HF_HUB_OFFLINE="1",
                      TRANSFORMERS_OFFLINE="1", TK_CACHE_DIR=str(work / "cache"))
    from translate_kit.options import DecodeOptions, RunOptions
    from translate_kit.serve.app import Settings
    from translate_kit.serve.testing import running

    load_before = os.getloadavg()
    sentences = full_model.seed_sentences(1000)
    if len(sentences) < args.requests:
        raise SystemExit(f"only {len(sentences)} distinct seed sentences; ask for fewer --requests")
    decode = DecodeOptions(beams=args.beams, max_length_ratio=1.1, max_length_extra=0, repetition_retry=False)
    settings = Settings(decode=decode, run=RunOptions.from_env(use_cache=False), queue=256)
    runs: list[dict] = []
    count_batches()
    with running(settings) as url:
        post(url, sentences[-1])  # loads (and converts) the model: not part of any level
        for round_ in range(args.rounds):
            for name in (*LEVELS, "list"):
                offset = (round_ * 4 + (LEVELS + ("list",)).index(name)) * 7  # a different slice each time
                picked = [sentences[(offset + i) % len(sentences)] for i in range(args.requests)]
                result = level(url, 1, picked, per_request=16) if name == "list" else level(url, name, picked)
                result["round"] = round_
                runs.append(result)
                print(json.dumps(result), file=sys.stderr)
    alone = model_alone(settings, sentences, args.rounds)
    print(json.dumps({"model_alone": alone}), file=sys.stderr)
    summary = {}
    keys = ("requests_per_s", "sentences_per_s", "p50_s", "p95_s", "requests_per_group", "sentences_per_batch")
    for name in (*LEVELS, "list"):
        mine = [r for r in runs if r["clients"] == name or (name == "list" and r["sentences_per_request"] == 16)]
        mine = [r for r in mine if name == "list" or r["sentences_per_request"] == 1]
        summary[str(name)] = {k: round(statistics.median(r[k] for r in mine), 3) for k in keys}
    one, many = summary["1"], summary["16"]
    report = {
        "what": "tk serve, POST /translate of one seed sentence per request, full-size random opus-mt-fr-en, no cache",
        "settings": {"backend": "auto (ct2 int8 on CPU)", "beams": args.beams or "model's own (4)", "batch_wait_s": settings.batch_wait,
                     "max_length_ratio": 1.1, "requests_per_level": args.requests, "rounds": args.rounds},
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "levels": summary,
        "runs": runs,
        "throughput_16_vs_1": round(many["requests_per_s"] / one["requests_per_s"], 2),
        "throughput_16_vs_lists_of_16": round(many["sentences_per_s"] / summary["list"]["sentences_per_s"], 2),
        "ceiling_list_of_16_vs_1": round(summary["list"]["sentences_per_s"] / one["sentences_per_s"], 2),
        "p95_16_vs_1": round(many["p95_s"] / one["p95_s"], 2),
        "model_alone": alone,
        # Little's law: 16 clients that each wait for their answer see a mean latency of 16 / the
        # throughput, so at best they wait as one client sending all 16 at once does (same run)
        "p95_lists_of_16_vs_1": round(summary["list"]["p95_s"] / one["p95_s"], 2),
    }
    report["targets_met"] = report["throughput_16_vs_lists_of_16"] >= 0.85 and report["p95_16_vs_1"] <= 3
    path = args.out or RESULTS / f"serve-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    print(f"written to {path}")
    return 0


def table(report: dict) -> str:
    lines = ["| clients | sentences/s | p50 | p95 | requests per group | sentences per model batch |",
             "|---|---|---|---|---|---|"]
    for clients, row in report["levels"].items():
        label = "1, lists of 16" if clients == "list" else clients
        lines.append(f"| {label} | {row['sentences_per_s']} | {row['p50_s']} s | {row['p95_s']} s | "
                     f"{row.get('requests_per_group', '-')} | {row['sentences_per_batch']} |")
    lines.append(f"16 clients vs one client's lists of 16: {report['throughput_16_vs_lists_of_16']:.0%} of the throughput "
                 f"(target 85%); load average before {report['machine']['load_average_before'][0]:.1f}, "
                 f"after {report['machine']['load_average_after'][0]:.1f} on {report['machine']['cpus']} CPUs")
    lines.append(f"16 vs 1 client: {report['throughput_16_vs_1']}x throughput, p95 {report['p95_16_vs_1']}x; "
                 f"one client sending lists of 16: {report['ceiling_list_of_16_vs_1']}x; the model alone, a batch "
                 f"of 16 vs one at a time: {report['model_alone']['ratio']}x")
    lines.append(f"one client sending lists of 16 waits {report['p95_lists_of_16_vs_1']}x one client's p95 (16 waiting "
                 f"clients can do no better: Little's law)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
