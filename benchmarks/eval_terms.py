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
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import re
import sys
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


def chrf_rest(rows: list[dict], run: dict) -> float:
    from sacrebleu.metrics import CHRF

    hyps, refs = [], []
    for row, item, output in zip(rows, run["prepared"], run["outputs"]):
        terms = required(item.matches)
        hyps.append(cut_terms(output, terms))
        refs.append(cut_terms(row["reference"], terms))
    return CHRF().corpus_score(hyps, [refs]).score


def evaluate(rows: list[dict], glossary, langs: list[str], mechanisms: list[str], hypotheses: int,
             translate: Translator) -> list[dict]:
    results = []
    for lang in langs:
        subset = [r for r in rows if r["lang"] == lang]
        matcher = build_matcher(glossary, lang, "en")
        runs = {m: run_mechanism(subset, matcher, Policy(m, hypotheses), translate) for m in mechanisms}
        base = chrf_rest(subset, runs["verify"])
        for mechanism, run in runs.items():
            score = chrf_rest(subset, run)
            results.append({
                "lang": lang, "mechanism": mechanism, "sentences": len(subset), "required_terms": run["required"],
                "adherence": round(1 - run["missed"] / run["required"], 4) if run["required"] else None,
                "chrf_rest": round(score, 2), "chrf_rest_delta": round(score - base, 2),
                "glossary_ms_per_sentence": round(1000 * run["glossary_s"] / len(subset), 3)})
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
    args = parser.parse_args()
    mechanisms = list(dict.fromkeys(["verify", *args.mechanisms.split(",")]))
    rows = load_sentences(args.sentences)
    results = evaluate(rows, load_glossary(args.glossary), args.langs.split(","), mechanisms, args.hypotheses,
                       TRANSLATORS[args.translator])
    print(f"translator: {args.translator}; glossary: {args.glossary.name}; {len(rows)} sentences")
    print(f"{'lang':4} {'mechanism':12} {'sent':>4} {'terms':>5} {'adherence':>9} {'chrF rest':>9} {'delta':>6} {'ms/sent':>8}")
    for r in results:
        adherence = "-" if r["adherence"] is None else f"{100 * r['adherence']:.1f}%"
        print(f"{r['lang']:4} {r['mechanism']:12} {r['sentences']:>4} {r['required_terms']:>5} {adherence:>9} "
              f"{r['chrf_rest']:>9.2f} {r['chrf_rest_delta']:>+6.2f} {r['glossary_ms_per_sentence']:>8.3f}")
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
