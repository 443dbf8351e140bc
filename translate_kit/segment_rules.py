"""Per-language sentence rules: one table per language, read by segment.py.

Adding a language is adding one `Table` to `TABLES` (no code); a language with no table gets the
generic rules and sentencex's own. The fields (never_end, may_end, continuations, months,
ordinal_before, words) and how entries are written: docs/design.md#sentence-rules
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Table:
    never_end: str = ""
    may_end: str = ""
    continuations: str = ""
    months: str = ""
    ordinal_before: str = ""
    words: str = ""


TABLES: dict[str, Table] = {
    "fr": Table(
        never_end="M., MM., Mme., Mlle., Dr., Drs., Pr., Prof., Me., Mgr., St., Ste., Jr., Sr., Gén., Gal., Col., Cdt., "
                  "Lt., Cne., Adj., cf., p., pp., vol., art., chap., av., apr., J.-C., réf., tél., "
                  "janv., févr., avr., juil., sept., oct., nov., déc., p. ex., c.-à-d.",
        may_end="etc., av. J.-C., apr. J.-C., Inc., Ltd., Co.",
    ),
    "de": Table(
        never_end="Dr., Prof., Hr., Fr., Dipl., Ing., St., Nr., Mrd., Mio., Tsd., Bd., Abs., Art., Kap., "
                  "Std., Min., Sek., ca., bzw., vgl., ggf., evtl., inkl., zzgl., gegr., geb., verh., Tel., "
                  "Jan., Feb., Febr., Apr., Aug., Sept., Okt., Nov., Dez., "
                  "z. B., u. a., d. h., o. ä., u. ä., s. o., s. u., z. T., u. U., v. a., i. d. R., m. E.",
        may_end="usw., etc., a. D., Co., v. Chr., n. Chr.",
        months="Januar, Februar, März, April, Mai, Juni, Juli, August, September, Oktober, November, Dezember, "
               "Jänner, Jan., Feb., Febr., Apr., Aug., Sept., Okt., Nov., Dez.",
        ordinal_before="der, die, das, den, dem, des, am, im, vom, zum, zur, beim, ab, bis, seit, jede, jeder, "
                       "jedes, jeden, ihr, ihre, ihren, sein, seine, seinen, zweite, sowie, und, oder, vor",
    ),
    "en": Table(
        never_end="Mr., Mrs., Ms., Dr., Prof., Sen., Rep., Gov., Gen., Lt., Col., Capt., Sgt., Adm., Cmdr., "
                  "Rev., Hon., Pres., St., Mt., Ft., No., Nos., Vol., vs., approx., est., "
                  "Jan., Feb., Mar., Apr., Jun., Jul., Aug., Sep., Sept., Oct., Nov., Dec.",
        may_end="etc., U.S., U.K., U.N., E.U., a.m., p.m., Inc., Ltd., Co., Corp., Jr., Sr.",
        continuations="Army, Navy, Air, Marines, Marine, Coast, Senate, House, Congress, Capitol, Department, "
                      "President, Vice, Secretary, Ambassador, Embassy, Treasury, Supreme, Court, Federal, "
                      "Justice, State, Government, Administration, Forces, Military, Central, Defense, Olympic, "
                      "Open, Attorney, Agency, Postal, Census, Bureau, Office, Special, Trade, Border, "
                      "Customs, Security, Eastern, Pacific, Time",
    ),
    "es": Table(
        never_end="Sr., Sra., Sres., Srta., Dr., Dra., Prof., Lic., Ing., D., Dña., Ud., Uds., Vd., Vds., "
                  "núm., nº., n.º, pág., págs., tel., aprox., av., avda., c/., admón., "
                  "ene., feb., mar., abr., jun., jul., ago., sept., oct., nov., dic., EE. UU., "
                  "FF. AA., CC. OO.",
        may_end="etc., EE. UU., a. C., d. C., S.A., S.L.",
        words="contra",
    ),
    "it": Table(
        never_end="Sig., Sigg., Sig.ra, Sig.na, dott., dott.ssa, prof., prof.ssa, avv., ing., arch., geom., "
                  "on., sen., rag., mons., gen., col., cap., magg., ten., p., pag., pagg., n., nn., tel., "
                  "gen., feb., mar., apr., giu., lug., ago., sett., ott., nov., dic., ca., cfr., es., "
                  "S. E., S. S.",
        may_end="ecc., a.C., d.C., S.p.A., S.r.l.",
        words="ore, Istat",
    ),
    "pt": Table(
        never_end="Sr., Sra., Srs., Sras., Dr., Dra., Drs., Prof., Prof.ª, Eng., Eng.ª, Exmo., Exma., D., "
                  "n.º, nº., pág., págs., tel., av., art., cap., "
                  "jan., fev., mar., abr., mai., jun., jul., ago., set., out., nov., dez.",
        may_end="etc., EUA., a.C., d.C., S.A., Lda.",
    ),
    "nl": Table(
        never_end="Dhr., Mevr., Mw., Mr., Dr., Drs., Prof., Ing., Ir., St., nr., blz., mld., mln., ca., "
                  "bijv., bv., evt., resp., vgl., zgn., jl., m.b.t., t.a.v., i.p.v., o.a., m.n., d.w.z., "
                  "jan., feb., mrt., apr., jun., jul., aug., sep., sept., okt., nov., dec.",
        may_end="enz., etc., e.d., v.Chr., n.Chr., B.V., N.V.",
    ),
}
GENERIC = Table()


def _entries(field: str) -> list[str]:
    out = []
    for entry in (e.strip() for e in field.split(", ")):
        if entry:
            out.append(entry)
            if entry[0].islower():
                out.append(entry[0].upper() + entry[1:])  # as it is written at the start of a sentence
    return out


def _prefixes(entries: list[str]) -> list[str]:
    """The first parts of multi-part abbreviations ("z. B." -> "z."): they do not end a sentence."""
    return [" ".join(e.split(" ")[:k]) for e in entries for k in range(1, e.count(" ") + 1)]


LEADING = "([«\"„“‘'’/-"  # what may stand before an abbreviation's first letter


def ends_with(text: str, entries: frozenset[str], parts: int) -> bool:
    """Whether `text` ends with one of `entries` (written without spaces) as whole words: its last
    1..`parts` words are joined and looked up, so the cost does not depend on the table's size."""
    words = text[-48:].split()
    if len(text) > 48 and words:
        words = words[1:]  # the first may be cut
    for k in range(1, min(parts, len(words)) + 1):
        if "".join(words[-k:]).lstrip(LEADING) in entries:
            return True
    return False


@dataclass(frozen=True)
class Rules:
    """A Table compiled: what segment.py asks about a possible boundary."""

    never_end: frozenset[str]  # entries without their spaces ("z.B.")
    may_end: frozenset[str]
    parts: int  # the most words an entry has ("i. d. R.": 3)
    continuations: frozenset[str]
    months: frozenset[str]
    ordinal_before: frozenset[str]
    words: frozenset[str]


def rules_for(lang: str) -> Rules:
    """The compiled rules of `lang` ("de", "de-AT", "pt_BR" -> the base language's table)."""
    return _compiled(_base(lang))


@lru_cache(maxsize=None)
def _compiled(lang: str) -> Rules:
    table = TABLES.get(lang, GENERIC)
    never, may = _entries(table.never_end), _entries(table.may_end)
    never = never + _prefixes(never) + _prefixes(may)
    return Rules(
        never_end=frozenset(e.replace(" ", "") for e in never),
        may_end=frozenset(e.replace(" ", "") for e in may),
        parts=max([e.count(" ") + 1 for e in never + may] or [1]),
        continuations=frozenset(_entries(table.continuations)),
        months=frozenset(m.rstrip(".").lower() for m in _entries(table.months)),
        ordinal_before=frozenset(w.lower() for w in _entries(table.ordinal_before)),
        words=frozenset(_entries(table.words)),
    )


def _base(lang: str) -> str:
    return (lang or "").replace("_", "-").split("-")[0].lower()


def sentencex_language(lang: str) -> str:
    """The code sentencex is called with (it falls back by itself for languages it does not know)."""
    return _base(lang) or "en"
