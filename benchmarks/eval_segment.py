"""Sentence-boundary precision, recall and F1 per language on tests/data/segmentation/, for tk and
for independent segmenters, on the dev half (the rules were tuned on it) and the held-out half.

    pip install -e ".[eval]" && python benchmarks/eval_segment.py

Segmenters compared:
- tk: translate_kit.segment.split_sentences with the document's language;
- tk before: the same function as it was before issue 14 (commit 7d116b0, read from git), which
  used French rules whatever the language;
- sentencex: the library alone, with the language (what tk builds on);
- spaCy sentencizer: spaCy's rule-based sentencizer on a blank pipeline of the language (no model).

Scoring is tests/test_segment_eval.py's. Writes JSON to benchmarks/results/ and prints a Markdown table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
RESULTS = Path(__file__).resolve().parent / "results"

from test_segment_eval import LANGS, load_set, score  # noqa: E402

from translate_kit.segment import split_sentences  # noqa: E402


def before(commit: str = "7d116b0"):
    source = subprocess.run(["git", "show", f"{commit}:translate_kit/segment.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("translate_kit._segment_before")
    module.__package__ = "translate_kit"
    sys.modules[module.__name__] = module
    exec(compile(source, f"{commit}:segment.py", "exec"), module.__dict__)
    return lambda text, lang: module.split_sentences(text)  # French rules: what every caller got


def sentencex_alone(text: str, lang: str) -> list[str]:
    from sentencex import segment

    return list(segment(lang, text))


def spacy_sentencizer():
    import spacy

    pipelines = {}

    def split(text: str, lang: str) -> list[str]:
        if lang not in pipelines:
            nlp = spacy.blank(lang)
            nlp.add_pipe("sentencizer")
            pipelines[lang] = nlp
        return [s.text_with_ws for s in pipelines[lang](text).sents]

    return split


def main() -> None:
    import spacy
    import sentencex  # noqa: F401

    segmenters = {"tk": split_sentences, "tk before": before(), "sentencex": sentencex_alone,
                  "spaCy sentencizer": spacy_sentencizer()}
    rows = []
    for lang in LANGS:
        for half in ("dev", "test"):
            paragraphs = load_set(lang, half)
            for name, split in segmenters.items():
                result = score(paragraphs, lambda text: split(text, lang))
                rows.append({"lang": lang, "half": half, "segmenter": name, **{k: round(v, 4) if isinstance(v, float) else v
                                                                               for k, v in result.items()}})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"segment-eval-{stamp}.json"
    out.write_text(json.dumps({"date": stamp, "spacy": spacy.__version__, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    names = list(segmenters)
    print("| language | half | gold boundaries | " + " | ".join(f"{n} F1" for n in names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for lang in LANGS:
        for half in ("dev", "test"):
            cells = {r["segmenter"]: r for r in rows if r["lang"] == lang and r["half"] == half}
            print(f"| {lang} | {'dev (tuned on)' if half == 'dev' else 'held out'} | {cells['tk']['gold']} | "
                  + " | ".join(f"{cells[n]['f1']:.3f}" for n in names) + " |")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
