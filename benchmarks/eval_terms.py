"""Glossary adherence per mechanism, and what the glossary does to the rest of the sentence.

    python benchmarks/eval_terms.py                     # the copy "translator": proves the harness
    python benchmarks/eval_terms.py --langs fr --hypotheses 4

Reads tests/data/terms/: glossary.tsv (or --glossary, e.g. glossary.tbx) and sentences.tsv (217
news sentences, fr/de/es, with an English reference each; glossary matches marked [like this]).
For each language and mechanism (verify = no enforcement, the run without a glossary; substitute;
nbest; both; placeholder) every sentence goes through the same two calls a pipeline makes,
glossary.prepare -> translator(n hypotheses) -> glossary.finish, and the script reports:

- adherence: share of required target terms present in the output (what `verify` would not flag);
- chrF of the rest: sacrebleu's corpus chrF of output against reference with every required
  target term (any variant) cut out of both, for the mechanism and for `verify`, and the delta
  (the glossary must not damage the rest: target delta >= -1 point with a real model).

Phase 1 has one translator, `copy` (the text sent to the model comes back unchanged, one
hypothesis): its chrF against English is low by nature and not a translation figure; it shows
that substitution and placeholders put every term in and that the harness counts right. The
real-model run (OPUS-MT through translate_kit's runtime, n-best on both backends) is phase 2.
Writes JSON to benchmarks/results/terms-eval-<time>.json.

Phase 2: the same figures through the real pipeline (the model service, Translator.translate_texts
with the glossing hook: cache key, substitution, model, n-best on a miss, check), no cache:

    python benchmarks/eval_terms.py --pipeline tiny                 # tests/conftest.py's tiny models
    python benchmarks/eval_terms.py --pipeline full --langs fr      # full-size random weights (full_model.py)
    python benchmarks/eval_terms.py --pipeline real                 # the real OPUS-MT models (connected machines)

`tiny`: the test hub's copy models (fr-en, de-en; es has no model there and is skipped): structure.
`full`: opus-mt-fr-en's shapes with random weights, output lengths forced (bench_translate.py): its
adherence is only what substitution and the n-best can put into gibberish, a structure and cost
check, not a quality figure. `real`: the models of models.lock, for the adherence and chrF targets
(>= 95%, chrF loss <= 1 point), which tests/test_real.py asserts with `pytest -m real`.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
DATA = ROOT / "tests" / "data" / "terms"

from translate_kit.glossary import MECHANISMS, Policy, build_matcher, finish, load_glossary, prepare, required  # noqa: E402

Translator = Callable[[list[str], int], list[list[str]]]  # sources, n -> up to n hypotheses each, best first


def copy_translator(sources: list[str], n: int) -> list[list[str]]:
    """The identity 'model': what it is sent comes back. Enough to test the harness, not MT."""
    return [[source] for source in sources]


TRANSLATORS: dict[str, Translator] = {"copy": copy_translator}


def load_sentences(path: Path = DATA / "sentences.tsv") -> list[dict]:
    """Rows of sentences.tsv with the [marks] taken out of the source (kept as `marked`)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    for row in rows:
        row["marked"] = re.findall(r"\[([^\]]+)\]", row["source"])
        row["source"] = row["source"].replace("[", "").replace("]", "")
    return rows


def cut_terms(text: str, terms) -> str:
    """`text` without any target variant of `terms` (word-bounded, any case, English endings)."""
    for term in terms:
        for variant in sorted(term.targets, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(variant)}(?:s|es)?(?!\w)", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def run_mechanism(rows: list[dict], matcher, policy: Policy, translate: Translator) -> dict:
    """Outputs, term counts and timing of one mechanism over `rows` (one language)."""
    started = time.perf_counter()
    prepared = [prepare(row["source"], matcher, policy) for row in rows]
    glossary_s = time.perf_counter() - started
    hypotheses = translate([p.source for p in prepared], policy.n)
    started = time.perf_counter()
    outputs, required_n, missed = [], 0, 0
    for item, hyps in zip(prepared, hypotheses):
        target, checks = finish(item, hyps, "en")
        outputs.append(target)
        required_n += len(required(item.matches))
        missed += len(checks)
    glossary_s += time.perf_counter() - started
    return {"outputs": outputs, "prepared": prepared, "required": required_n, "missed": missed, "glossary_s": glossary_s}


def pipeline_mechanism(rows: list[dict], lang: str, glossary, policy: Policy, translators) -> dict:
    """run_mechanism's figures through the model service: what `tk translate --glossary` does."""
    from translate_kit.glossary import Enforcer
    from translate_kit.glossing import Glossing

    enforcer = Enforcer(glossary, policy)
    translator = translators.get(lang, "en")
    translator.glossary = Glossing(enforcer)
    sources = [row["source"] for row in rows]
    started = time.perf_counter()
    done = translator.translate_texts(list(dict.fromkeys(sources)), lambda n: None)
    seconds = time.perf_counter() - started
    prepared = [enforcer.prepare(s, lang, "en") for s in sources]
    failed = [s for s in sources if done[s].origin == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} sentence(s) failed: {done[failed[0]].error}")
    return {"outputs": [done[s].target for s in sources], "prepared": prepared,
            "required": sum(len(required(p.matches)) for p in prepared),
            "missed": sum(t["missing"] for s in sources for t in done[s].terms), "glossary_s": None,
            "seconds": seconds}


def pipeline_service(kind: str, backend: str):
    """The model service for --pipeline: tiny (test hub), full (random full-size), real (models.lock)."""
    from translate_kit.cache import NoCache
    from translate_kit.options import DecodeOptions, RunOptions
    from translate_kit.translators import Translators

    model = None
    if kind == "tiny":
        import os

        sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
        import build_models

        hub = build_models.build_test_hub(tempfile.mkdtemp(prefix="tk-eval-hub-"),
                                          texts=build_models.load_corpus(ROOT / "seeds"))
        os.environ.update(HF_HOME=str(hub.hf_home), HF_HUB_CACHE=str(hub.hub_cache), HF_HUB_OFFLINE="1",
                          TRANSFORMERS_OFFLINE="1")
        from huggingface_hub import constants

        constants.HF_HUB_CACHE = constants.HUGGINGFACE_HUB_CACHE = str(hub.hub_cache)
        constants.HF_HOME, constants.HF_HUB_OFFLINE = str(hub.hf_home), True
    elif kind == "full":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import full_model
        from bench_glossary import force_lengths

        force_lengths()
        model = str(full_model.model_dir("base"))
    cache_dir = Path(tempfile.mkdtemp(prefix="tk-eval-cache-")) if kind == "tiny" else ROOT / "benchmarks" / ".models"
    return Translators(DecodeOptions(backend=backend), RunOptions(cache_dir=cache_dir, use_cache=False), NoCache(), model)


def chrf_rest(rows: list[dict], run: dict) -> float:
    from sacrebleu.metrics import CHRF

    hyps, refs = [], []
    for row, item, output in zip(rows, run["prepared"], run["outputs"]):
        terms = required(item.matches)
        hyps.append(cut_terms(output, terms))
        refs.append(cut_terms(row["reference"], terms))
    return CHRF().corpus_score(hyps, [refs]).score


def evaluate(rows: list[dict], glossary, langs: list[str], mechanisms: list[str], hypotheses: int,
             translate: Translator, service=None) -> list[dict]:
    results = []
    for lang in langs:
        subset = [r for r in rows if r["lang"] == lang]
        matcher = build_matcher(glossary, lang, "en")
        if service is not None:
            try:
                service.get(lang, "en")
            except Exception as err:  # no model for this language (es in the tiny hub): said, skipped
                print(f"{lang}: skipped ({str(err).splitlines()[0][:120]})")
                continue
            runs = {m: pipeline_mechanism(subset, lang, glossary, Policy(m, hypotheses), service) for m in mechanisms}
        else:
            runs = {m: run_mechanism(subset, matcher, Policy(m, hypotheses), translate) for m in mechanisms}
        base = chrf_rest(subset, runs["verify"])
        for mechanism, run in runs.items():
            score = chrf_rest(subset, run)
            results.append({
                "lang": lang, "mechanism": mechanism, "sentences": len(subset), "required_terms": run["required"],
                "adherence": round(1 - run["missed"] / run["required"], 4) if run["required"] else None,
                "chrf_rest": round(score, 2), "chrf_rest_delta": round(score - base, 2),
                "glossary_ms_per_sentence": round(1000 * run["glossary_s"] / len(subset), 3) if run["glossary_s"] is not None else None,
                **({"seconds": round(run["seconds"], 2)} if "seconds" in run else {})})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glossary", type=Path, default=DATA / "glossary.tsv")
    parser.add_argument("--sentences", type=Path, default=DATA / "sentences.tsv")
    parser.add_argument("--langs", default="fr,de,es")
    parser.add_argument("--mechanisms", default=",".join(MECHANISMS))
    parser.add_argument("--hypotheses", type=int, default=8, help="n for nbest and both")
    parser.add_argument("--translator", choices=sorted(TRANSLATORS), default="copy")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--pipeline", choices=("tiny", "full", "real"), help="through the real pipeline (see above)")
    parser.add_argument("--backend", default="auto", help="--pipeline: torch, ct2 or auto")
    parser.add_argument("--json", action="store_true", help="the rows as one JSON line at the end (tests/test_real.py)")
    parser.add_argument("--limit", type=int, default=0, help="sentences per language (0: all)")
    args = parser.parse_args()
    mechanisms = list(dict.fromkeys(["verify", *args.mechanisms.split(",")]))
    rows = load_sentences(args.sentences)
    if args.limit:
        rows = [r for lang in args.langs.split(",") for r in [x for x in rows if x["lang"] == lang][: args.limit]]
    service = pipeline_service(args.pipeline, args.backend) if args.pipeline else None
    if args.pipeline:
        args.translator = f"pipeline:{args.pipeline}:{args.backend}"
    results = evaluate(rows, load_glossary(args.glossary), args.langs.split(","), mechanisms, args.hypotheses,
                       TRANSLATORS.get(args.translator), service)
    print(f"translator: {args.translator}; glossary: {args.glossary.name}; {len(rows)} sentences")
    print(f"{'lang':4} {'mechanism':12} {'sent':>4} {'terms':>5} {'adherence':>9} {'chrF rest':>9} {'delta':>6} {'ms/sent':>8}")
    for r in results:
        adherence = "-" if r["adherence"] is None else f"{100 * r['adherence']:.1f}%"
        ms = "-" if r["glossary_ms_per_sentence"] is None else f"{r['glossary_ms_per_sentence']:.3f}"
        print(f"{r['lang']:4} {r['mechanism']:12} {r['sentences']:>4} {r['required_terms']:>5} {adherence:>9} "
              f"{r['chrf_rest']:>9.2f} {r['chrf_rest_delta']:>+6.2f} {ms:>8} {r.get('seconds', '')}")
    if args.json:
        print(json.dumps(results))
    if args.no_save:
        return
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"terms-eval-{stamp}.json"
    report = {"date": stamp, "python": platform.python_version(), "translator": args.translator,
              "glossary": str(args.glossary.relative_to(ROOT) if args.glossary.is_relative_to(ROOT) else args.glossary),
              "hypotheses": args.hypotheses, "rows": results}
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
