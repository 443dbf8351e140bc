"""Translation speed on a CPU: the naive loop, tk's torch path, tk's CTranslate2 path, raw CTranslate2.

    python benchmarks/bench_translate.py                   # 64 seed sentences, greedy and beam 4, 3 rounds
    python benchmarks/bench_translate.py --sentences 8 --rounds 1   # a quick look while developing
    python benchmarks/bench_translate.py --tier big        # the big tier (opus-mt-tc-big-fr-en shapes), beside base

`--tier big` measures every method on the full-size random opus-mt-tc-big-fr-en (issue 26) AND,
interleaved in the same rounds, on the base model, so each big row has its ratio to the same
method on the base tier, measured side by side (`--tier-only`: the big tier alone). Both tiers
read the same seed tokens (full_model.py), so their token counts are equal.

Every method translates the same seed sentences with the same full-size random-weight model
(the exact opus-mt-fr-en architecture, benchmarks/full_model.py), and does the same work: each
sentence's output length is forced to 1.1x its source tokens (min length = max length; a batch
decodes as long as its longest member needs, which is part of what batching costs). Speed is
counted the same way for all: source + forced target tokens of the sentences, per second.

The methods run in ONE process, interleaved (A, B, C, D, A, B, C, D, ...), because the machines
are shared and their speed drifts from minute to minute: ratios between methods measured side by
side are what counts, not absolute figures.

- naive: one sentence per model.generate(), fp32: what most scripts do.
- tk-torch: tk's own Engine (length-sorted, token-budgeted batches) behind tk's Translator and
  cache, fp32; tk-torch-int8: the same with `--precision int8` (torch dynamic quantization).
- tk-ct2: tk's Ct2Engine, behind the same Translator and cache, with its defaults.

On a GPU (`--device cuda`, used by benchmarks/gpu_check.sh): tk-torch-fp16 is tk's torch Engine
in fp16 (its CUDA default), tk-ct2-fp16 and tk-ct2-int8 the Ct2Engine at `--precision fp16` /
`int8` (CTranslate2 float16 / int8_float16); naive moves its fp32 model to the device, raw-ct2
runs float16 there.
- raw-ct2: CTranslate2 called by hand, tuned: sentencepiece directly, length-sorted batches of
  16, asynchronous batches over one worker per core (1 thread each), int8.

The tk methods go through translate.Translator.translate_texts with an empty cache (a new
signature each time), so cache lookups and stores are part of their time. Their only changes:
the forced output length, added by overriding one hook (Engine.generate / Ct2Engine.options),
and no retry of degenerate outputs (quality.py): every output of a random model looks degenerate,
so each batch would run twice, which a real model's output rarely needs.

Prints a Markdown table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import full_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
OUTPUT_RATIO = 1.1  # forced output length, relative to the source tokens (</s> included)
METHODS = ("naive", "tk-torch", "tk-torch-int8", "tk-ct2", "raw-ct2")
GPU_METHODS = ("tk-torch-fp16", "tk-ct2-fp16", "tk-ct2-int8")  # --device cuda only (gpu_check.sh)
# The cost of the per-sentence signals (issue 24), measured against the same method without them:
# -nochecks: the engine computes no scores (Engine.scoring False) and no verdicts are made;
# -cached: a cached re-run (every sentence a hit, filled before the rounds) with scores in the
# cache and verdicts made, against -cached-unscored: the same over entries stored without scores
# (as every entry was before the cache kept them), verdicts made too.
CHECK_METHODS = ("tk-ct2-nochecks", "tk-torch-nochecks", "tk-ct2-cached", "tk-ct2-cached-unscored")


def forced_steps(source_tokens: int) -> int:
    return math.ceil(OUTPUT_RATIO * source_tokens)


# --- the methods ---------------------------------------------------------------------------


class Naive:
    """One sentence per generate(), fp32."""

    name = "naive"

    def load(self, folder: Path, args) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval().to(args.device)

    def translate(self, sentences: list[str], beams: int) -> int:
        steps = 0
        for text in sentences:
            batch = self.tokenizer([text], return_tensors="pt").to(self.model.device)
            length = forced_steps(batch["input_ids"].shape[1]) + 1  # + the decoder start token
            out = self.model.generate(**batch, num_beams=beams, min_length=length, max_length=length)
            self.tokenizer.batch_decode(out, skip_special_tokens=True)
            steps += out.shape[1] - 1
        return steps


class TkMethod:
    """tk's Translator over one of tk's engines, with an empty cache each time, then the verdicts
    (checks.assess_document with the model's scores), as `tk translate` makes them."""

    checks = True  # scores and verdicts (False: the -nochecks methods)
    cached = False  # a cached re-run: one signature per beam size, filled by fill() before the rounds

    def translate(self, sentences: list[str], beams: int) -> int:
        from translate_kit.checks import assess_document
        from translate_kit.translate import Translator

        # An engine reads its beams from its Plan (runtime/engine.py): the decode options alone would
        # leave every tk row at the model's own 4 beams.
        engine = replace(self.engine, decode=replace(self.engine.decode, beams=beams),
                         plan=replace(self.engine.plan, beams=beams))
        engine.steps = 0
        # a fresh key: every sentence is a miss, stored after its batch (cached: every one a hit)
        signature = f"{self.name}-{beams}" if self.cached else uuid.uuid4().hex
        done = Translator(engine, signature, self.cache).translate_texts(sentences, lambda n: None)
        assert len(done) == len(set(sentences))
        if self.checks:
            assess_document([(s, done[s].target) for s in sentences], "fr", "en", [done[s].score for s in sentences])
        return engine.steps

    def fill(self, sentences: list[str], beams_list: list[int]) -> None:
        """-cached methods: translate once per beam size, so that every round is a cached re-run."""
        if self.cached:
            for beams in beams_list:
                self.translate(sentences, beams)

    def signals(self, name: str) -> None:
        """Scores and verdicts on or off, as the method's name says."""
        self.checks = not name.endswith("-nochecks")
        self.cached = "-cached" in name
        type(self.engine).scoring = self.checks and not name.endswith("-unscored")


class TkTorch(TkMethod):
    def __init__(self, precision: str = "fp32", suffix: str = ""):
        self.precision = precision
        self.name = ("tk-torch" if precision == "fp32" else f"tk-torch-{precision}") + suffix

    def load(self, folder: Path, args) -> None:
        from translate_kit import models, runtime
        from translate_kit.runtime import torch as torch_backend
        from translate_kit.runtime.torch import TorchEngine

        class Forced(TorchEngine):
            def generate(self, texts, **overrides):
                steps = forced_steps(max(self.count_tokens(texts)))
                self.steps += steps * len(texts)
                return super().generate(texts, min_length=steps + 1, max_length=steps + 1)

        if args.device == "cpu":
            torch_backend.set_threads(args.threads)
        loaded = torch_backend.load(models.ModelRef(str(folder), "local", local=True), args.device, self.precision)
        decode = replace(args.decode, backend="torch", precision=self.precision)
        plan = runtime.resolve("torch", args.device, self.precision, args.tk_batch_tokens).for_model(folder, decode.beams)
        self.engine = Forced(loaded, decode, plan)
        self.cache = args.cache
        self.signals(self.name)


class TkCt2(TkMethod):
    def __init__(self, precision: str = "auto", suffix: str = ""):
        self.precision = precision
        self.name = ("tk-ct2" if precision == "auto" else f"tk-ct2-{precision}") + suffix

    def load(self, folder: Path, args) -> None:
        from translate_kit import models, runtime
        from translate_kit.options import RunOptions
        from translate_kit.runtime import ct2

        class Forced(ct2.Ct2Engine):
            def options(self, batch, **overrides):
                steps = forced_steps(max(map(len, batch)))
                self.steps += steps * len(batch)
                return super().options(batch, min_length=steps + 1, max_length=steps + 1)

        run = RunOptions(cache_dir=full_model.MODELS, threads=args.threads, batch_tokens=args.tk_batch_tokens)
        plan = runtime.resolve("ct2", args.device, self.precision, args.tk_batch_tokens).for_model(folder, args.decode.beams)
        generic = ct2.engine(models.ModelRef(str(folder), "local", local=True), plan, args.decode, run)
        if args.ct2_layout:
            generic.model.workers, generic.model.threads = args.ct2_layout
        generic.model.translator  # loaded lazily by tk; counted in the load time here
        self.engine = Forced(generic.loaded, generic.decode, generic.plan)
        self.cache = args.cache
        self.signals(self.name)
        self.layout = (generic.model.workers, generic.model.threads)


class RawCt2:
    """CTranslate2 by hand, as its documentation suggests and tuned on this machine."""

    name = "raw-ct2"

    def load(self, folder: Path, args) -> None:
        import ctranslate2
        import sentencepiece as spm

        self.source = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
        self.target = spm.SentencePieceProcessor(model_file=str(folder / "target.spm"))
        workers, threads = args.raw_layout if args.device == "cpu" else (1, 1)
        compute = "int8" if args.device == "cpu" else "float16"
        self.translator = ctranslate2.Translator(str(args.converted[self.tier]), device=args.device, compute_type=compute,
                                                 inter_threads=workers, intra_threads=threads)
        self.batch = args.raw_batch

    def translate(self, sentences: list[str], beams: int) -> int:
        pieces = [self.source.encode(s, out_type=str) + ["</s>"] for s in sentences]
        order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i]))
        jobs, steps = [], 0
        for start in range(0, len(order), self.batch):
            batch = order[start:start + self.batch]
            length = forced_steps(len(pieces[batch[0]]))
            steps += length * len(batch)
            jobs.append((batch, self.translator.translate_batch(
                [pieces[i] for i in batch], beam_size=beams, min_decoding_length=length,
                max_decoding_length=length, max_input_length=0, asynchronous=True)))
        outputs = [""] * len(pieces)
        for batch, futures in jobs:
            for i, future in zip(batch, futures):
                outputs[i] = self.target.decode(future.result().hypotheses[0])
        return steps


# --- the run -------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--tier", choices=full_model.TIERS, default="base",
                        help="base: opus-mt-fr-en shapes; big: opus-mt-tc-big-fr-en shapes, measured beside base")
    parser.add_argument("--tier-only", action="store_true", help="with --tier big: do not measure the base tier too")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--beams", default="1,4", help="comma list of beam sizes")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma list among {', '.join(METHODS)}")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N] (benchmarks/gpu_check.sh)")
    parser.add_argument("--tk-batch-tokens", type=int, default=None, help="tk's batch budget (default: tk's own)")
    parser.add_argument("--ct2-layout", default=None, help="tk-ct2 workers x threads, e.g. 1x2 (default: tk's own)")
    parser.add_argument("--raw-layout", default=None, help="raw-ct2 workers x threads (default: one worker per thread)")
    parser.add_argument("--raw-batch", type=int, default=16, help="raw-ct2 sentences per batch")
    parser.add_argument("--memory-sentences", type=int, default=16,
                        help="longest sentences each method translates in its own process for peak RSS and load time")
    parser.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)  # internal: one method's own process
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: benchmarks/results/translate-<time>.json)")
    args = parser.parse_args(argv)
    args.beams = [int(b) for b in args.beams.split(",")]
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(args.methods) - set(METHODS) - set(GPU_METHODS) - set(CHECK_METHODS)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")
    layout = lambda text: tuple(int(x) for x in text.lower().split("x"))  # noqa: E731
    args.ct2_layout = layout(args.ct2_layout) if args.ct2_layout else None
    cores = args.threads or len(os.sched_getaffinity(0))
    args.raw_layout = layout(args.raw_layout) if args.raw_layout else (cores, 1)
    args.tiers = [args.tier] if args.tier == "base" or args.tier_only else [args.tier, "base"]
    return args


def make_method(name: str, tier: str = "base"):
    method = {"naive": Naive, "tk-torch": TkTorch, "tk-torch-int8": lambda: TkTorch("int8"),
              "tk-torch-fp16": lambda: TkTorch("fp16"), "tk-ct2": TkCt2, "tk-ct2-fp16": lambda: TkCt2("fp16"),
              "tk-ct2-int8": lambda: TkCt2("int8"), "raw-ct2": RawCt2,
              **{n: (lambda n=n: TkCt2(suffix=n[len("tk-ct2"):]) if n.startswith("tk-ct2")
                     else TkTorch(suffix=n[len("tk-torch"):])) for n in CHECK_METHODS}}[name]()
    method.tier = tier
    return method


def prepare(args, tiers: list[str]) -> dict:
    """Shared pieces: tk's options and cache, and each tier's converted CTranslate2 model (timed once)."""
    from translate_kit import models
    from translate_kit.runtime import ct2
    from translate_kit.runtime.engine import quiet_transformers
    from translate_kit.cache import Cache
    from translate_kit.options import DecodeOptions

    quiet_transformers()
    # No retry of degenerate outputs: a random model's outputs all look degenerate, a real one's rarely.
    args.decode = DecodeOptions(precision="auto", repetition_retry=False)
    args.cache = Cache(tempfile.mkdtemp(prefix="tk-bench-cache-"))
    args.converted, conversion = {}, {}
    for tier in tiers:
        folder = full_model.model_dir(tier)
        ref = models.ModelRef(str(folder), "local", local=True)
        args.converted[tier] = ct2.converted_dir(full_model.MODELS, ref, models.resolved_revision(ref, folder), "int8")
        started = time.perf_counter()
        fresh = not (args.converted[tier] / "model.bin").is_file()
        ct2.ensure_converted(folder, args.converted[tier], "int8", f"benchmark model ({tier})")
        conversion[tier] = round(time.perf_counter() - started, 1) if fresh else None
    return {"ct2_conversion_s": conversion}


def load_methods(args) -> list:
    methods = []
    for tier in args.tiers:
        for name in args.methods:
            methods.append(load_method(name, tier, args))
    return methods


def load_method(name: str, tier: str, args):
    method = make_method(name, tier)
    started = time.perf_counter()
    method.load(full_model.model_dir(tier), args)
    method.load_s = time.perf_counter() - started
    method.seconds, method.steps, method.alone = {b: [] for b in args.beams}, {}, None
    method.cpu = {b: [] for b in args.beams}
    print(f"loaded {name} ({tier}) in {method.load_s:.1f} s", file=sys.stderr)
    return method


def own_process(methods, args) -> None:
    """Peak RSS and load time of each method alone: a process that loads it and translates the
    longest sentences at the largest beam (the run's biggest batches). In the shared process,
    models mapped from the same file share pages, so per-method memory cannot be told apart."""
    import subprocess

    for method in methods:
        command = [sys.executable, __file__, "--memory-of", method.name, "--tier", method.tier, "--tier-only",
                   "--device", args.device,
                   "--sentences", str(args.sentences),
                   "--memory-sentences", str(args.memory_sentences), "--beams", str(max(args.beams))]
        if args.threads:
            command += ["--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        method.alone = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{method.name} ({method.tier}) alone: {method.alone}", file=sys.stderr)


def memory_of(args) -> int:
    """--memory-of NAME: load one method, translate the longest sentences once, print JSON."""
    folder = full_model.model_dir(args.tier)
    sentences = sorted(full_model.seed_sentences(args.sentences), key=len, reverse=True)[:args.memory_sentences]
    prepare(args, [args.tier])
    method = make_method(args.memory_of, args.tier)
    started = time.perf_counter()
    method.load(folder, args)
    load_s = time.perf_counter() - started
    method.translate(sentences, max(args.beams))
    print(json.dumps({"load_s": round(load_s, 2), "peak_rss_mb": round(peak_rss_mb())}))
    return 0


def measure(methods, sentences, args) -> None:
    """Interleaved: every round runs every method at every beam size, in the same order."""
    for round_ in range(args.rounds):
        for beams in args.beams:
            for method in methods:
                started, cpu = time.perf_counter(), time.process_time()
                method.steps[beams] = method.translate(sentences, beams)
                elapsed = time.perf_counter() - started
                method.seconds[beams].append(elapsed)
                method.cpu[beams].append(time.process_time() - cpu)  # this process's CPU time, all its threads
                print(f"round {round_ + 1} beam {beams} {method.name} ({method.tier}): {elapsed:.2f} s", file=sys.stderr)


def summarize(methods, sentences, args, source_tokens: list[int], extra: dict) -> dict:
    useful = sum(source_tokens) + sum(forced_steps(n) for n in source_tokens)
    rows = []
    median = {(m.tier, m.name, b): statistics.median(m.seconds[b]) for m in methods for b in args.beams}
    for beams in args.beams:
        for method in methods:
            seconds = median[method.tier, method.name, beams]
            naive = median.get((method.tier, "naive", beams))
            on_base = median.get(("base", method.name, beams)) if method.tier != "base" else None
            rows.append({
                "tier": method.tier, "method": method.name, "beams": beams, "seconds": round(seconds, 3),
                "all_seconds": [round(s, 3) for s in method.seconds[beams]],
                # on a loaded machine wall time mostly measures the neighbours: the fastest round and the
                # process's own CPU time (every thread of it, CTranslate2's workers included) say more
                "min_seconds": round(min(method.seconds[beams]), 3),
                "cpu_seconds": round(statistics.median(method.cpu[beams]), 3),
                "all_cpu_seconds": [round(s, 3) for s in method.cpu[beams]],
                "tokens_per_s": round(useful / seconds, 1), "sentences_per_s": round(len(sentences) / seconds, 2),
                "ratio_to_naive": round(naive / seconds, 2) if naive else None,
                # tokens/s of this tier over the same method's on the base tier (same tokens, same rounds)
                "ratio_to_base": round(on_base / seconds, 3) if on_base else None,
                "load_s": method.alone["load_s"] if method.alone else round(method.load_s, 2),
                "peak_rss_mb": method.alone["peak_rss_mb"] if method.alone else None,
                "decoded_tokens": method.steps[beams],
                "layout": getattr(method, "layout", None),
            })
    return {
        "benchmark": "bench_translate", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(), "tier": args.tier, "models": {tier: full_model.architecture(tier) for tier in args.tiers},
        "sentences": len(sentences), "source_tokens": sum(source_tokens), "forced_target_tokens": useful - sum(source_tokens),
        "output_ratio": OUTPUT_RATIO, "rounds": args.rounds,
        "settings": {"device": args.device, "threads": args.threads, "tk_batch_tokens": args.tk_batch_tokens, "raw_layout": args.raw_layout,
                     "raw_batch": args.raw_batch},
        **extra, "process_peak_rss_mb": round(peak_rss_mb()), "results": rows,
    }


def machine() -> dict:
    import ctranslate2
    import torch
    import transformers

    return {"cpus": len(os.sched_getaffinity(0)), "processor": platform.processor() or platform.machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__, "ctranslate2": ctranslate2.__version__}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited through fork + exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def table(report: dict) -> str:
    lines = ["| tier | method | beams | tokens/s | sentences/s | ratio to naive | ratio to base | model load s | peak RSS MB "
             "| fastest s | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        ratio = f"{r['ratio_to_naive']:.2f}x" if r["ratio_to_naive"] else "-"
        to_base = f"{r['ratio_to_base']:.2f}x" if r["ratio_to_base"] else "-"
        lines.append(f"| {r['tier']} | {r['method']} | {r['beams']} | {r['tokens_per_s']:,.0f} | {r['sentences_per_s']:.2f} "
                     f"| {ratio} | {to_base} | {r['load_s']:.1f} | {r['peak_rss_mb'] or '-'} | {r['min_seconds']:.3f} "
                     f"| {r['cpu_seconds']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.memory_of:
        return memory_of(args)
    sentences = full_model.seed_sentences(args.sentences)
    extra = prepare(args, args.tiers)
    methods = load_methods(args)
    from transformers import AutoTokenizer

    counts = {tier: [len(ids) for ids in AutoTokenizer.from_pretrained(full_model.model_dir(tier))(sentences)["input_ids"]]
              for tier in args.tiers}
    assert len({tuple(c) for c in counts.values()}) == 1, "the tiers must read the same tokens"
    source_tokens = counts[args.tier]
    for method in methods:
        if hasattr(method, "fill"):
            method.fill(sentences, args.beams)
    measure(methods, sentences, args)
    if args.memory_sentences:
        own_process(methods, args)
    report = summarize(methods, sentences, args, source_tokens, extra)
    stem = "translate" if args.tier == "base" else f"translate-{args.tier}"
    out = args.out or RESULTS / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"{len(sentences)} sentences, {report['source_tokens']} source + {report['forced_target_tokens']} target "
          f"tokens, median of {args.rounds} interleaved round(s); {report['machine']['cpus']} CPUs, load average "
          f"{report['machine']['load_average'][0]}")
    print(table(report))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
