"""Extractive summaries: the most central sentences of a document, in its own language.

TextRank (Mihalcea & Tarau, 2004): PageRank over a graph of the sentences' TF-IDF cosine
similarities; the best-scored sentences are kept, in document order. No model, no download, any
language whose words \\w+ finds. Why numpy rather than a library: docs/design.md#other-choices
"""

from __future__ import annotations

import re
from collections.abc import Sequence

WORD = re.compile(r"[^\W\d_]{2,}")  # letters only, 2+ long: drops l', d', numbers, punctuation
DAMPING = 0.85  # PageRank's usual value: 15% chance of jumping to any sentence


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def tfidf(sentences: Sequence[str]):
    """One L2-normalised row per sentence: sublinear term frequency x smoothed IDF."""
    import numpy as np

    tokens = [words(s) for s in sentences]
    vocab = {w: i for i, w in enumerate(sorted({w for t in tokens for w in t}))}
    matrix = np.zeros((len(sentences), len(vocab)))
    for row, ws in enumerate(tokens):
        for w in ws:
            matrix[row, vocab[w]] += 1
    matrix = np.where(matrix > 0, 1 + np.log(np.maximum(matrix, 1)), 0)
    document_frequency = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(sentences)) / (1 + document_frequency)) + 1
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def pagerank(weights, damping: float = DAMPING, tol: float = 1e-9, max_iter: int = 200):
    """Stationary scores of a weighted graph; a sentence sharing no word spreads evenly."""
    import numpy as np

    n = weights.shape[0]
    totals = weights.sum(axis=1, keepdims=True)
    transition = np.where(totals > 0, weights / np.where(totals == 0, 1, totals), 1.0 / n)
    scores = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        updated = (1 - damping) / n + damping * transition.T @ scores
        if np.abs(updated - scores).sum() < tol:
            return updated
        scores = updated
    return scores


def sentence_scores(sentences: Sequence[str]):
    """TextRank centrality of each sentence (they sum to 1)."""
    import numpy as np

    vectors = tfidf(sentences)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    return pagerank(similarity)


def central_sentences(sentences: Sequence[str], count: int) -> list[int]:
    """Indices of the `count` most central sentences, in document order. Ties go to the earlier one."""
    if count >= len(sentences):
        return list(range(len(sentences)))
    scores = sentence_scores(sentences)
    ranked = sorted(range(len(sentences)), key=lambda i: (-round(float(scores[i]), 12), i))
    return sorted(ranked[: max(0, count)])


# Sentences kept per --length: a news article's lead is typically 3-5 sentences.
SENTENCES = {"short": 3, "medium": 5, "long": 8}
