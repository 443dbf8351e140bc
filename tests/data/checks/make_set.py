"""Builds the evaluation set of the consistency checks from the hand-made pairs.

pairs.<src>-en.tsv: one news sentence and a good English translation a line (tab between). The
clean pairs are written as tk jsonl (clean.jsonl), and for each kind of error a corrupted copy of
the targets that have room for it (number.jsonl, name.jsonl, ...): a number changed or cut, a
name removed, the sentence left in the source language, half of it left so, a clause dropped, a
tail repeated. The corruptions are chosen from the English target alone (its capitalised words,
its digits, its commas), never with translate_kit's own rules, so the set does not grade the
checks by their own reading. Deterministic: run `python tests/data/checks/make_set.py` again to
rebuild the same files.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).parent
KINDS = ("number", "name", "untranslated", "partly", "dropped", "repeat")
NOT_NAMES = set("""I Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
June July August September October November December The A An French German Spanish Italian Ukrainian
Russian Soviet European Chinese American British Moroccan Israeli Argentine Brazilian Bavarian Basque Greek
Dutch Portuguese Polish Swiss Austrian Belgian Mexican Canadian Japanese Western Eastern""".split())
DIGITS = re.compile(r"\d+(?:[.,:]\d+)*")
CAPITALISED = re.compile(r"(?:(?<=\s)|(?<=^))(?:[A-ZÀ-Þ][\w'’.-]*|@\w+|#\w+)(?:\s+(?:[A-ZÀ-Þ][\w'’.-]*|de|von|der))*(?:\s+[A-ZÀ-Þ][\w'’-]*)?")
CLAUSE_CUT = re.compile(r", | and | but | which | who | after | because | while ")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:)])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    text = re.sub(r"^[,;:]\s*", "", text)
    text = re.sub(r"\(\s*\)", "", text)
    return text[0].upper() + text[1:] if text else text


def change_number(source: str, target: str, rng: random.Random) -> str | None:
    found = [m for m in DIGITS.finditer(target) if re.sub(r"\D", "", m.group(0))[:2] in re.sub(r"\D", "", source)]
    if not found:
        return None
    m = rng.choice(found)
    token = m.group(0)
    digits = [i for i, c in enumerate(token) if c.isdigit()]
    lose = len(digits) >= 2 and rng.random() < 0.4
    new = (token[:digits[-1]] + token[digits[-1] + 1:]).rstrip(".,:") if lose else token
    if lose and _value(new) != _value(token):  # a digit lost: 80 -> 8 (not 1.80 -> 1.8: the same number)
        pass
    else:  # a digit changed: 80 -> 90
        while _value(new) == _value(token):
            i = rng.choice(digits)
            new = token[:i] + str((int(token[i]) + rng.randint(1, 8)) % 10) + token[i + 1:]
            if new[0] == "0" and len(digits) > 1:
                new = "1" + new[1:]
    return target[: m.start()] + new + target[m.end():]


def _value(token: str) -> float:
    """An English-written number's value (the targets are English)."""
    return float(token.replace(",", "").replace(":", "."))


def remove_name(source: str, target: str, rng: random.Random) -> str | None:
    folded = fold(source)
    found = []
    for m in CAPITALISED.finditer(target):
        words = [w for w in m.group(0).split() if w.strip(".,'’s") not in NOT_NAMES and w[0].isupper() or w[0] in "@#"]
        if m.start() == 0 or not words:
            continue
        if any(fold(w.strip("'’s."))[:4] in folded for w in words if len(w) > 1):
            found.append(m)
    if not found:
        return None
    m = rng.choice(found)
    return tidy(target[: m.start()] + target[m.end():])


def drop_clause(source: str, target: str, rng: random.Random) -> str | None:
    cuts = [0] + [m.start() for m in CLAUSE_CUT.finditer(target)] + [len(target.rstrip(".!?\"”»"))]
    spans = [(a, b) for a, b in zip(cuts, cuts[1:]) if a > 0 and (b - a) >= 0.25 * len(target) and len(target[a:b].split()) >= 4]
    if not spans:
        return None
    a, b = rng.choice(spans)
    return tidy(target[:a] + target[b:])


def half_untranslated(source: str, target: str, rng: random.Random) -> str | None:
    t, s = target.split(), source.split()
    if len(t) < 8 or len(s) < 8:
        return None
    return " ".join(t[: len(t) // 2] + s[len(s) // 2:])


def repeat_tail(source: str, target: str, rng: random.Random) -> str | None:
    words = target.rstrip(".!?").split()
    if len(words) < 8:
        return None
    k = rng.randint(4, 6)
    return target.rstrip(".!?") + ", " + " ".join(words[-k:]) + target[len(target.rstrip(".!?")):]


CORRUPT = {"number": change_number, "name": remove_name, "untranslated": lambda s, t, r: s,
           "partly": half_untranslated, "dropped": drop_clause, "repeat": repeat_tail}


def pairs() -> list[tuple[str, str, str, int]]:
    out = []
    for path in sorted(HERE.glob("pairs.*-en.tsv")):
        src = path.name.split(".")[1].split("-")[0]
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            source, target = line.split("\t")
            out.append((src, source, target, i))
    return out


def record(src: str, i: int, source: str, target: str) -> dict:
    return {"doc": f"{src}-en", "para": i, "seg": 0, "kind": "text", "src_lang": src, "tgt_lang": "en",
            "source": source, "target": target, "space_after": "\n\n", "origin": "human", "flag": None}


def main() -> None:
    rng = random.Random(24)
    rows = pairs()
    files = {"clean": [record(src, i, s, t) for src, s, t, i in rows]}
    for kind in KINDS:
        files[kind] = []
        for src, s, t, i in rows:
            bad = CORRUPT[kind](s, t, rng)
            if bad and bad != t:
                files[kind].append(record(src, i, s, bad))
    for name, records in files.items():
        with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        print(f"{name}: {len(records)} pairs")


if __name__ == "__main__":
    main()
