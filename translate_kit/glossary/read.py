"""Glossary files in: TSV/CSV with a header of language codes, and TBX (TBX-Basic / TBX 2019).

Every problem is one GlossaryError naming the file, the line and what is wrong, raised while
reading, before any model loads. TSV/CSV through the csv module; TBX through lxml with entities,
DTDs and network off (a file that declares entities is refused). The formats:
docs/glossaries.md#files; why lxml: docs/design.md#other-choices
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from ..errors import GlossaryError, UsageError
from .terms import CASES, Entry, Glossary

META_COLUMNS = ("note", "case")
SEPARATOR = "|"
MAX_TERM = 300  # characters: a longer "term" is a misplaced sentence or a broken quote
TBX_DEPRECATED = ("deprecatedterm-admn-sts", "supersededterm-admn-sts", "deprecated", "superseded")


def load_glossary(paths) -> Glossary:
    """Every file of `paths` (str or Path, or one of them), read in order into one Glossary."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    glossary = Glossary()
    for path in paths:
        glossary = glossary + read_file(Path(path))
    return glossary


def read_file(path: Path) -> Glossary:
    """One file, by its extension: .tbx (or .xml) is TBX, anything else a delimited table."""
    data = _read_bytes(path)
    if path.suffix.lower() in (".tbx", ".xml") or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        entries = read_tbx(data, str(path))
    else:
        entries = read_table(_decode(data, str(path)), str(path), path.suffix.lower())
    if not entries:
        raise GlossaryError(str(path), "no entries (a header and at least one row of terms are needed)")
    return Glossary(entries, [str(path)])


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise GlossaryError(str(path), "no such file") from None
    except IsADirectoryError:
        raise GlossaryError(str(path), "is a folder, not a glossary file") from None
    except OSError as err:
        raise GlossaryError(str(path), f"cannot read ({err.strerror or err})") from None


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise GlossaryError(name, f"not UTF-8 text (byte 0x{data[err.start]:02x}); save it as UTF-8", line) from None


# --- TSV / CSV -------------------------------------------------------------------------------


def read_table(text: str, name: str, suffix: str = ".tsv") -> list[Entry]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    rows = csv.reader(io.StringIO("\n".join(line for _, line in lines)), delimiter=_delimiter(lines[0][1], suffix))
    try:
        header = next(rows)
    except csv.Error as err:
        raise GlossaryError(name, f"the header cannot be read ({err})", lines[0][0]) from None
    columns = _columns(header, name, lines[0][0])
    entries = []
    while True:
        begins = lines[min(rows.line_num, len(lines) - 1)][0]  # rows.line_num: joined lines read so far
        try:
            cells = next(rows)
        except StopIteration:
            return entries
        except csv.Error as err:  # a cell over csv's size limit: an unclosed quote
            raise GlossaryError(name, f"the row starting here cannot be read ({err}): an unclosed quote?", begins) from None
        entries.append(_row(cells, columns, name, lines[rows.line_num - 1][0]))


def _delimiter(header: str, suffix: str) -> str:
    if "\t" in header or suffix in (".tsv", ".tab"):
        return "\t"
    return ";" if header.count(";") > header.count(",") else ","


def _columns(cells: list[str], name: str, line: int) -> list[str]:
    """The header: a language code or a meta column for each cell."""
    from ..language import check_language

    columns: list[str] = []
    for number, cell in enumerate(cells, 1):
        label = cell.strip().lower()
        if label not in META_COLUMNS:
            try:
                label = check_language(cell, "column")
            except UsageError:
                raise GlossaryError(name, f"header column {number} {cell.strip()!r} is neither a language code "
                                          f"(fr, en, pt-BR) nor one of {', '.join(META_COLUMNS)}", line) from None
        if label in columns:
            raise GlossaryError(name, f"header names {label!r} twice", line)
        columns.append(label)
    if sum(c not in META_COLUMNS for c in columns) < 2:
        raise GlossaryError(name, "the header needs two language codes at least, such as fr<TAB>en", line)
    return columns


def _row(cells: list[str], columns: list[str], name: str, line: int) -> Entry:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
        raise GlossaryError(name, f"{len(cells)} cells, but the header names {len(columns)} columns", line)
    values = dict(zip(columns, cells))
    terms = tuple((code, _variants(values.get(code, ""), name, line)) for code in columns if code not in META_COLUMNS)
    terms = tuple((code, v) for code, v in terms if v)
    if len(terms) < 2:
        have = terms[0][0] if terms else "no language"
        raise GlossaryError(name, f"a term in two languages at least is needed; this row has {have} only", line)
    case = values.get("case", "").strip().lower() or "auto"
    if case not in CASES:
        raise GlossaryError(name, f"case {case!r} is none of {', '.join(CASES)}", line)
    return Entry(terms, note=values.get("note", "").strip(), case=case, origin=f"{name}:{line}")


def _variants(cell: str, name: str, line: int) -> tuple[str, ...]:
    variants = tuple(" ".join(v.split()) for v in cell.split(SEPARATOR))
    variants = tuple(dict.fromkeys(v for v in variants if v))
    for variant in variants:
        control = next((c for c in variant if unicodedata.category(c) == "Cc"), None)
        if control is not None:
            raise GlossaryError(name, f"a term holds the control character U+{ord(control):04X}: "
                                      "is this a text table?", line)
        if len(variant) > MAX_TERM:
            raise GlossaryError(name, f"a term of {len(variant)} characters (at most {MAX_TERM}): "
                                      "a stray quote or a sentence in a cell?", line)
    return variants


# --- TBX -------------------------------------------------------------------------------------


def read_tbx(data: bytes, name: str) -> list[Entry]:
    root = _parse_xml(data, name)
    kind = _local(root)
    if kind not in ("martif", "tbx"):
        raise GlossaryError(name, f"is a <{kind}> document, not TBX (<martif> or <tbx>)", root.sourceline)
    entries = []
    for element in root.iter():
        if _local(element) in ("termEntry", "conceptEntry"):
            entries.append(_concept(element, name))
    return entries


def _parse_xml(data: bytes, name: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as err:
        raise GlossaryError(name, f"not well-formed XML ({err.msg})", err.lineno or None) from None
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise GlossaryError(name, "declares XML entities; tk does not expand them (write the text itself)")
    return tree.getroot()


def _local(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _lang(element) -> str:
    return element.get("{http://www.w3.org/XML/1998/namespace}lang") or element.get("lang") or ""


def _concept(element, name: str) -> Entry:
    """A <termEntry> (TBX-Basic) or <conceptEntry> (TBX 2019): its langSet/langSec children."""
    from ..language import check_language

    terms, deprecated = [], []
    for lang_set in element:
        if _local(lang_set) not in ("langSet", "langSec"):
            continue
        try:
            code = check_language(_lang(lang_set), "xml:lang")
        except UsageError:
            raise GlossaryError(name, f"<{_local(lang_set)}> with xml:lang {_lang(lang_set)!r}, not a language code",
                                lang_set.sourceline) from None
        allowed, old = _lang_terms(lang_set, name)
        if allowed or old:
            terms.append((code, allowed or old))
            deprecated.append((code, old if allowed else ()))
    if len(terms) < 2:
        raise GlossaryError(name, f"<{_local(element)}> has terms in {len(terms)} language(s); two at least are needed",
                            element.sourceline)
    return Entry(tuple(terms), tuple(d for d in deprecated if d[1]), note=_note(element),
                 case=_case(element, name), origin=f"{name}:{element.sourceline}")


def _lang_terms(lang_set, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(preferred and admitted terms, deprecated ones), each in document order, preferred first."""
    preferred, admitted, old = [], [], []
    for term in lang_set.iter():
        if _local(term) != "term":
            continue
        text = " ".join("".join(term.itertext()).split())
        if not text:
            raise GlossaryError(name, "an empty <term>", term.sourceline)
        if len(text) > MAX_TERM:
            raise GlossaryError(name, f"a <term> of {len(text)} characters (at most {MAX_TERM})", term.sourceline)
        status = _status(term.getparent())
        (old if status in TBX_DEPRECATED else preferred if status.startswith("preferred") else admitted).append(text)
    return tuple(dict.fromkeys(preferred + admitted)), tuple(dict.fromkeys(old))


def _status(group) -> str:
    """The administrativeStatus termNote of a term's group (tig, ntig's termGrp, termSec)."""
    for element in group.iter():
        if _local(element) == "termNote" and element.get("type") == "administrativeStatus":
            return (element.text or "").strip().lower()
    return ""


def _note(element) -> str:
    for child in element.iter():
        if _local(child) == "note" or (_local(child) == "descrip" and child.get("type") == "definition"):
            text = " ".join("".join(child.itertext()).split())
            if text:
                return text
    return ""


def _case(element, name: str) -> str:
    """tk's own mark, `<descrip type="x-case">any</descrip>` (TBX has none for case matching)."""
    for child in element.iter():
        if _local(child) in ("descrip", "termNote", "note") and child.get("type") == "x-case":
            value = (child.text or "").strip().lower()
            if value not in CASES:
                raise GlossaryError(name, f"x-case {value!r} is none of {', '.join(CASES)}", child.sourceline)
            return value
    return "auto"
