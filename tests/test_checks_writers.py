"""The checks' verdicts where the reader looks: jsonl, md, html (in headless Chromium), XLIFF 2.1
and 1.2, TMX. Documents are built by hand and checked with translate_kit.checks, no model."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from lxml import etree
from test_writers import (SCHEMAS, XLIFF, LocalSchemas, chromium, find_browser, make_result, parse_xml,
                          read_png, render)

from translate_kit.checks import assess_segments
from translate_kit.writers.xliff12 import NS as X12


def checked():
    """Five sentences: two to check (a number changed: check; a name gone and a clause dropped:
    doubt), three fine; one paragraph of one sentence is to check."""
    result = make_result("checked", [
        (0, "Le gouvernement a annoncé un plan.", "\n\n", "The government announced a plan."),
        (1, "Le plan coûtera 80 millions d'euros.", " ", "The plan will cost 8 million euros."),
        (1, "Les agriculteurs sont satisfaits.", " ", "Farmers are satisfied."),
        (1, "Le commandant Oleksandr Syrsky a reconnu une situation difficile sur le front, selon Kiev.", "\n\n",
         "The commander acknowledged a situation."),
        (2, "Le ministre Bruno Le Maire a parlé à Bercy.", "\n", "The minister spoke at Bercy."),
    ])
    assess_segments(result.segments, "fr", "en")
    return result


def test_the_example_document_has_the_verdicts_it_is_built_for():
    verdicts = [s.verdict for s in checked().segments]
    assert verdicts == ["ok", "check", "ok", "doubt", "check"]


def test_jsonl_records_have_verdict_checks_and_score():
    records = [json.loads(line) for line in render("jsonl", checked()).splitlines()]
    assert [r["verdict"] for r in records] == ["ok", "check", "ok", "doubt", "check"]
    assert records[1]["checks"] == [{"code": "number", "detail": "number 80 not in the translation (it has 8)"}]
    assert {c["code"] for c in records[3]["checks"]} >= {"name"} and records[0]["checks"] == []
    assert all(r["score"] is None for r in records)


def test_md_flag_column_and_header_count():
    page = render("md", checked())
    assert "- **To check:** 3 of 5 sentences to check\n" in page
    assert "| Le plan coûtera 80 millions d'euros. | The plan will cost 8 million euros. | ⚠ check: number 80 not in the translation (it has 8) |" in page
    assert "⚠ doubt: name Oleksandr Syrsky missing" in page
    assert "| Les agriculteurs sont satisfaits. | Farmers are satisfied. |  |" in page


def test_md_header_counts_the_whole_document_even_when_it_came_in_parts():
    whole = checked()
    first = replace(whole, segments=whole.segments[:1])
    writer = type(__import__("translate_kit.writers", fromlist=["get_writers"]).get_writers("md")[0])()
    text = writer.head(first) + writer.paragraph(whole, whole.segments[:1], False)
    text += writer.paragraph(whole, whole.segments[1:4], False) + writer.paragraph(whole, whole.segments[4:], False)
    text += writer.tail(whole)
    header = writer.prologue(whole)
    assert "- **To check:** 3 of 5 sentences to check\n" in header and "To check" not in text
    assert header + text == render("md", whole)  # the same file as the document written whole


def test_md_without_checks_is_unchanged():
    result = make_result("plain", [(0, "Une phrase.", "\n", "A sentence.")])
    assert "To check" not in render("md", result) and 'id="tally-count"' not in render("html", result)


@pytest.fixture(scope="module")
def xliff_schema():
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff_core_2.0.xsd"), parser))


def test_xliff_21_states_and_notes(xliff_schema):
    root = parse_xml(render("xliff", checked()))
    assert xliff_schema.validate(root), xliff_schema.error_log
    assert [s.get("state") for s in root.iter(f"{XLIFF}segment")] == ["translated", "initial", "translated", "initial", "initial"]
    notes = [n.text for n in root.iter(f"{XLIFF}note") if n.get("category") == "check"]
    assert notes[0] == "s0: check: number 80 not in the translation (it has 8)"
    assert notes[1].startswith("s2: doubt: name Oleksandr Syrsky missing")


def test_xliff_12_notes_keep_machine_state():
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff-core-1.2-transitional.xsd"), parser))
    root = parse_xml(render("xliff12", checked()))
    assert schema.validate(root), schema.error_log
    units = list(root.iter(f"{{{X12}}}trans-unit"))
    assert {u.find(f"{{{X12}}}target").get("state") for u in units} == {"needs-review-translation"}
    assert [n.text for n in units[1].iter(f"{{{X12}}}note")] == ["check: number 80 not in the translation (it has 8)"]
    assert list(units[0].iter(f"{{{X12}}}note")) == []


def test_tmx_verdict_props():
    dtd = etree.DTD(str(SCHEMAS / "tmx14.dtd"))
    root = parse_xml(render("tmx", checked()))
    assert dtd.validate(root), dtd.error_log
    props = [{p.get("type"): p.text for p in tu.findall("prop")} for tu in root.iter("tu")]
    assert [p["x-verdict"] for p in props] == ["ok", "check", "ok", "doubt", "check"]
    assert props[1]["x-checks"] == "number 80 not in the translation (it has 8)" and "x-checks" not in props[0]


def test_html_marks_both_sides_with_reasons_and_a_count():
    page = render("html", checked())
    assert '<strong id="tally-count">3 of 5 sentences to check</strong>' in page and 'id="only-check"' in page
    assert page.count('class="row tocheck" data-verdict="check"') == 1  # a row of a long paragraph
    assert 'class="row para tocheck" id="p2" data-verdict="check"' in page  # a paragraph of one sentence
    assert page.count('class="s tocheck" data-k="1-0"') == 2  # both sides
    assert 'title="check: number 80 not in the translation (it has 8)"' in page


# Appended to the page: where the rows are before and after the switch is turned on.
SWITCH_PROBE = """<script>
(function(){
  function rows(){ return Array.prototype.map.call(document.querySelectorAll('main .row:not(.labels)'), function(r){
    var b = r.getBoundingClientRect(); return [r.classList.contains('tocheck'), Math.round(b.top), Math.round(b.height)]; }); }
  var b = document.body, t = document.querySelector('.tocheck > .tgt'), s = document.querySelector('.tocheck > .src');
  b.dataset.tally = document.getElementById('tally-count').textContent;
  b.dataset.tgt = JSON.stringify([t.getBoundingClientRect().left, t.getBoundingClientRect().top, t.getBoundingClientRect().bottom].map(Math.round));
  b.dataset.src = JSON.stringify([s.getBoundingClientRect().left, s.getBoundingClientRect().top, s.getBoundingClientRect().bottom].map(Math.round));
  b.dataset.before = JSON.stringify(rows());
  document.getElementById('only-check').click();
  b.dataset.after = JSON.stringify(rows());
})();
</script></body>"""


def _color(rows, bpp, x, y):
    return tuple(rows[y][x * bpp:x * bpp + 3])


def test_html_marks_are_visible_and_the_switch_shows_only_them_in_chromium(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (.ci/run installs Debian's `chromium` where apt-get works); "
                    "the marks and the switch were not checked in a browser")
    page = tmp_path / "checked.html"
    page.write_text(render("html", checked()), encoding="utf-8")
    probed = tmp_path / "probe.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", SWITCH_PROBE), encoding="utf-8")
    dom = chromium(browser, tmp_path, "--window-size=1200,900", "--dump-dom", probed.as_uri()).stdout
    body = etree.fromstring(dom.encode(), etree.HTMLParser()).find(".//body")
    assert body.get("data-tally") == "3 of 5 sentences to check"
    before, after = json.loads(body.get("data-before")), json.loads(body.get("data-after"))
    assert [marked for marked, _, height in before if height > 0] == [False, True, False, True, True]
    assert [marked for marked, _, height in after if height > 0] == [True, True, True], after  # only those to check
    assert after[1][1] < before[1][1]  # the first one to check moved up: the rows above it are gone

    shot = tmp_path / "shot.png"
    chromium(browser, tmp_path, "--window-size=1200,900", f"--screenshot={shot}", page.as_uri())
    width, height, bpp, rows = read_png(shot)
    for left, top, bottom in (json.loads(body.get("data-tgt")), json.loads(body.get("data-src"))):
        y = (top + bottom) // 2
        bar = [_color(rows, bpp, x, y) for x in range(max(left - 16, 0), left)]
        assert any(r > 180 and 120 < g < 200 and b < 100 for r, g, b in bar), f"no amber mark left of x={left}: {bar}"
    ok_row = before[0]
    assert not ok_row[0]
    y = ok_row[1] + ok_row[2] // 2
    tgt_left = json.loads(body.get("data-tgt"))[0]
    plain = [_color(rows, bpp, x, y) for x in range(tgt_left - 16, tgt_left)]
    assert all(min(c) > 200 for c in plain), "an ok sentence is marked"
