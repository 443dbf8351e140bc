"""Language detection for `--from auto`.

py3langid (a maintained fork of langid.py) ships its model inside the wheel (4.5 MB, needs only
numpy), so detection never downloads anything; it classifies a seed article in milliseconds.
lingua-language-detector was the other candidate: more accurate on very short texts, but 96 MB
installed and slower to load; whole articles are long enough for langid.
"""

from __future__ import annotations

SAMPLE_CHARS = 4000


def sample_key(text: str) -> str:
    """Cache key of a detection: the sample the detector reads, and the detector's version."""
    import hashlib

    return hashlib.sha256(f"py3langid-0.4:{text[:SAMPLE_CHARS]}".encode()).hexdigest()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (from its first few thousand characters)."""
    import py3langid

    lang, _score = py3langid.classify(text[:SAMPLE_CHARS])
    return lang
