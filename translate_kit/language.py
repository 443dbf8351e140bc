"""Language detection for `--from auto`, and a check of `--from` against the text.

py3langid (a maintained fork of langid.py) ships its model inside the wheel (4.5 MB, needs only
numpy), so detection never downloads anything; it classifies a seed article in milliseconds.
lingua-language-detector was the other candidate: more accurate on very short texts, but 96 MB
installed and slower to load; whole articles are long enough for langid.

The language is settled before a document is segmented: sentence rules are per language.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from functools import lru_cache

SAMPLE_CHARS = 4000
SURE = 0.95  # probability above which a detection that contradicts --from is worth a warning
MIN_SAMPLE = 200  # characters; shorter texts are too short to contradict anyone
WARNING_START = "--from "


def sample_key(text: str, purpose: str = "") -> str:
    """Cache key of a detection: the sample the detector reads, and the detector's version."""
    import hashlib

    return hashlib.sha256(f"py3langid-0.4{purpose}:{text[:SAMPLE_CHARS]}".encode()).hexdigest()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (from its first few thousand characters)."""
    return _identifier().classify(text[:SAMPLE_CHARS])[0]


# --- language codes given by the user (--from, --to, --lang) -----------------------------------
#
# A code goes into model repo ids and output file names, so it is checked before anything else:
# first against a strict pattern (letters, digits and hyphens only: no path can come through),
# then against the IANA language subtag registry through langcodes (pure Python, no
# dependencies, the registry inside the wheel), so that "xx" is an unknown language rather than a
# model to look for. Codes are case-insensitive: `--to EN` is `en`.

CODE_PATTERN = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}"
NOT_LANGUAGES = {"und", "zxx", "mis", "mul"}  # undetermined, no linguistic content, uncoded, multiple
# The two-letter language subtags of the IANA registry that are not deprecated (langcodes' copy of
# it, 185 codes), so that a plain `--to en` needs no import of langcodes' tables: about 0.2 s of
# every run (tests/test_hostile_input.py checks this set against langcodes).
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie
ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg
mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro
ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw
ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())


def check_language(value: str, name: str = "--to") -> str:
    """A language code in the lower-case form model repos and file names use; UsageError otherwise."""
    import re

    from .errors import UsageError

    code = value.strip()
    if not re.fullmatch(CODE_PATTERN, code):
        raise UsageError(f"{name} {value!r} is not a language code (two or three letters, "
                         "optionally a region or script: en, fr, pt-BR, zh-Hant)")
    if code.lower() in ISO_639_1:  # the common case, without importing langcodes' tables (~0.2 s)
        return code.lower()
    import langcodes

    if code.lower().split("-")[0] in NOT_LANGUAGES or not langcodes.tag_is_valid(code):
        raise UsageError(f"unknown language '{value}' ({name}); use a language code such as en, fr, de, pt-BR")
    return code.lower()


def check_source(value: str) -> str:
    """--from: auto (detect per document) or a language code."""
    return "auto" if value.strip().lower() == "auto" else check_language(value, "--from")

def sure_language(text: str) -> str:
    """The text's language when the detector is sure of it (probability >= SURE), else ''."""
    sample = text[:SAMPLE_CHARS]
    if len(sample.strip()) < MIN_SAMPLE:
        return ""
    lang, probability = _identifier().classify(sample)
    return lang if probability >= SURE else ""


def rank_languages(text: str) -> list[tuple[str, float]]:
    """Every language with its probability, best first, from the text's first few thousand
    characters (`tk serve`'s /detect). The server's threads share the one identifier."""
    with _identifier_lock:
        return _identifier().rank(text[:SAMPLE_CHARS])


_identifier_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def source_language(doc, src: str, cache=None) -> str:
    """A document's language: `src` (--from), or detected when it is "auto" (remembered in `cache`,
    so a re-run loads no detector). A `src` that a sure detection contradicts stays the language,
    with a warning on the document (its report and output headers show it)."""
    if src == "auto":
        return _remembered(cache, sample_key(doc.head), lambda: detect_language(doc.head))
    detected = _remembered(cache, sample_key(doc.head, ":sure"), lambda: sure_language(doc.head))
    if detected and _base(detected) != _base(src):
        warning = f"{WARNING_START}{src}, but the text looks like {detected}: segmented and translated as {src}"
        if warning not in doc.warnings:
            doc.warnings.append(warning)
    return src


def language_warnings(doc) -> list[str]:
    """The warnings source_language put on `doc` (for reports that do not show all of its warnings)."""
    return [w for w in getattr(doc, "warnings", []) if w.startswith(WARNING_START)]


def _remembered(cache, key: str, detect) -> str:
    found = cache.get_language(key) if cache is not None else None
    if found is None:
        found = detect()
        if cache is not None:
            cache.put_language(key, found)
    return found


def _base(lang: str) -> str:
    return lang.replace("_", "-").split("-")[0].lower()


_remembering = threading.local()  # the log_odds answers of the block `remembering(cache)` runs, per thread


class _Odds:
    """log_odds answers read from and written to a cache's languages table: a cached re-run then
    loads no detector (loading it takes ~0.5 s, more than the rest of a warm run)."""

    def __init__(self, cache):
        self.cache, self.new = cache, {}

    def get(self, key: str) -> str | None:
        return self.new.get(key) or self.cache.get_language(key)

    def flush(self) -> None:
        rows, self.new = list(self.new.items()), {}
        if hasattr(self.cache, "put_languages"):
            self.cache.put_languages(rows)  # one transaction
        else:
            for key, value in rows:
                self.cache.put_language(key, value)


@contextmanager
def remembering(cache):
    """Inside the block, log_odds remembers its answers in `cache` (None: nothing remembered)."""
    if cache is None:
        yield
        return
    previous, _remembering.odds = getattr(_remembering, "odds", None), _Odds(cache)
    try:
        yield
    finally:
        odds, _remembering.odds = _remembering.odds, previous
        odds.flush()


def log_odds(text: str, lang: str, other: str) -> float:
    """log_odds_detected, remembered in the cache of a `remembering(cache)` block."""
    odds = getattr(_remembering, "odds", None)
    if odds is None:
        return log_odds_detected(text, lang, other)
    import hashlib

    key = hashlib.sha256(f"py3langid-0.4:odds:{_base(lang)}:{_base(other)}:{text}".encode()).hexdigest()
    found = odds.get(key)
    if found is None:
        found = odds.new[key] = repr(log_odds_detected(text, lang, other))
    return float(found)


def log_odds_detected(text: str, lang: str, other: str) -> float:
    """How much likelier `text` is in `lang` than in `other` (natural log; > 0: `lang`), for the
    checks of a translation left in its source language (checks/untranslated.py). The two languages
    are compared alone: a short English sentence is never mistaken for Pidgin or Scots there.
    0.0 when the detector does not know one of them."""
    identifier = _identifier()
    classes = list(identifier.nb_classes)
    a, b = _base(lang), _base(other)
    if a not in classes or b not in classes:
        return 0.0
    encoded = identifier._encode(text)
    scores = identifier._raw_score(encoded)  # log-likelihoods per class; rank() would softmax them to 0
    # divided by sqrt(bytes) as py3langid does before its softmax, so that one threshold suits
    # short and long sentences
    return float(scores[classes.index(a)] - scores[classes.index(b)]) / math.sqrt(len(encoded) or 1)
