"""Per-sentence consistency checks between a source and its translation, and one verdict.

One small module per rule (numbers, names, untranslated, length, attribution, marks, terms), each
a pure, model-free function of (source, target, source language, target language); quality.problem
adds the degenerate-output findings, terms.py the glossary terms a translation lacks, and verdict.py
turns the findings into `ok`, `check` or `doubt`. Why these rules: docs/design.md#consistency-checks
"""

from .base import Check, Verdict
from .verdict import assess, assess_document, assess_segments

__all__ = ["Check", "Verdict", "assess", "assess_document", "assess_segments"]
