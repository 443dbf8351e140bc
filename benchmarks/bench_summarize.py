"""Summarizer speed on a CPU: the usual transformers loop, tk `--backend torch`, tk's default.

    python benchmarks/bench_summarize.py --threads 1       # seed 003, 1 round (~25 min on a busy 2-core machine)
    python benchmarks/bench_summarize.py --rounds 3 --length 142   # more rounds, distilbart's max_length

Every method summarizes the same text with the same full-size random-weight model (the exact
sshleifer/distilbart-cnn-12-6 architecture, 306 M parameters, benchmarks/full_model.py) and does
the same work: the text of seed article 003 (a random model reads French as well as English; only
token counts matter) is packed into Windows of up to the model's 1 024 tokens by tk's own
summarize.pack (map step), then one Window of stand-ins for their summaries is summarized (reduce
step; see one_summary), and every summary's length is forced to `--length` tokens (min length =
max length), so every method reads and decodes exactly as many tokens. Beams (4), length penalty
and no-repeat 3-grams are the model's own.

- naive: transformers fp32, one Window per model.generate(): what most scripts do.
- tk-torch: tk's summarizer service (translators.Summarizer) on `--backend torch`, fp32:
  Windows batched under tk's token budget.
- tk-default: the same service with tk's defaults on a CPU (`--backend auto`: CTranslate2 int8,
  one worker per core, converted once into benchmarks/.models/).

The methods run in ONE process, interleaved (A, B, C, A, B, C, ...), because the machines are
shared and their speed drifts: ratios measured side by side are what counts. Each method also runs
alone in a fresh process (load, then the first Window) for its load time and peak RSS; end to
end = that load time + the interleaved summary time.
No cache (tk's NoCache): every round does the full work.

Prints a Markdown table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import full_model  # noqa: E402
from bench_translate import machine, peak_rss_mb  # noqa: E402  (one definition for every benchmark)

RESULTS = Path(__file__).resolve().parent / "results"
SEED = full_model.SEEDS / "003_9c30f3eff2624f5c.txt"
METHODS = ("naive", "tk-torch", "tk-default")  # and tk-ct2 (--backend ct2: gpu_check.sh, where auto is torch)


def paragraphs() -> list[str]:
    from translate_kit.documents import read_document

    doc = read_document(SEED)
    return [p.strip() for p in doc.text.split("\n\n") if p.strip() and not p.strip().startswith("date ")]


# --- the methods ---------------------------------------------------------------------------


class Naive:
    """transformers fp32, one Window per generate(); tk's map-reduce calls it like a Summarizer."""

    name = "naive"
    label = "naive"

    def load(self, folder: Path, args) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        if args.threads:
            torch.set_num_threads(args.threads)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
        self.window = self.model.config.max_position_embeddings

    def count(self, text: str) -> int:
        return len(self.tokenizer(text)["input_ids"])

    def summarize(self, windows, bounds, advance=lambda n: None) -> list[str]:
        import torch

        out = []
        for text in windows:
            batch = self.tokenizer([text], return_tensors="pt")
            with torch.inference_mode():
                ids = self.model.generate(**batch, min_length=bounds[0], max_length=bounds[1])
            out.append(self.tokenizer.batch_decode(ids, skip_special_tokens=True)[0])
            advance(1)
        return out


class Tk:
    """tk's summarizer service, with no cache; `backend` as the flag gives it."""

    def __init__(self, name: str, backend: str):
        self.name, self.backend = name, backend

    def load(self, folder: Path, args) -> None:
        from translate_kit.cache import NoCache
        from translate_kit.options import DecodeOptions, RunOptions
        from translate_kit.translators import Translators

        run = RunOptions(cache_dir=full_model.MODELS, threads=args.threads)
        self.service = Translators(DecodeOptions(backend=self.backend), run, NoCache()).summarizer(str(folder))
        self.service.engine  # noqa: B018  (loaded lazily by tk; counted in the load time here)
        if hasattr(self.service.engine.model, "translator"):
            self.service.engine.model.translator  # noqa: B018
        self.resolved = self.service.signature_text

    def summarize(self, windows, bounds, advance=lambda n: None) -> list[str]:
        return self.service.summarize(windows, bounds, advance)

    def __getattr__(self, name):  # window, count, label: the service's
        return getattr(self.__dict__["service"], name)


def make_method(name: str):
    return {"naive": Naive, "tk-torch": lambda: Tk("tk-torch", "torch"), "tk-default": lambda: Tk("tk-default", "auto"),
            "tk-ct2": lambda: Tk("tk-ct2", "ct2")}[name]()


def one_summary(method, text: list[str], length: int) -> dict:
    """One map step and one reduce step, the same work for every method.

    Map: the article packed into Windows (tk's summarize.pack, the model's 1 024 tokens). Reduce:
    one Window holding a stand-in for each map summary, a prefix of its Window about `length`
    tokens long, so the reduce input does not depend on what a random model happened to write
    (its words re-tokenize into very different lengths). Every summary is forced to `length`
    tokens."""
    from translate_kit.summarize import pack

    windows = pack(text, method.count, method.window)
    method.summarize(windows, (length, length))
    stand_ins = [" ".join(w.split()[: max(1, length * 2 // 3)]) for w in windows]  # ~1.5 tokens per word
    reduce = pack(["\n".join(stand_ins)], method.count, method.window)
    summary = method.summarize(reduce, (length, length))
    return {"rounds": [len(windows), len(reduce)], "windows": len(windows) + len(reduce),
            "window_tokens": [method.count(w) for w in windows + reduce], "summaries": len(summary)}


# --- the run -------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median is reported")
    parser.add_argument("--length", type=int, default=56, help="forced summary length in tokens (distilbart's min_length)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma list among {', '.join(METHODS)}")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--no-alone", action="store_true", help="skip the own-process runs (peak RSS, end to end)")
    parser.add_argument("--alone", default=None, help=argparse.SUPPRESS)  # internal: one method's own process
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: benchmarks/results/summarize-<time>.json)")
    parser.add_argument("--model", type=Path, default=None,
                        help="a summarizer folder instead of the full-size random one (gpu_check.sh --cpu-smoke: a tiny one)")
    args = parser.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if set(args.methods) - {*METHODS, "tk-ct2"}:
        parser.error(f"unknown methods: {', '.join(sorted(set(args.methods) - {*METHODS, 'tk-ct2'}))}")
    return args


def alone(args) -> int:
    """--alone NAME: load one method and summarize the article's first Window (the largest input,
    hence the peak) in a fresh process; print JSON: load time and peak RSS."""
    from translate_kit.summarize import pack

    folder = full_model.summarizer_dir()
    started = time.perf_counter()
    method = make_method(args.alone)
    method.load(folder, args)
    load_s = time.perf_counter() - started
    window = pack(paragraphs(), method.count, method.window)[0]
    t = time.perf_counter()
    method.summarize([window], (args.length, args.length))
    print(json.dumps({"load_s": round(load_s, 2), "one_window_s": round(time.perf_counter() - t, 2),
                      "peak_rss_mb": round(peak_rss_mb())}))
    return 0


def own_processes(methods, args) -> None:
    import subprocess

    for method in methods:
        command = [sys.executable, __file__, "--alone", method.name, "--length", str(args.length)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        method.alone = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{method.name} alone: {method.alone}", file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.alone:
        return alone(args)
    from translate_kit.runtime.engine import quiet_transformers

    quiet_transformers()
    started = time.perf_counter()
    folder = args.model or full_model.summarizer_dir()
    build_s = time.perf_counter() - started
    text = paragraphs()
    methods = []
    for name in args.methods:
        method = make_method(name)
        t = time.perf_counter()
        method.load(folder, args)  # tk-default converts the model here the first time
        method.load_s, method.seconds, method.work, method.alone = time.perf_counter() - t, [], None, None
        print(f"loaded {name} in {method.load_s:.1f} s", file=sys.stderr)
        methods.append(method)
    for round_ in range(args.rounds):
        for method in methods:
            t = time.perf_counter()
            method.work = one_summary(method, text, args.length)
            method.seconds.append(time.perf_counter() - t)
            print(f"round {round_ + 1} {method.name}: {method.seconds[-1]:.1f} s {method.work}", file=sys.stderr)
    if not args.no_alone:
        own_processes(methods, args)
    report = results(methods, args, text, build_s)
    out = args.out or RESULTS / f"summarize-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    print(f"\n{out}", file=sys.stderr)
    return 0


def results(methods, args, text, build_s: float) -> dict:
    base = next((m for m in methods if m.name == "naive"), None)
    base_s = statistics.median(base.seconds) if base else None
    rows = []
    for m in methods:
        seconds = statistics.median(m.seconds)
        e2e = end_to_end(m, seconds)
        rows.append({
            "method": m.name, "signature": getattr(m, "resolved", "transformers fp32"),
            "seconds": round(seconds, 2), "all_seconds": [round(s, 2) for s in m.seconds],
            "ratio_to_naive": round(base_s / seconds, 2) if base_s else None,
            "end_to_end_s": e2e,
            "end_to_end_ratio": round(end_to_end(base, base_s) / e2e, 2) if base and e2e and end_to_end(base, base_s) else None,
            "load_s": m.alone["load_s"] if m.alone else round(m.load_s, 2),
            "peak_rss_mb": m.alone["peak_rss_mb"] if m.alone else None, **m.work,
        })
    return {
        "benchmark": "bench_summarize", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
        "model": {"architecture": "distilbart-cnn-12-6 (random weights)", **full_model.SUMMARIZER_ARCHITECTURE,
                  "vocab_size": full_model.SUMMARIZER_VOCAB, **full_model.SUMMARIZER_GENERATION},
        "input": SEED.name, "input_tokens": methods[0].count("\n".join(text)) if methods else None,
        "forced_length": args.length, "rounds": args.rounds, "threads": args.threads, "model_build_s": round(build_s, 1),
        "results": rows,
    }


def end_to_end(method, seconds: float) -> float | None:
    """Load (alone, in a fresh process) + one summary (interleaved median): what a user waits for."""
    return round(method.alone["load_s"] + seconds, 2) if method.alone else None


def table(report: dict) -> str:
    lines = ["| method | summary s (median) | ratio to naive | end to end s (load + summary) | e2e ratio | load s | peak RSS MB | windows |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        lines.append(f"| {r['method']} | {r['seconds']} | {r['ratio_to_naive']}x | {r['end_to_end_s']} | "
                     f"{r['end_to_end_ratio']}x | {r['load_s']} | {r['peak_rss_mb']} | {r['windows']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
