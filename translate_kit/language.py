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


# --- language codes given by the user (--from, --to, --lang) -----------------------------------
#
# A code goes into model repo ids and output file names, so it is checked before anything else:
# first against a strict pattern (letters, digits and hyphens only: no path can come through),
# then against the IANA language subtag registry through langcodes (pure Python, no
# dependencies, the registry inside the wheel), so that "xx" is an unknown language rather than a
# model to look for. Codes are case-insensitive: `--to EN` is `en`.

CODE_PATTERN = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}"
NOT_LANGUAGES = {"und", "zxx", "mis", "mul"}  # undetermined, no linguistic content, uncoded, multiple


def check_language(value: str, name: str = "--to") -> str:
    """A language code in the lower-case form model repos and file names use; UsageError otherwise."""
    import re

    from .errors import UsageError

    code = value.strip()
    if not re.fullmatch(CODE_PATTERN, code):
        raise UsageError(f"{name} {value!r} is not a language code (two or three letters, "
                         "optionally a region or script: en, fr, pt-BR, zh-Hant)")
    import langcodes

    if code.lower().split("-")[0] in NOT_LANGUAGES or not langcodes.tag_is_valid(code):
        raise UsageError(f"unknown language '{value}' ({name}); use a language code such as en, fr, de, pt-BR")
    return code.lower()


def check_source(value: str) -> str:
    """--from: auto (detect per document) or a language code."""
    return "auto" if value.strip().lower() == "auto" else check_language(value, "--from")
