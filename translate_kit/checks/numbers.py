"""Numbers carried over: every number of the source is in the translation, and the translation
has no number of its own.

Numbers are compared by value, each read with its language's conventions as the set of values it
can mean ("1.500" in English: 1.5 and 1500); scale words, times, ordinals, month names and small
number words count as numbers. The rules, and why by hand: docs/design.md#consistency-checks
"""

from __future__ import annotations

import re

from .base import Check, base_lang

# A number as written: digit groups with thousands separators, a decimal part, or plain digits.
NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:(?:[ \u00a0\u202f]|[.,’'](?=\d{3}(?!\d)))\d{3})+(?:[.,]\d+)?(?![\w])"
                    r"|(?<![^\W_])\d+(?:[.,]\d+)*")
# Times: "10h30", "10 h", "10:30", "9.30 Uhr", "15 heures", "3 pm": an hour (12 hours apart too) and minutes.
TIME = re.compile(r"(?<![\w.,:])(\d{1,2})(?: ?h(?![^\W\d_]) ?|:)(\d{2})?(?![\w:])"
                  r"|(?<![\w.,:])(\d{1,2})(?:\.(\d{2}))?(?= ?(?:Uhr|heures?\b|horas?\b|ore\b|uur\b|[ap]\.? ?m\b\.?|o'clock))",
                  re.IGNORECASE)
DOTTED_TIME = re.compile(r"(\d{1,2})\.(\d{2})")  # "a las 9.30" where a dot cannot be a decimal mark
COMMA_DECIMAL = {"fr", "de", "es", "it", "pt", "nl", "ru", "uk", "pl", "cs", "sv", "da", "no", "nb", "fi",
                 "ro", "tr", "ca", "hu", "el", "bg", "hr", "sk", "sl", "lt", "lv", "et", "id", "vi"}

THOUSAND, MILLION, BILLION, TRILLION = 1e3, 1e6, 1e9, 1e12
# Scale words after a number, per language (lower case; a word starting with one of these counts).
SCALES = {
    "en": {"thousand": THOUSAND, "k": THOUSAND, "million": MILLION, "m": MILLION, "mn": MILLION,
           "billion": BILLION, "bn": BILLION, "b": BILLION, "trillion": TRILLION, "tn": TRILLION},
    "fr": {"mille": THOUSAND, "million": MILLION, "milliard": BILLION, "md": BILLION, "mrd": BILLION,
           "billion": TRILLION},
    "de": {"tausend": THOUSAND, "million": MILLION, "mio": MILLION, "milliarde": BILLION, "mrd": BILLION,
           "billion": TRILLION},
    "es": {"mil millones": BILLION, "mil": THOUSAND, "millón": MILLION, "millones": MILLION,
           "billón": TRILLION, "billones": TRILLION},
    "it": {"mila": THOUSAND, "milione": MILLION, "milioni": MILLION, "miliardo": BILLION, "miliardi": BILLION,
           "mld": BILLION, "mln": MILLION},
    "pt": {"mil milhões": BILLION, "mil": THOUSAND, "milhão": MILLION, "milhões": MILLION, "milhao": MILLION,
           "bilhão": BILLION, "bilhões": BILLION, "bilião": TRILLION},
    "nl": {"duizend": THOUSAND, "miljoen": MILLION, "mln": MILLION, "miljard": BILLION, "mld": BILLION,
           "biljoen": TRILLION},
}
SCALE_AFTER = re.compile(r"\s*([^\W\d_]+(?: [^\W\d_]+)?)")

MONTHS = {
    "en": "january february march april may june july august september october november december",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "januar februar märz april mai juni juli august september oktober november dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
# Small number words (cardinal and ordinal) a translation may spell where the source has digits,
# and the source may spell where the translation has digits.
WORDS = {
    "en": "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen twenty|first second third fourth fifth sixth seventh eighth "
          "ninth tenth eleventh twelfth|thirty forty fifty sixty seventy eighty ninety|hundred thousand dozen",
    "fr": "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
          "dix-sept dix-huit dix-neuf vingt|premier deuxième troisième quatrième cinquième sixième septième "
          "huitième neuvième dixième onzième douzième|trente quarante cinquante soixante soixante-dix "
          "quatre-vingt quatre-vingt-dix|cent mille douzaine",
    "de": "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn "
          "sechzehn siebzehn achtzehn neunzehn zwanzig|erste zweite dritte vierte fünfte sechste siebte "
          "achte neunte zehnte elfte zwölfte|dreißig vierzig fünfzig sechzig siebzig achtzig neunzig|"
          "hundert tausend dutzend",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
          "dieciséis diecisiete dieciocho diecinueve veinte|primero segundo tercero cuarto quinto sexto "
          "séptimo octavo noveno décimo undécimo duodécimo|treinta cuarenta cincuenta sesenta setenta "
          "ochenta noventa|cien mil docena",
    "it": "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici "
          "quindici sedici diciassette diciotto diciannove venti|primo secondo terzo quarto quinto sesto "
          "settimo ottavo nono decimo undicesimo dodicesimo|trenta quaranta cinquanta sessanta settanta "
          "ottanta novanta|cento mille dozzina",
    "pt": "zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze dezesseis "
          "dezessete dezoito dezenove vinte|primeiro segundo terceiro quarto quinto sexto sétimo oitavo "
          "nono décimo décimo-primeiro décimo-segundo|trinta quarenta cinquenta sessenta setenta oitenta "
          "noventa|cem mil dúzia",
    "nl": "nul een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien "
          "zestien zeventien achttien negentien twintig|eerste tweede derde vierde vijfde zesde zevende "
          "achtste negende tiende elfde twaalfde|dertig veertig vijftig zestig zeventig tachtig negentig|"
          "honderd duizend dozijn",
}
EXTRA_WORDS = {  # words for round figures: "une cinquantaine" = "about 50", "half" = 0.5 or 50 (%)
    "en": {"both": (2,), "twice": (2,), "couple": (2,), "pair": (2,), "double": (2,), "thrice": (3,), "triple": (3,),
           "half": (0.5, 50), "noon": (12,), "midnight": (12, 0), "dozens": (12,), "hundreds": (100,),
           "thousands": (1000,), "millions": (MILLION,), "billions": (BILLION,), "quarter": (0.25, 25, 15)},
    "fr": {"dizaine": (10,), "douzaine": (12,), "quinzaine": (15,), "vingtaine": (20,), "trentaine": (30,),
           "quarantaine": (40,), "cinquantaine": (50,), "soixantaine": (60,), "centaine": (100,),
           "milliers": (1000,), "moitié": (0.5, 50), "midi": (12,), "minuit": (12, 0), "quart": (0.25, 25, 15)},
    "de": {"hälfte": (0.5, 50), "halb": (0.5, 50), "hunderte": (100,), "tausende": (1000,), "dutzende": (12,),
           "mittag": (12,), "mitternacht": (12, 0), "viertel": (0.25, 25, 15)},
    "es": {"mitad": (0.5, 50), "decena": (10,), "veintena": (20,), "centenar": (100,), "centenares": (100,),
           "miles": (1000,), "mediodía": (12,), "medianoche": (12, 0), "cuarto": (0.25, 25, 15)},
    "it": {"metà": (0.5, 50), "decina": (10,), "ventina": (20,), "centinaia": (100,), "migliaia": (1000,),
           "mezzogiorno": (12,), "mezzanotte": (12, 0)},
    "pt": {"metade": (0.5, 50), "dezena": (10,), "centena": (100,), "milhares": (1000,), "meio-dia": (12,),
           "meia-noite": (12, 0)},
    "nl": {"helft": (0.5, 50), "half": (0.5, 50), "tiental": (10,), "honderden": (100,), "duizenden": (1000,),
           "middag": (12,), "middernacht": (12, 0)},
}
# Number words a source sentence may use for something else ("secondo" = according to, "cent" in
# "pour cent", "sei" = are, "cuarto" = room): not required in the translation.
NOT_ALWAYS_NUMBERS = {"fr": {"un", "une", "cent", "premier", "neuf", "mille"}, "de": {"ein", "eins", "eine", "acht", "erste"},
                      "es": {"uno", "una", "cuarto", "segundo", "mil", "cien", "primero"},
                      "it": {"uno", "sei", "secondo", "primo", "quarto", "mille", "cento"},
                      "pt": {"um", "uma", "segundo", "primeiro", "quarto", "mil", "cem"}, "nl": {"een", "eerste"},
                      "en": {"one", "second", "first", "quarter", "half", "both", "double", "couple", "pair"}}
ROMAN = re.compile(r"\b(?=[MDCLXVI]{2,}\b|[MDCLXVI]+(?:e|er|ème|º|°)\b)(M{0,3})(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
SMALL = 10  # a translation's own number under this is not reported (dates and times write them freely)


def _word_values(lang: str) -> dict[str, tuple[float, ...]]:
    groups = WORDS.get(lang, "").split("|")
    table: dict[str, tuple[float, ...]] = {}
    if len(groups) == 4:
        for i, word in enumerate(groups[0].split()):
            table[word] = (i,)
        for i, word in enumerate(groups[1].split(), start=1):
            table[word] = (i,)
        for i, word in enumerate(groups[2].split()):
            table[word] = ((3 + i) * 10,) if lang != "fr" else ((30, 40, 50, 60, 70, 80, 90)[i],)
        for word, value in zip(groups[3].split(), (100, 1000, 12)):
            table[word] = (value,)
    if lang == "es":  # veintiuno ... veintinueve are one word
        table.update({"veinti" + w.replace("é", "e").replace("ú", "u"): (20 + v[0],) for w, v in list(table.items())
                      if 1 <= v[0] <= 9 and w not in ("una", "primero")})
        table.update({"veintidós": (22,), "veintitrés": (23,), "veintiséis": (26,)})
    if lang == "it":  # ventuno ... ventinove
        units = "uno due tre quattro cinque sei sette otto nove".split()
        table.update({("vent" if w[0] in "uo" else "venti") + w: (21 + i,) for i, w in enumerate(units)})
    table.update(EXTRA_WORDS.get(lang, {}))
    for i, month in enumerate(MONTHS.get(lang, "").split(), start=1):
        table[month] = (i,)
    return table


_TABLES: dict[str, dict] = {}


def word_values(lang: str) -> dict[str, tuple[float, ...]]:
    if lang not in _TABLES:
        _TABLES[lang] = _word_values(lang)
    return _TABLES[lang]


def _readings(token: str, lang: str) -> set[float]:
    """The values a written number can mean in `lang`."""
    compact = re.sub(r"[ \u00a0\u202f’']", "", token)
    seps = re.findall(r"[.,]", compact)
    if not seps:
        return {float(compact)}
    decimal_comma = lang in COMMA_DECIMAL
    values = set()
    if len(set(seps)) == 2:  # both: the last one is the decimal mark
        last = compact[max(compact.rfind("."), compact.rfind(","))]
        return {_value(compact, last)}
    mark = seps[0]
    groups = re.split(r"[.,]", compact)
    if len(seps) > 1:  # "10.000.000": thousands
        return {_value(compact, "")} if all(len(g) == 3 for g in groups[1:]) else {_value(compact.replace(mark, "", len(seps) - 1), mark)}
    if len(groups[1]) == 3:  # "1.500" or "1,500": ambiguous; the language's convention first, both kept
        values.add(_value(compact, ""))
        if (mark == ",") == decimal_comma:
            values.add(_value(compact, mark))
        return values
    return {_value(compact, mark)}


def _value(text: str, decimal: str) -> float:
    other = {".", ","} - {decimal}
    for sep in other:
        text = text.replace(sep, "")
    return round(float(text.replace(decimal, ".") if decimal else text), 6)


def _scale(text: str, end: int, lang: str) -> float:
    found = SCALE_AFTER.match(text, end)
    if not found:
        return 1.0
    words = found.group(1).lower()
    table = SCALES.get(lang, {})
    for key in sorted(table, key=len, reverse=True):
        if words == key or words.startswith(key + " ") or (len(key) > 3 and words.split()[0].startswith(key)):
            return table[key]
    return 1.0


def numbers(text: str, lang: str) -> list[tuple[str, set[float]]]:
    """Each number written in `text` with the values it can mean, in order (a time is two: its
    hour and its minutes)."""
    lang = base_lang(lang)
    found: list[tuple[str, set[float]]] = []
    times = {}
    for t in TIME.finditer(text):
        hour, minute = (t.group(1), t.group(2)) if t.group(1) else (t.group(3), t.group(4))
        if int(hour) <= 24 and (not minute or int(minute) < 60):
            times[t.start()] = (t.end(), hour, minute)
    skip_to = -1
    for m in NUMBER.finditer(text):
        if m.start() < skip_to:
            continue
        token = m.group(0)
        dotted = DOTTED_TIME.fullmatch(token) if lang in COMMA_DECIMAL else None
        if m.start() in times or (dotted and int(dotted.group(1)) <= 24 and int(dotted.group(2)) < 60):
            end, hour, minute = times.get(m.start(), (m.end(), *(dotted.groups() if dotted else ("0", None))))
            found += _time(hour, minute)
            skip_to = end
            continue
        values = _readings(token, lang)
        scale = _scale(text, m.end(), lang)
        if scale != 1.0:
            values |= {round(v * scale, 3) for v in values}
        found.append((token, values))
    return found


def _time(hour: str, minute: str | None) -> list[tuple[str, set[float]]]:
    h = int(hour)
    out = [(hour, {float(h), float(h - 12 if h > 12 else h + 12)})]
    if minute and int(minute):
        out.append((minute, {float(int(minute))}))
    return out


NUMERIC_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b")


def value_pool(text: str, lang: str, months: bool = False) -> set[float]:
    """Every value `text` writes, in digits or words, and the parts of its numbers ("10:30" gives
    10.5, 10 and 30), so that a number of the other side can be found loosely. Month names count
    as their numbers only when asked (`months`: the other side writes a date in digits, 26/02):
    otherwise "5 May" would match a source's 8 for May's 5."""
    lang = base_lang(lang)
    pool: set[float] = set()
    for token, values in numbers(text, lang):
        pool |= values
        pool |= {float(p) for p in re.findall(r"\d+", token)}
    words = word_values(lang)
    month_names = set(MONTHS.get(lang, "").split())
    for word in WORD.findall(text.lower()):
        if word in month_names and not months:
            continue
        if word in words:
            pool.update(words[word])
        elif "-" in word:  # twenty-five, dix-sept
            parts = [words.get(p, (None,))[0] for p in word.split("-")]
            if all(p is not None for p in parts):
                pool.add(float(sum(parts)))
            for p in parts:
                if p is not None:
                    pool.add(float(p))
        elif word.endswith("s") and word[:-1] in words:  # millions, milliards
            pool.update(words[word[:-1]])
    for roman in ROMAN.finditer(text):
        if roman.group(0):
            pool.add(float(_roman(roman.group(0))))
    return pool


def word_numbers(text: str, lang: str) -> list[tuple[str, set[float]]]:
    """The numbers `text` spells (two and more, "vingt-quatre" as 24) that a translation must carry
    in digits or words; words that are not always numbers (NOT_ALWAYS_NUMBERS) are left out."""
    lang = base_lang(lang)
    table, skip = word_values(lang), NOT_ALWAYS_NUMBERS.get(lang, set()) | set(MONTHS.get(lang, "").split())
    found = []
    for word in WORD.findall(text.lower()):
        parts = word.split("-")
        if word in skip or word in EXTRA_WORDS.get(lang, {}) or not all(p in table for p in parts):
            continue
        value = sum(table[p][0] for p in parts)
        if value >= 2:
            found.append((word, {float(value)}))
    return found


def _roman(text: str) -> int:
    values = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
    total = 0
    for a, b in zip(text, text[1:] + " "):
        total += -values[a] if values.get(b, 0) > values[a] else values[a]
    return total


def check_numbers(source: str, target: str, src: str, tgt: str) -> list[Check]:
    """`number`: a source number the translation lacks (naming the translation's own numbers, when
    it has some the source has not: 80 became 8); `number-added`: a translation number of 10 or
    more that the source has nowhere (in digits or words), when nothing is missing."""
    source_numbers = numbers(source, src)
    target_numbers = numbers(target, tgt)
    if not source_numbers and not target_numbers and not word_numbers(source, src):
        return []
    target_pool = value_pool(target, tgt, months=bool(NUMERIC_DATE.search(source)))
    missing = [token for token, values in source_numbers + word_numbers(source, src) if not values & target_pool]
    source_pool = value_pool(source, src, months=bool(NUMERIC_DATE.search(target)))
    added = [token for token, values in target_numbers if not values & source_pool]
    if missing:
        instead = f" (it has {', '.join(added)})" if added else ""
        return [Check("number", f"number {token} not in the translation{instead}") for token in missing]
    return [Check("number-added", f"number {token} not in the source") for token, values in target_numbers
            if token in added and min(values) >= SMALL]
