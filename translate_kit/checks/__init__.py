"""Per-sentence consistency checks between a source and its translation, and one verdict.

A reader of a side-by-side translation needs to know which sentences to compare with the
original. The silent errors of machine translation in news are a number or date changed or
dropped, a name dropped or mangled, a sentence left (half) in the source language, a clause
dropped, an invented continuation. Each rule here looks for one of them, model-free and in
microseconds: pure functions of (source, target, source language, target language), one small
module per rule:

- numbers.py      numbers, amounts, percentages, years, dates and times carried over
- names.py        names, acronyms, URLs, e-mail addresses, @handles, #hashtags carried over
- untranslated.py target still in the source language, or long runs of source words copied
- length.py       content dropped or added (length against the pair's normal ratio, repeated tails)
- attribution.py  who said it: "selon la police", "a annoncé le ministère" carried over
- marks.py        quotation marks and brackets balanced like the source's
- terms.py        glossary terms (--glossary) the translation lacks
- degenerate      quality.problem (empty, looping, far too long or short), reused as it is

verdict.py turns the findings (and, later, the model's score) into `ok`, `check` or `doubt`.
"""

from .base import Check, Verdict
from .verdict import assess, assess_document, assess_segments

__all__ = ["Check", "Verdict", "assess", "assess_document", "assess_segments"]
