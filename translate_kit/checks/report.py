"""What `tk check` reports: every pair's verdict, counted per document."""

from __future__ import annotations

from .base import VERDICTS
from .files import Pairs
from .verdict import assess_document


def check_document(doc: Pairs, scores: list[float | None] | None = None) -> dict:
    """One document's report: counts per verdict and, in file order, each pair with its verdict;
    `scores` (`tk check --score`: the model's, by forced decoding) take part in the verdicts."""
    verdicts = assess_document([(s, t) for _, s, t in doc.pairs], doc.src_lang, doc.tgt_lang, scores)
    scores = scores if scores is not None else [None] * len(doc.pairs)
    segments = [{"id": ident, "source": s, "target": t, **v.to_dict(), "score": score}
                for (ident, s, t), v, score in zip(doc.pairs, verdicts, scores)]
    counts = {name: sum(1 for v in verdicts if v.verdict == name) for name in VERDICTS}
    return {"file": doc.file, "id": doc.doc, "src_lang": doc.src_lang, "tgt_lang": doc.tgt_lang,
            "segments_total": len(segments), "counts": counts, "segments": segments}
