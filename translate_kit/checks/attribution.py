"""Who said it: a source that attributes its words ("a annoncé le ministère", "selon la police",
"teilte die GDL mit", "según el INE") needs a translation that does too ("said", "according to").

Verbs that also mean something else in news (confirmer: a court upholds; berichten: describe)
are left out. News translation drops these clauses silently: the sentence still reads well, and the claim
loses its source. Speech verbs and "according to" words per language (lower case, matched on
word boundaries); the translation side is known for English and French, the other targets are
not checked.
"""

from __future__ import annotations

import re

from .base import Check, base_lang

MARKERS = {
    "fr": r"(?:a|ont|avait|avaient|aurait) (?:déclaré|indiqué|annoncé|précisé|affirmé|expliqué|ajouté|souligné|assuré|"
          r"rapporté|dit|répété|insisté|averti|prévenu|martelé|estimé|jugé|réagi|rappelé|dénoncé)|selon|d['’]après|"
          r"a-t-(?:il|elle)|ont-(?:ils|elles)|(?:indique|précise|affirme|déclare|explique|ajoute|souligne|assure|estime|"
          r"rapporte|annonce|rappelle)(?:nt)?",
    "de": r"sagte|sagten|sagt|erklärte|erklärten|teilte|teilten|berichtete|hieß es|heißt es|"
          r"nach angaben|laut|zufolge|betonte|warnte",
    "es": r"dijo|dijeron|afirmó|explicó|señaló|indicó|aseguró|añadió|informó|anunció|declaró|precisó|destacó|subrayó|"
          r"advirtió|apuntó|manifestó|reconoció|según",
    "it": r"ha (?:detto|dichiarato|spiegato|affermato|annunciato|aggiunto|sottolineato|precisato|riferito)|secondo|"
          r"riferisce|spiega|afferma|dichiara",
    "pt": r"disse|afirmou|explicou|declarou|anunciou|acrescentou|informou|segundo|de acordo com|sublinhou|adiantou",
    "nl": r"zei|zegt|zeiden|verklaarde|meldde|melden|volgens|liet weten|aldus",
    "en": r"said|says|say|told|tells|according to|announced|announces|stated|added|explained|reported|noted|indicated|"
          r"stressed|claimed|insisted|warned|confirmed|specified|pointed out|declared|affirmed|asserted|argued|"
          r"believes?|believed|considers?|considered|called|calls|judged|feels|felt|thinks|thought|estimates?|estimated|"
          r"quoted|cited|statement|wrote|writes|tweeted|posted|acknowledged|admitted|recalled|reacted|denounced|"
          r"assured|reiterated|repeated|emphasi[sz]ed|underlined|revealed|source[sd]?|quoting|via",
}
PATTERNS = {lang: re.compile(rf"(?<![^\W\d_])(?:{words})(?![^\W\d_])", re.IGNORECASE) for lang, words in MARKERS.items()}


def check_attribution(source: str, target: str, src: str, tgt: str) -> list[Check]:
    """`attribution`: the source says who said it, the translation does not."""
    src_pattern, tgt_pattern = PATTERNS.get(base_lang(src)), PATTERNS.get(base_lang(tgt))
    if src_pattern is None or tgt_pattern is None or base_lang(src) == base_lang(tgt):
        return []
    found = src_pattern.search(source)
    if found and not tgt_pattern.search(target):
        return [Check("attribution", f"who said it (\"{found.group(0)}\") is not in the translation")]
    return []
