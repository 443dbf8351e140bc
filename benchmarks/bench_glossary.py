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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    texts = sentences(args.corpus)
    terms = glossary_terms(args.entries, texts)
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
