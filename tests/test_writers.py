"""Writers: golden files for every format, XML validity, special characters, empty translations,
and the HTML page in a real headless browser.

Pure logic: each DocResult is built by hand from a small Document and its segments; no model.
Regenerate the golden files after an intended change of output with

    UPDATE_GOLDEN=1 python -m pytest -q tests/test_writers.py

and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from lxml import etree  # test extra: validates the XML formats against their DTD and schema

import translate_kit
from translate_kit.documents import Document, parse_meta
from translate_kit.segment import Segment, reassemble
from translate_kit.translate import DocResult
from translate_kit.writers import available, get_writers

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
SCHEMAS = HERE / "schemas"
XLIFF = "{urn:oasis:names:tc:xliff:document:2.0}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# --- documents built by hand ------------------------------------------------------------------


def make_result(doc_id: str, parts: list[tuple], marker: str = "") -> DocResult:
    """parts: (para, source, space_after, target[, origin[, flag[, kind]]]) in document order."""
    segments = [Segment(0, 0, marker.rstrip(), marker[len(marker.rstrip()):], kind="meta", origin="meta")] if marker else []
    counters: dict[int, int] = {}
    for para, source, space, target, *rest in parts:
        origin, flag, kind = (list(rest) + ["model", None, "text"][len(rest):])[:3]
        seg = counters.get(para, 0)
        counters[para] = seg + 1
        segments.append(Segment(para, seg, source, space, kind=kind, target=target, origin=origin, flag=flag))
    text = reassemble(segments)
    doc = Document(doc_id, text, Path(f"seeds/{doc_id}.txt"), meta=parse_meta(text))
    return DocResult(doc_id, str(doc.path), "fr", "en", doc, segments,
                     model="Helsinki-NLP/opus-mt-fr-en@0123abc", revision="0123abc")


def sample() -> DocResult:
    """French press typography, XML/HTML specials, emoji, a reviewed, a flagged and a copied segment."""
    return make_result("sample", [
        (0, "Réforme des retraites : « On ira jusqu'au bout »", "\n\n", "Pension reform: “We will go all the way”"),
        (1, "M. Dupont & Mme Durand ont dit <non> au \"texte\".", " ", "Mr. Dupont & Mrs. Durand said <no> to the \"text\".", "cache"),
        (1, "Le vote ℹ️ a eu lieu à 10 000 voix près 🎉.", " ", "The vote ℹ️ was decided by 10,000 votes 🎉.", "review"),
        (1, "Ça suffit !", "\n\n", "Enough! Enough! Enough!", "model", "output repeats itself"),
        (2, "2024", "\n", "2024", "copy", None, "copy"),
    ], marker=" date 2024-06 ")


def with_empty_target() -> DocResult:
    return make_result("empty", [
        (0, "Premier paragraphe.", " ", "First paragraph."),
        (0, "Cette phrase n'a rien donné.", "\n\n", ""),
        (1, "Fin.", "\n", "End."),
    ])


def with_control_chars() -> DocResult:
    return make_result("controls", [
        (0, "Bip\x07 et\x0b boop\x1f.", " ", "Beep\x0c and boop\x00."),
        (0, "Normal.", "\n", "Normal."),
    ])


ALL_RESULTS = [sample, with_empty_target, with_control_chars]


@pytest.fixture(autouse=True)
def pinned_version(monkeypatch):
    """The golden files do not change with every release."""
    monkeypatch.setattr(translate_kit, "__version__", "0.0.0")


def render(name: str, result: DocResult) -> str:
    return get_writers(name)[0].render(result)


def text_segments(result: DocResult) -> list[Segment]:
    return [s for s in result.segments if s.kind != "meta"]


# --- golden files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n in available() if n != "native"))  # native: tests/test_readers.py
def test_golden(name):
    """Every format renders the sample exactly as its golden file."""
    result = sample()
    writer = get_writers(name)[0]
    golden = writer.path_for(result, GOLDEN)
    rendered = writer.render(result)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(rendered.encode("utf-8"))
    assert golden.exists(), f"no golden file {golden.name}; run UPDATE_GOLDEN=1 python -m pytest tests/test_writers.py"
    assert rendered == golden.read_bytes().decode("utf-8"), f"{name} output changed; see the module docstring"


def test_all_formats_includes_the_bilingual_ones():
    assert {"html", "tmx", "xliff", "md", "jsonl", "txt"} <= {w.name for w in get_writers("all")}
    assert [w.ext for w in get_writers("html,tmx,xliff")] == ["html", "tmx", "xlf"]


def test_sample_reassembles():
    """The hand-built sample is a real segmentation: its segments join back to the document."""
    result = sample()
    assert reassemble(result.segments) == result.document.text


# --- XML validity -------------------------------------------------------------------------------


class LocalSchemas(etree.Resolver):
    """xliff_core_2.0.xsd imports http://www.w3.org/2001/xml.xsd: answer with the local copy."""

    def resolve(self, url, pubid, context):
        if url.rsplit("/", 1)[-1] == "xml.xsd":
            return self.resolve_filename(str(SCHEMAS / "xml.xsd"), context)
        return None


@pytest.fixture(scope="module")
def xliff_schema():
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff_core_2.0.xsd"), parser))


@pytest.fixture(scope="module")
def tmx_dtd():
    return etree.DTD(str(SCHEMAS / "tmx14.dtd"))


def parse_xml(text: str):
    # no_network / no entity loading: the DOCTYPE's "tmx14.dtd" is never fetched
    return etree.fromstring(text.encode("utf-8"), etree.XMLParser(no_network=True, load_dtd=False))


@pytest.mark.parametrize("make", ALL_RESULTS, ids=lambda f: f.__name__)
def test_xliff_is_valid_xliff_2(make, xliff_schema):
    root = parse_xml(render("xliff", make()))
    assert xliff_schema.validate(root), xliff_schema.error_log
    assert root.get("version") == "2.1" and root.get("srcLang") == "fr" and root.get("trgLang") == "en"


@pytest.mark.parametrize("make", ALL_RESULTS, ids=lambda f: f.__name__)
def test_tmx_is_valid_tmx_14b(make, tmx_dtd):
    root = parse_xml(render("tmx", make()))
    assert tmx_dtd.validate(root), tmx_dtd.error_log
    header = root.find("header")
    assert root.get("version") == "1.4"
    assert {k: header.get(k) for k in ("creationtool", "srclang", "segtype", "datatype", "adminlang")} == {
        "creationtool": "translate_kit", "srclang": "fr", "segtype": "sentence", "datatype": "plaintext", "adminlang": "en"}
    assert header.get("creationtoolversion") and header.get("o-tmf")


def test_validators_reject_broken_files(xliff_schema, tmx_dtd):
    """The validity tests above can fail: a missing <source> or <seg> is caught."""
    xliff = parse_xml(render("xliff", sample()))
    segment = xliff.find(f".//{XLIFF}segment")
    segment.remove(segment.find(f"{XLIFF}source"))
    assert not xliff_schema.validate(xliff)
    tmx = parse_xml(render("tmx", sample()))
    tuv = tmx.find(".//tuv")
    tuv.remove(tuv.find("seg"))
    assert not tmx_dtd.validate(tmx)


# --- special characters round-trip ----------------------------------------------------------------


def xliff_pairs(root) -> list[tuple[str, str, str]]:
    return [(s.get("state"), s.find(f"{XLIFF}source").text or "", s.find(f"{XLIFF}target").text or "")
            for s in root.iter(f"{XLIFF}segment")]


def test_xliff_round_trip_special_characters():
    result = sample()
    root = parse_xml(render("xliff", result))
    expected = [("reviewed" if s.origin == "review" else "initial", s.text, s.target) for s in text_segments(result)]
    assert xliff_pairs(root) == expected
    assert "ℹ️" in expected[2][1] and "<non>" in expected[1][1] and "«" in expected[0][1]


def test_xliff_units_rebuild_the_document_text():
    """Segments and <ignorable> whitespace of all units join back to the text after the date marker."""
    result = sample()
    root = parse_xml(render("xliff", result))
    parts = [child.find(f"{XLIFF}source").text or "" for unit in root.iter(f"{XLIFF}unit")
             for child in unit if child.tag in (f"{XLIFF}segment", f"{XLIFF}ignorable")]
    assert "".join(parts) == reassemble(text_segments(result))
    assert [u.get("id") for u in root.iter(f"{XLIFF}unit")] == ["p0", "p1", "p2"]
    notes = {n.get("category"): n.text for n in root.find(f"{XLIFF}file/{XLIFF}notes")}
    assert notes["document"] == "sample" and notes["date"] == "2024-06" and "opus-mt-fr-en" in notes["model"]


def test_xliff_file_id_is_a_valid_token_for_any_document_id(xliff_schema):
    result = make_result("rapport@dossier 2", [(0, "Bonjour.", "\n", "Hello.")])
    root = parse_xml(render("xliff", result))
    assert xliff_schema.validate(root), xliff_schema.error_log
    assert root.find(f"{XLIFF}file/{XLIFF}notes/{XLIFF}note").text == "rapport@dossier 2"


def test_tmx_round_trip_special_characters():
    result = sample()
    root = parse_xml(render("tmx", result))
    units = root.findall("body/tu")
    assert len(units) == len(text_segments(result))
    for tu, s in zip(units, text_segments(result)):
        props = {p.get("type"): p.text for p in tu.findall("prop")}
        assert props["x-document"] == "sample" and props["x-position"] == f"{s.para}.{s.seg}"
        assert props["x-origin"] == s.origin and props.get("x-flag") == s.flag
        texts = {tuv.get(XML_LANG): tuv.find("seg").text for tuv in tu.findall("tuv")}
        assert texts == {"fr": s.text, "en": s.target}


class Sentences(HTMLParser):
    """Collects each sentence span's text by column (src/tgt) and position."""

    def __init__(self):
        super().__init__()
        self.column, self.key, self.found, self.scripts = None, None, {}, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.scripts += tag == "script"
        if tag == "div" and attrs.get("class") in ("src", "tgt"):
            self.column = attrs["class"]
        if tag == "span" and "data-k" in attrs:
            assert attrs.get("tabindex") == "0"
            self.key = (self.column, attrs["data-k"])
            self.found[self.key] = ""

    def handle_endtag(self, tag):
        if tag == "span":
            self.key = None

    def handle_data(self, data):
        if self.key:
            self.found[self.key] += data


def test_html_escapes_and_keeps_every_sentence():
    result = sample()
    page = render("html", result)
    parser = Sentences()
    parser.feed(page)
    for s in text_segments(result):
        key = f"{s.para}-{s.seg}"
        assert parser.found[("src", key)] == s.text and parser.found[("tgt", key)] == s.target
    assert parser.scripts == 1 and "<non>" not in page and "&lt;non&gt;" in page
    assert "http://" not in page and "https://" not in page and " src=" not in page  # self-contained


def test_html_header_names_languages_model_revision_and_date():
    page = render("html", sample())
    for needle in ("<h1>Réforme des retraites", "fr → en", "Helsinki-NLP/opus-mt-fr-en", "0123abc", "2024-06"):
        assert needle in page


# --- empty translations and characters XML cannot hold -----------------------------------------


def test_empty_translation_still_gives_every_format():
    result = with_empty_target()
    for writer in get_writers("all"):
        assert writer.render(result) or not writer.applies(result)  # native: no copy of plain text
    root = parse_xml(render("xliff", result))
    assert [t for _, _, t in xliff_pairs(root)] == ["First paragraph.", "", "End."]
    tmx = parse_xml(render("tmx", result))
    assert [tu.find("prop").text for tu in tmx.findall("body/tu")] == ["empty"] * 2  # no entry teaching "translate as nothing"
    assert 'class="s empty"' in render("html", result)
    assert [json.loads(line)["target"] for line in render("jsonl", result).splitlines()] == ["First paragraph.", "", "End."]


def test_control_characters_are_dropped_from_xml():
    result = with_control_chars()
    root = parse_xml(render("xliff", result))
    assert xliff_pairs(root)[0][1:] == ("Bip et boop.", "Beep and boop.")
    tmx = parse_xml(render("tmx", result))
    assert [tuv.find("seg").text for tuv in tmx.find("body/tu").findall("tuv")] == ["Bip et boop.", "Beep and boop."]


# --- the page in a real browser -------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run")

# Appended to a copy of the page: records the layout and what hovering/focusing highlights,
# as attributes on <body> that --dump-dom shows.
PROBE = """<script>
(function(){
  function box(el){ var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom].map(Math.round); }
  var b = document.body, src = document.querySelector('#p1 .src'), tgt = document.querySelector('#p1 .tgt');
  b.dataset.src = JSON.stringify(box(src)); b.dataset.tgt = JSON.stringify(box(tgt));
  src.querySelector('.s').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  b.dataset.hover = tgt.querySelector('.s').className;
  src.querySelector('.s').dispatchEvent(new MouseEvent('mouseout', {bubbles: true}));
  b.dataset.after = tgt.querySelector('.s').className;
  // focus events reach a headless page only when its window has focus (flaky under load), so the
  // keyboard path is checked as: the sentence is focusable, and focusing it highlights the other side
  var t1 = document.querySelectorAll('#p1 .tgt .s')[1];  // a long paragraph has a row per sentence
  b.dataset.tabindex = String(t1.tabIndex);
  t1.dispatchEvent(new FocusEvent('focusin', {bubbles: true}));
  b.dataset.focus = document.querySelectorAll('#p1 .src .s')[1].className;
})();
</script></body>"""


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def chromium(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    return subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True)


def probe(browser: str, page: Path, tmp: Path, width: int) -> dict:
    probed = tmp / f"probe-{width}.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    dom = chromium(browser, tmp, f"--window-size={width},800", "--dump-dom", probed.as_uri()).stdout
    body = etree.fromstring(dom.encode(), etree.HTMLParser()).find(".//body")
    return {k: body.get(f"data-{k}") for k in ("src", "tgt", "hover", "after", "focus", "tabindex")}


def read_png(path: Path) -> tuple[int, int, int, list[bytearray]]:
    """width, height, bytes per pixel, rows: enough PNG (8-bit RGB/RGBA, not interlaced) for a
    screenshot, with zlib alone rather than a new image library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and color in (2, 6) and not interlace, (depth, color, interlace)
        elif kind == b"IDAT":
            idat.append(chunk)
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        rows.append(_unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), prev, bpp))
        prev = rows[-1]
    return width, height, bpp, rows


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> bytearray:
    if kind == 2:
        return bytearray((a + b) & 255 for a, b in zip(line, prev))
    for i in range(len(line)) if kind else ():
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if kind == 1:
            line[i] = (line[i] + a) & 255
        elif kind == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        else:  # 4, Paeth
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return line


def ink(rows: list[bytearray], bpp: int, box: list[int]) -> int:
    """Pixels clearly darker than the white page inside box (left, top, right, bottom)."""
    left, top, right, bottom = box
    return sum(1 for y in range(top, bottom) for x in range(left, right)
               if sum(rows[y][x * bpp:x * bpp + 3]) < 3 * 160)


def test_html_renders_side_by_side_in_headless_chromium(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH and none could be installed here (.ci/run installs Debian's "
                    "`chromium` where apt-get works); the HTML page was not checked in a browser")
    page = tmp_path / "sample.html"
    page.write_text(render("html", sample()), encoding="utf-8")

    wide = probe(browser, page, tmp_path, 1200)
    src, tgt = json.loads(wide["src"]), json.loads(wide["tgt"])
    assert src[2] <= tgt[0] and abs(src[1] - tgt[1]) < 5, f"columns not side by side: {src} {tgt}"
    assert "hl" in wide["hover"].split() and "hl" not in wide["after"].split(), wide
    assert "hl" in wide["focus"].split() and int(wide["tabindex"]) >= 0, wide

    narrow = probe(browser, page, tmp_path, 400)
    src_n, tgt_n = json.loads(narrow["src"]), json.loads(narrow["tgt"])
    assert tgt_n[1] >= src_n[3], f"columns do not stack on a narrow screen: {src_n} {tgt_n}"

    shot = tmp_path / "shot.png"
    chromium(browser, tmp_path, "--window-size=1200,800", f"--screenshot={shot}", page.as_uri())
    width, height, bpp, rows = read_png(shot)
    assert (width, height) == (1200, 800)
    assert ink(rows, bpp, src) > 200 and ink(rows, bpp, tgt) > 200, "a column rendered no text"
    gap = [src[2], src[1], tgt[0], src[3]]
    assert ink(rows, bpp, gap) == 0, "text overlaps the gap between the columns"


# Records, for every sentence, the top of its French and its English span and the
# line height, as JSON on <body>.
ROWS_PROBE = """<script>
(function(){
  var rows = [];
  document.querySelectorAll('.src .s').forEach(function(src){
    var tgt = document.querySelector('.tgt .s[data-k="' + src.dataset.k + '"]');
    rows.push([src.dataset.k, src.getBoundingClientRect().top, tgt.getBoundingClientRect().top,
               parseFloat(getComputedStyle(src).lineHeight)]);
  });
  document.body.dataset.rows = JSON.stringify(rows);
})();
</script></body>"""


def seed_003_translated() -> DocResult:
    """Seed 003 (one paragraph of 47 sentences, no blank line), with translations much shorter or
    longer than their sources, as real ones often are: without sentence rows the columns drift."""
    from translate_kit.segment import segment_document

    path = next((HERE.parent / "seeds").glob("003_*.txt"))
    text = path.read_text(encoding="utf-8")
    doc = Document("003", text, path, meta=parse_meta(text))
    segments = segment_document(doc, "fr")
    for i, s in enumerate(segments):
        s.target = s.text[: max(8, len(s.text) * 2 // 5)] if i % 3 else s.text + " " + s.text[: len(s.text) // 2]
    assert len({s.para for s in segments if s.kind != "meta"}) == 1  # the premise: one long paragraph
    return DocResult("003", str(path), "fr", "en", doc, segments, model="m@1", revision="1")


def sentence_tops(browser: str, page: Path, tmp: Path, width: int) -> list:
    probed = tmp / f"rows-{width}.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", ROWS_PROBE), encoding="utf-8")
    dom = chromium(browser, tmp, f"--window-size={width},800", "--dump-dom", probed.as_uri()).stdout
    return json.loads(etree.fromstring(dom.encode(), etree.HTMLParser()).find(".//body").get("data-rows"))


def test_html_long_paragraph_stays_level_on_a_desktop_and_interleaves_on_a_phone(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (.ci/run installs Debian's `chromium` where apt-get works)")
    page = tmp_path / "003.html"
    page.write_text(render("html", seed_003_translated()), encoding="utf-8")

    wide = sentence_tops(browser, page, tmp_path, 1200)
    assert len(wide) > 40
    for key, src_top, tgt_top, line in wide:
        assert abs(src_top - tgt_top) <= line, f"sentence {key}: French at {src_top}, English at {tgt_top}"

    narrow = sentence_tops(browser, page, tmp_path, 400)
    tops = [top for _, src_top, tgt_top, _ in narrow for top in (src_top, tgt_top)]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), "French and English do not interleave on a phone"


# --- hostile text: Markdown output is text, never markup ------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1)) ![x](http://example.invalid/x.png)",
    "**bold** _it_ `code` ~~gone~~ $x^2$ <b>b</b>",
    "a | b \\| c",
    "entity &amp; &#60; &lt; and a plain & stays",
    "closing hashes ##",
    "snake_case_, __dunder__ and _it_",
]


def hostile_result() -> DocResult:
    """Hostile text as the title (first line), every source, every (reviewed) target, the file name,
    the model and a note; one sentence holds a line break and another a lone carriage return."""
    parts = [(0, HOSTILE[0], "\n\n", HOSTILE[1], "review")]
    parts += [(1, src, " ", tgt, "review") for src, tgt in zip(HOSTILE[1:], HOSTILE[2:] + HOSTILE[:1])]
    parts += [(2, "Une phrase\ncoupée | en deux.", " ", "A sentence\rcut | in two.", "model", "length")]
    result = make_result("hostile", parts)
    result.document.path = Path("seeds/<img src=x onerror=alert(2)> [a](b).txt")
    result.source_name = str(result.document.path)
    result.model, result.note = "<script>m</script>@*1*", "note <iframe src=x> _x_"
    return result


def markdown_html(text: str) -> str:
    """The page a Markdown renderer that allows raw HTML makes of `text` (markdown-it-py, CommonMark
    plus GFM tables and strikethrough: the test extra)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


MARKUP_OF_OURS = {"html", "body", "h1", "h2", "ul", "ol", "li", "strong", "em", "p", "table", "thead", "tbody", "tr",
                  "th", "td", "br"}


def tags_in(page: str) -> set[str]:
    return {el.tag for el in etree.fromstring(f"<html><body>{page}</body></html>", etree.HTMLParser()).iter()}


def cells(page: str) -> list[list[str]]:
    """Each table row's cells as text (a <br> as a line break)."""
    root = etree.fromstring(f"<html><body>{page.replace('<br>', chr(10)).replace('<br />', chr(10))}</body></html>",
                            etree.HTMLParser())
    return [["".join(td.itertext()) for td in tr.findall("td")] for tr in root.iter("tr") if tr.findall("td")]


def test_markdown_escapes_hostile_text_everywhere():
    result = hostile_result()
    page = markdown_html(render("md", result))
    assert tags_in(page) <= MARKUP_OF_OURS, tags_in(page) - MARKUP_OF_OURS  # no script, img, a, code, s, iframe...
    # every sentence comes out as exactly its text, in a row of its own table, cells where they belong
    rows = cells(page)
    expected = [[s.source.strip(), s.target.strip()] for s in text_segments(result)]
    assert [row[:2] for row in rows] == [[a.replace("\r", "\n"), b.replace("\r", "\n")] for a, b in expected]
    assert all(len(row) == 2 for row in rows[:-1]) and len(rows[-1]) == 3  # the flagged paragraph's flag column
    root = etree.fromstring(f"<html><body>{page}</body></html>", etree.HTMLParser())
    assert "".join(root.find(".//h1").itertext()) == result.document.title
    items = ["".join(li.itertext()) for li in root.iter("li")]
    assert f"Source: {result.source_name}" in items and f"Note: {result.note}" in items
    assert any(item.startswith(f"Model: {result.model}") for item in items)


def test_markdown_escapes_only_what_would_be_read_as_markup():
    from translate_kit.writers.md import text

    assert text("003_otan.txt") == "003_otan.txt" and text("Dupont & Durand, l'OTAN.") == "Dupont & Durand, l'OTAN."
    assert markdown_html(text("_it_ a__b__c")).strip() == "<p>_it_ a__b__c</p>"


def test_markdown_table_survives_pipes_and_line_breaks():
    result = make_result("pipes", [(0, "Gauche | droite", " ", "Left | right", "model"),
                                   (0, "Ligne\nsuivante", " ", "Line\r\nnext", "model"),
                                   (0, "Fin\u2028ici.", "\n", "End\u2029here.", "model")])
    md = render("md", result)
    body = [line for line in md.splitlines() if line.startswith("| ")][2:]
    assert len(body) == 3, body  # one line per row: no break inside a sentence ends it
    assert cells(markdown_html(md)) == [["Gauche | droite", "Left | right"], ["Ligne\nsuivante", "Line\nnext"],
                                        ["Fin\nici.", "End\nhere."]]


def test_summary_markdown_escapes_hostile_text():
    from translate_kit.summarize import SummaryResult, SummarySentence, render_markdown

    doc = make_result("s", [(0, HOSTILE[0], "\n", "x")]).document
    result = SummaryResult("s<b>", HOSTILE[1], doc, "extractive", "short", "fr", "fr", ["fr", "en"],
                           [SummarySentence({"fr": HOSTILE[2], "en": HOSTILE[3]}, 0, 0)], notes=[HOSTILE[4]])
    page = markdown_html(render_markdown(result))
    assert tags_in(page) <= MARKUP_OF_OURS, tags_in(page) - MARKUP_OF_OURS
    text = "".join(etree.fromstring(f"<html><body>{page}</body></html>", etree.HTMLParser()).itertext())
    assert all(h in text for h in HOSTILE[:5])


# --- flags: marked in the layout, explained in the header, never inside the translation -----------


def flagged_result() -> DocResult:
    return make_result("flags", [
        (0, "Le ministre a parlé.", " ", "The minister spoke spoke spoke spoke.", "model", "repetition"),
        (0, "Il pleut.", "\n\n", "It rains.", "model"),
        (1, "Une longue phrase qui dit beaucoup de choses importantes.", "\n", "A.", "model", "length"),
    ])


def test_flags_are_beside_the_translation_and_explained_in_the_header():
    result = flagged_result()
    md = render("md", result)
    head, tables = md.split("\n\n| ", 1)
    assert "repetition" in head and "length" in head and "Flags" in head  # the legend
    rows = cells(markdown_html(md))
    assert [row[1] for row in rows] == [s.target for s in text_segments(result)]  # the translation alone
    assert [bool(row[2].strip()) for row in rows] == [True, False, True] and "repetition" in rows[0][2]
    page = render("html", result)
    parser = Sentences()
    parser.feed(page)
    assert [parser.found[("tgt", f"{s.para}-{s.seg}")] for s in text_segments(result)] == [s.target for s in text_segments(result)]
    assert page.count('class="s flagged"') == 2 and 'data-flag="repetition"' in page and 'data-flag="length"' in page
    header = page.split("<main>")[0]
    assert "<dt>Flags</dt>" in header and "repetition" in header and "length" in header
    for name in ("tmx", "xliff", "txt"):
        assert "⚠" not in render(name, result)


def test_jsonl_records_carry_every_documented_key():
    keys = ["doc", "para", "seg", "kind", "src_lang", "tgt_lang", "source", "target", "space_after", "origin", "flag",
            "score", "checks", "verdict"]
    records = [json.loads(line) for line in render("jsonl", flagged_result()).splitlines()]
    assert all(list(r) == keys for r in records)
    assert [r["flag"] for r in records] == ["repetition", None, "length"]
    usage = (HERE.parent / "docs" / "usage.md").read_text(encoding="utf-8")
    assert all(f"`{key}`" in usage.split("| `jsonl` |")[1].split("\n")[0] for key in keys)


def test_a_flag_first_seen_in_a_later_part_is_explained_at_the_end():
    """A long document's html header is written with its first part: flags of later parts get the
    legend last. md's header is its prologue, written once every part is: it explains them all."""
    from dataclasses import replace

    whole = flagged_result()
    first = replace(whole, segments=[s for s in whole.segments if s.para == 0 and not s.flag])
    later = [s for s in whole.segments if s.para == 1]
    for name in ("md", "html"):
        writer = get_writers(name)[0]
        head = writer.head(first)
        body = writer.paragraph(first, first.segments, False) + writer.paragraph(whole, later, False)
        tail = writer.tail(whole)
        assert "length" in body
        if name == "md":
            prologue = writer.prologue(whole)
            assert head == "" and "Flags" not in tail and "length" in prologue.split("\n\n", 1)[1], prologue
            continue
        assert "length" not in head and "Flags" in tail and "length" in tail and "repetition" not in tail, name


# --- glossary terms (issue 25) ----------------------------------------------------------------------

GLS = "urn:oasis:names:tc:xliff:glossary:2.0"


def with_terms() -> DocResult:
    result = make_result("terms", [(0, "L'OTAN a parlé.", " ", "NATO spoke."), (0, "Zelensky aussi.", "\n", "Zelensky too.")])
    first, second = [s for s in result.segments if s.kind == "text"]
    first.terms = [{"source": "OTAN", "target": "NATO", "note": "acronym", "origin": "style.tsv:2", "missing": False}]
    second.terms = [{"source": "Zelensky", "target": "Zelenskyy", "note": "", "origin": "style.tsv:3", "missing": True}]
    second.verdict, second.checks = "check", [{"code": "term", "detail": "term 'Zelenskyy' (for Zelensky) missing"}]
    first.verdict = "ok"
    return result


def test_xliff_carries_the_terms_in_its_glossary_module():
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff_with_glossary.xsd"), parser))
    root = parse_xml(render("xliff", with_terms()))
    assert schema.validate(root), schema.error_log
    (glossary,) = root.iter(f"{{{GLS}}}glossary")
    entries = [(e.find(f"{{{GLS}}}term").text, e.find(f"{{{GLS}}}translation").text) for e in glossary]
    assert entries == [("OTAN", "NATO"), ("Zelensky", "Zelenskyy")]
    assert glossary.getparent().tag.endswith("unit") and glossary.find(f".//{{{GLS}}}definition").text == "acronym"
    assert "term 'Zelenskyy' (for Zelensky) missing" in render("xliff", with_terms())
    broken = parse_xml(render("xliff", with_terms()).replace("<gls:term", "<gls:terms").replace("</gls:term>", "</gls:terms>"))
    assert not schema.validate(broken)  # the module's schema really is applied


def test_xliff12_jsonl_and_md_show_the_terms():
    xliff12 = render("xliff12", with_terms())
    assert "term: OTAN -&gt; NATO (acronym)" in xliff12 and "term 'Zelenskyy' (for Zelensky) missing" in xliff12
    rows = [json.loads(line) for line in render("jsonl", with_terms()).splitlines()]
    assert [r["terms"][0]["missing"] for r in rows if r.get("terms")] == [False, True]
    assert "term 'Zelenskyy' (for Zelensky) missing" in render("md", with_terms())
