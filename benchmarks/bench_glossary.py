"""What a 5 000-entry glossary costs per sentence, beside what translating that sentence costs.

    python benchmarks/bench_glossary.py                 # 5 000 entries over the seeds' sentences
    python benchmarks/bench_glossary.py --entries 20000 --rounds 5

The glossary: the 72 entries of tests/data/terms/glossary.tsv, then 2-3 word phrases cut from the
seeds themselves (so that many of them match, a worse case than a style guide's names), then
made-up names that never match, up to --entries. The text: every sentence of seeds/ (French),
segmented as tk does. Timed, best of --rounds: building the matcher (once per run), matching
alone, and the whole per-sentence glossary work of the default mechanism (`both`: match,
substitute, cache fragment; then the n-best choice and the check on one hypothesis).

The per-sentence cost is compared with the figures of docs/benchmarks.md#translation-speed-on-a-cpu for the default CPU path (ct2
int8, 2 cores): 30.98 sentences/s at greedy and 9.85 at beam 4. Target: under 5% of translation
time. Writes JSON to benchmarks/results/glossary-<time>.json.

    python benchmarks/bench_glossary.py --pipeline      # end to end, through the real pipeline

--pipeline measures the same glossary through the model service (Translator.translate_texts with
the glossing hook), on the full-size random-weight opus-mt-fr-en (benchmarks/full_model.py), no
cache, output lengths forced to 1.1x the source tokens as bench_translate.py does (a random model
never stops by itself). Runs are interleaved, round after round: no glossary, then each --modes
mode, so that the machine's load falls on all alike; the median of each is compared with the run
without. The load average is recorded. Writes benchmarks/results/glossary-pipeline-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"

from translate_kit.documents import load_documents  # noqa: E402
from translate_kit.glossary import Policy, finish, load_glossary, prepare  # noqa: E402
from translate_kit.glossary.match import Matcher  # noqa: E402
from translate_kit.glossary.terms import Term  # noqa: E402
from translate_kit.segment import segment_document  # noqa: E402

README_SENTENCES_PER_S = {"ct2 int8, greedy": 30.98, "ct2 int8, beam 4": 9.85}  # docs/benchmarks.md#translation-speed-on-a-cpu, 2026-11-21


def sentences(corpus: Path) -> list[str]:
    out = []
    for doc in load_documents([str(corpus)]):
        out += [s.text for s in segment_document(doc, "fr") if s.text.strip()]
    return out


def glossary_terms(size: int, texts: list[str], seed: int = 1) -> list[Term]:
    """The real entries, phrases from the texts, then made-up names: `size` terms, no two alike."""
    terms = load_glossary(ROOT / "tests" / "data" / "terms" / "glossary.tsv").terms("fr", "en")
    seen = {t.source.lower() for t in terms}
    rng = random.Random(seed)
    words = [w.strip(".,;:«»!?()\"'’") for text in texts for w in text.split()]
    phrases = [" ".join(words[i:i + k]) for k in (2, 3) for i in range(len(words) - k)]
    rng.shuffle(phrases)
    for phrase in phrases[: size // 2]:
        phrase = " ".join(phrase.split())
        if phrase and phrase.lower() not in seen and len(terms) < size:
            seen.add(phrase.lower())
            terms.append(Term((phrase,), (phrase.upper(),), "fr", "en", origin=f"phrase:{len(terms)}"))
    syllables = ["ka", "lo", "mi", "zu", "ter", "van", "dor", "quel", "fi", "ny", "rab", "sel"]
    while len(terms) < size:
        name = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        if name.lower() not in seen:
            seen.add(name.lower())
            terms.append(Term((name,), (name + "ov",), "fr", "en", origin=f"name:{len(terms)}"))
    return terms


def best_of(rounds: int, work) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def pipeline_work(texts: list[str], matcher: Matcher, policy: Policy) -> int:
    """What a run does per sentence with a glossary; the 'model' returns the text it was sent."""
    checks = 0
    for text in texts:
        prepared = prepare(text, matcher, policy)
        checks += len(finish(prepared, [prepared.source], "en")[1])
    return checks


def force_lengths() -> None:
    """Output lengths fixed by the source (1.1x its tokens), on both backends, as bench_translate.py
    does: a random-weight model never stops by itself."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_translate import forced_steps
    from translate_kit.runtime import ct2, torch as tk_torch

    ct2_options, torch_generate = ct2.Ct2Engine.options, tk_torch.TorchEngine.generate

    def options(self, batch, **overrides):
        steps = forced_steps(max(map(len, batch)))
        return ct2_options(self, batch, **{**overrides, "min_length": steps + 1, "max_length": steps + 1})

    def generate(self, texts, **overrides):
        steps = forced_steps(max(self.count_tokens(texts)))
        return torch_generate(self, texts, **{**overrides, "min_length": steps + 1, "max_length": steps + 1})

    ct2.Ct2Engine.options, tk_torch.TorchEngine.generate = options, generate


def timed_glossary_work() -> dict:
    """Wrap the glossary's own steps in the pipeline (matching and preparing each text, the cache
    keys' grouping, the check of each translation) with a clock: their share of a run's wall time
    is the glossary's cost, measured inside the same process, so the machine's load weighs on it
    and on the model alike (the end-to-end difference between runs is at the load's mercy)."""
    from translate_kit import glossing
    from translate_kit.glossary import Enforcer

    spent = {"s": 0.0}

    def clocked(function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent["s"] += time.perf_counter() - started
        return wrapper

    Enforcer.prepare = clocked(Enforcer.prepare)
    glossing._with_terms = clocked(glossing._with_terms)
    glossing._lookup = clocked(glossing._lookup)
    glossing._store = clocked(glossing._store)
    glossing._enforced = clocked(glossing._enforced)  # restore/choose/verify; in `both` also the n-best's model time
    return spent


def pipeline(args, texts: list[str], terms: list[Term]) -> dict:
    """Sentences per second through Translator.translate_texts, with and without the glossary."""
    import os
    import statistics

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import full_model
    from translate_kit.cache import NoCache
    from translate_kit.glossary import Enforcer, Entry, Glossary, build_matcher
    from translate_kit.glossing import Glossing
    from translate_kit.options import DecodeOptions, RunOptions
    from translate_kit.translators import Translators

    force_lengths()
    folder = full_model.model_dir("base")
    sample = full_model.seed_sentences(args.sentences)
    if args.targets == "same":  # phrases kept as written (as "Rassemblement national stays"): the model's input
        terms = [t if not t.origin.startswith("phrase:") else Term(t.sources, t.sources, "fr", "en", origin=t.origin)
                 for t in terms]  # keeps its length; "upper" triples its tokens (CAPITALS split into letters)
    glossary = Glossary([Entry((("fr", t.sources), ("en", t.targets)), origin=t.origin) for t in terms])
    run = RunOptions(cache_dir=full_model.MODELS, use_cache=False, threads=args.threads)
    translators = Translators(DecodeOptions(beams=args.beams, backend="ct2"), run, NoCache(), str(folder))
    translator = translators.get("fr", "en")
    translator.engine  # loaded before the clock starts
    hooks = {"none": None, **{m: Glossing(Enforcer(glossary, Policy(m, 8))) for m in args.modes.split(",")}}
    for hook in list(hooks.values())[1:]:  # the made-up glossary has conflicts (phrases cut twice): tolerated here
        hook.enforcer._matchers["fr", "en"] = build_matcher(glossary, "fr", "en", strict=False)
    matched = sum(1 for t in sample if hooks[args.modes.split(",")[0]].enforcer.prepare(t, "fr", "en").matches)
    spent = timed_glossary_work()
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {m: [] for m in hooks}
    work: dict[str, list[float]] = {}
    cpu_times: dict[str, list[float]] = {}  # this process's CPU time (all threads): less at the load's mercy  # share of each run's wall time spent in glossary code
    for round_ in range(args.rounds):
        order = list(hooks.items())
        for mode, hook in order[round_ % len(order):] + order[:round_ % len(order)]:  # each mode leads a round
            translator.glossary = hook
            spent["s"] = 0.0
            started, cpu = time.perf_counter(), time.process_time()
            translator.translate_texts(sample, lambda n: None)
            times[mode].append(time.perf_counter() - started)
            cpu_times.setdefault(mode, []).append(time.process_time() - cpu)
            work.setdefault(mode, []).append(spent["s"] / times[mode][-1])
    load_after = os.getloadavg()
    base = statistics.median(times["none"])
    rows = {m: {"median_s": round(statistics.median(t), 3), "runs_s": [round(x, 3) for x in t],
                "sentences_per_s": round(len(sample) / statistics.median(t), 2),
                "cost_percent": round(100 * (statistics.median(t) / base - 1), 1),
                "cpu_s": [round(x, 3) for x in cpu_times[m]],
                "cpu_cost_percent": round(100 * (statistics.median(cpu_times[m]) / statistics.median(cpu_times["none"]) - 1), 1),
                "glossary_code_percent": round(100 * statistics.median(work[m]), 3)} for m, t in times.items()}
    return {"targets": args.targets, "model": "opus-mt-fr-en shapes, random weights, ct2 " + translator.engine.plan.precision,
            "beams": translator.engine.beams, "sentences": len(sample), "matched_sentences": matched,
            "rounds": args.rounds, "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after], "cpus": os.cpu_count(), "modes": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--pipeline", action="store_true", help="end to end through the model service (see above)")
    parser.add_argument("--modes", default="verify,substitute,both", help="--pipeline: glossary modes to time")
    parser.add_argument("--sentences", type=int, default=48, help="--pipeline: seed sentences per run")
    parser.add_argument("--beams", type=int, default=4, help="--pipeline: beam size")
    parser.add_argument("--threads", type=int, default=None, help="--pipeline: CPU threads")
    parser.add_argument("--targets", choices=("same", "upper"), default="same",
                        help="--pipeline: the made-up phrases' targets: the phrase itself, or in capitals")
    args = parser.parse_args()
    texts = sentences(args.corpus)
    terms = glossary_terms(args.entries, texts)
    if args.pipeline:
        report = {"date": datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S"), "python": platform.python_version(),
                  "entries": len(terms), **pipeline(args, texts, terms)}
        print(json.dumps(report, indent=1))
        if not args.no_save:
            RESULTS.mkdir(exist_ok=True)
            out = RESULTS / f"glossary-pipeline-{report['date']}.json"
            out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
            print(f"wrote {out}")
        return
    build_s = best_of(args.rounds, lambda: Matcher(terms, "fr"))
    matcher = Matcher(terms, "fr")
    matches = sum(len(matcher.match(t)) for t in texts)
    match_s = best_of(args.rounds, lambda: [matcher.match(t) for t in texts])
    work_s = best_of(args.rounds, lambda: pipeline_work(texts, matcher, Policy("both", 8)))
    per_sentence = work_s / len(texts)
    shares = {name: round(100 * per_sentence * rate, 3) for name, rate in README_SENTENCES_PER_S.items()}
    print(f"{len(terms)} entries, {len(texts)} sentences ({sum(map(len, texts))} chars), {matches} matches")
    print(f"build matcher: {1000 * build_s:.1f} ms (once per run)")
    print(f"match only:    {1e6 * match_s / len(texts):.1f} µs/sentence")
    print(f"glossary work: {1e6 * per_sentence:.1f} µs/sentence (match, substitute, fragment, choose, verify)")
    for name, share in shares.items():
        print(f"  = {share:.3f}% of translation time at README's {name} ({README_SENTENCES_PER_S[name]} sentences/s)")
    if args.no_save:
        return
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"glossary-{stamp}.json"
    report = {"date": stamp, "python": platform.python_version(), "machine": platform.machine(),
              "rounds": args.rounds, "entries": len(terms), "sentences": len(texts), "chars": sum(map(len, texts)),
              "matches": matches, "build_ms": round(1000 * build_s, 2),
              "match_us_per_sentence": round(1e6 * match_s / len(texts), 2),
              "glossary_us_per_sentence": round(1e6 * per_sentence, 2),
              "readme_sentences_per_s": README_SENTENCES_PER_S, "share_of_translation_percent": shares}
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
