"""`tk serve` against hostile and careless requests (issue 27): every field validated into a 400
`{"error": ...}`, text that cannot be encoded refused at one gate, format=html never turning text
into markup, LibreTranslate's conventions (lower-cased codes, the first of a repeated field, /health,
/spec), CORS refusals and stalled bodies answered in JSON, and an unforeseen exception a 500 that
leaves the server serving (issue 22).
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest

pytest.importorskip("fastapi")

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402
from test_serve import _post_raw, call, server, settings  # noqa: E402,F401 - fixtures

from translate_kit.serve import service  # noqa: E402
from translate_kit.serve.testing import running  # noqa: E402

SURROGATE = '"Bonjour \\ud800 le monde"'  # JSON text: the escape, decoded by the parser to a lone surrogate


def raw_json(url: str, path: str, text: str):
    return _post_raw(url + path, text.encode(), "application/json")


@pytest.mark.parametrize("path, body", [
    ("/translate", '{"q": %s, "source": "fr", "target": "en"}' % SURROGATE),
    ("/translate", '{"q": %s, "source": "auto", "target": "en"}' % SURROGATE),
    ("/translate", '{"q": %s, "source": "fr", "target": "fr"}' % SURROGATE),
    ("/translate", '{"q": "Bonjour.", "source": %s, "target": "en"}' % SURROGATE),
    ("/translate", '{"q": [%s], "source": "fr", "target": "en", "format": "html"}' % SURROGATE),
    ("/translate_segments", '{"q": %s, "source": "fr", "target": "en"}' % SURROGATE),
    ("/detect", '{"q": %s}' % SURROGATE),
    ("/translate", '{"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": 1e999}'),
    ("/translate", '{"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": NaN}'),
    ("/translate", '{"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": 1.5}'),
    ("/translate", '{"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": true}'),
    ("/translate", '{"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": "9999999999999999999999"}'),
    ("/translate", "[" * 100_000 + "]" * 100_000),
    ("/detect", '{"q": ' + "[" * 100_000 + "]" * 100_000 + "}"),
])
def test_hostile_fields_are_400_with_an_error(server, path, body):
    status, answer, _ = raw_json(server, path, body)
    assert status == 400 and set(answer) == {"error"}, answer
    assert call(server, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en"})[0] == 200


def test_whole_number_alternatives_are_taken_in_every_spelling(server):
    for value in (1, 1.0, "1", " 1 "):
        status, body, _ = call(server, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": value})
        assert status == 200 and isinstance(body["alternatives"], list), (value, body)


def test_upper_case_codes_and_the_first_of_a_repeated_field(server):
    lower = call(server, "/translate", {"q": "Premier.", "source": "fr", "target": "en"})[1]["translatedText"]
    status, body, _ = call(server, "/translate", {"q": "Premier.", "source": "FR", "target": "EN"})
    assert status == 200 and body["translatedText"] == lower
    form = "q=Premier.&q=Second.&source=fr&target=en&target=de".encode()
    status, body, _ = _post_raw(server + "/translate", form, "application/x-www-form-urlencoded")
    assert status == 200 and body["translatedText"] == lower  # LibreTranslate (Flask) takes the first value


def test_health_is_exactly_libretranslates_and_spec_is_the_schema(server):
    status, body, _ = call(server, "/health")
    assert status == 200 and body == {"status": "ok"}
    status, spec, _ = call(server, "/spec")
    assert status == 200 and spec["openapi"].startswith("3.") and "/translate" in spec["paths"]
    assert call(server, "/stats")[1]["groups"] >= 0


def test_a_cors_refusal_is_json(settings):
    from dataclasses import replace

    with running(replace(settings, cors_origins=("moz-extension://abc",))) as url:
        status, body, _ = call(url, "/translate", method="OPTIONS", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert status == 400 and set(body) == {"error"} and "CORS" in body["error"]
        status, _, headers = call(url, "/translate", method="OPTIONS", headers={
            "Origin": "moz-extension://abc", "Access-Control-Request-Method": "POST"})
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "moz-extension://abc"


def test_an_unforeseen_exception_is_a_500_and_the_server_goes_on(settings, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug nobody foresaw")

    monkeypatch.setattr(service, "detect", broken)
    with caplog.at_level(logging.ERROR, logger="translate_kit"), running(settings) as url:
        status, body, _ = call(url, "/detect", {"q": "Bonjour tout le monde."})
        assert status == 500 and body == {"error": "Internal server error (see the server log)"}
        assert call(url, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en"})[0] == 200
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


def test_a_stalled_body_gets_a_408_and_one_log_line(settings, caplog):
    from dataclasses import replace

    with caplog.at_level(logging.INFO), running(replace(settings, read_timeout=1.0)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"q\": \"Bo")
            started = time.monotonic()
            answer = b""
            while chunk := sock.recv(65536):  # the server closes the connection after its answer
                answer += chunk
            answer = answer.decode()
            assert time.monotonic() - started < 10
        assert answer.startswith("HTTP/1.1 408") and '{"error":' in answer
        with socket.create_connection((host, int(port)), timeout=20) as sock:  # a client that leaves mid-body
            sock.sendall(b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"q\": \"Bo")
            time.sleep(0.2)
        time.sleep(0.5)
        assert call(url, "/health")[1] == {"status": "ok"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert not any(r.exc_info for r in caplog.records)


def test_api_keys_file_with_bom_crlf_and_spaces(tmp_path, monkeypatch):
    from translate_kit.cli.serve import read_keys

    keys = tmp_path / "keys.txt"
    keys.write_bytes("\ufeffk-first\r\n  k-second  \r\n# note\r\n\r\n".encode("utf-8"))
    assert read_keys(keys) == {"k-first", "k-second"}


# --- format=html: text never becomes markup ---------------------------------------------------------

WORDS = st.sampled_from(["Le", "vote", "1", "<2>", "&", "<script>", "</p>", "&lt;b&gt;", "\"x\"", "'", " ", "é", ".", "&amp;"])
TEXTS = st.lists(WORDS, max_size=6).map(" ".join)
WORDY = st.lists(WORDS, min_size=1, max_size=6).filter(lambda w: "".join(w).strip()).map(" ".join)


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def _element(tags):
    return lambda inner: st.tuples(st.sampled_from(tags), st.lists(inner, min_size=1, max_size=3), TEXTS).map(
        lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>{_escape(t[2])}")


# Valid nesting (inline in inline, inline in <p>, anything in <div>), every element with words in it:
# an empty inline element (`<b></b>`) has no text to translate, and the translated copy of a page
# (readers/html.py write_block) does not keep it (reported), nor can a parser keep `<b><p>` as written.
INLINE = st.recursive(WORDY.map(_escape), _element(("b", "em", "span")), max_leaves=4)
PARAGRAPH = st.lists(INLINE, min_size=1, max_size=3).map(lambda xs: f"<p>{''.join(xs)}</p>")
FRAGMENTS = st.recursive(st.one_of(INLINE, PARAGRAPH), _element(("div",)), max_leaves=6)


def tree(markup: str):
    """The nesting of block tags of a fragment, and how many of each tag it holds; text left out.
    (Nested inline tags may come back in another order, `<b><em>` as `<em><b>`: readers/_inline.py
    restores inline markup on the translation span by span; reported.)"""
    import collections

    import lxml.html

    root = lxml.html.fragment_fromstring(markup, create_parent="div")

    def shape(el):
        return (el.tag, [shape(child) for child in el if isinstance(child.tag, str) and child.tag in ("div", "p")])

    return shape(root), sorted(collections.Counter(el.tag for el in root.iter() if isinstance(el.tag, str)).items())


class _Seg:
    def __init__(self, source: str, target: str):
        self.source, self.space_after, self.target = source, "", target


class _Piece:
    def __init__(self, text: str):
        self.segments = [_Seg(text, f"{text} <i>&")]  # a "translation" that looks like markup


@hsettings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(FRAGMENTS, min_size=1, max_size=3).map("".join))
def test_html_answer_has_the_same_tags_as_the_input(fragment):
    request = service.HtmlRequest(fragment)
    answer = request.answer([_Piece(t) for t in request.texts()])
    assert tree(answer) == tree(fragment), (fragment, answer)


@pytest.mark.parametrize("text", ["1 &lt;2&gt; 3", "Texte &lt;script&gt;alert(1)&lt;/script&gt;"])
def test_top_level_text_stays_text_over_http(server, text):
    for target in ("en", "fr"):
        status, body, _ = call(server, "/translate", {"q": text, "source": "fr", "target": target, "format": "html"})
        assert status == 200 and tree(body["translatedText"]) == (("div", []), [("div", 1)]), body
        assert "<" not in body["translatedText"]


def test_detect_confidence_is_on_libretranslates_scale(server):
    """0-100, the probability among the languages this server translates from (LibreTranslate's
    detector knows only its installed languages): a short clear text is not 2 % sure."""
    served = {e["code"] for e in call(server, "/languages")[1] if e["targets"]}
    for text, floor in (("Hello", 35), ("Hello, how are you?", 90), ("Le gouvernement a présenté son budget mardi.", 90)):
        status, body, _ = call(server, "/detect", {"q": text})
        assert status == 200 and body[0]["confidence"] >= floor, (text, body)
        assert {d["language"] for d in body} <= served and sum(d["confidence"] for d in body) <= 100.2
    assert body[0]["language"] == "fr"


def test_segments_say_when_the_text_is_already_in_the_target_language(server):
    status, body, _ = call(server, "/translate_segments", {"q": "Hello, how are you today?", "source": "auto", "target": "en"})
    assert status == 200 and body["source"] == body["target"] == "en"
    assert body["note"] == "The text is already in English: nothing to translate."
    status, body, _ = call(server, "/translate_segments", {"q": "Bonjour.", "source": "fr", "target": "en"})
    assert status == 200 and "note" not in body and body["segments"]


# --- the page at / --------------------------------------------------------------------------------


def _dom(url: str, query: dict, tmp_path) -> str:
    import subprocess
    import urllib.parse

    from test_writers import CHROME_FLAGS, find_browser

    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (.ci/run installs Debian's chromium where apt-get works)")
    return subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
                           "--dump-dom", f"{url}/?{urllib.parse.urlencode(query)}"],
                          capture_output=True, text=True, timeout=120, check=True).stdout


def _status(dom: str) -> str:
    from lxml import etree

    root = etree.fromstring(dom.encode(), etree.HTMLParser())
    return "".join(root.find(".//*[@id='status']").itertext())


def test_page_says_the_text_is_already_in_english(server, tmp_path):
    dom = _dom(server, {"q": "Hello, how are you today? The weather is fine.", "target": "en"}, tmp_path)
    assert _status(dom) == "The text is already in English: nothing to translate."


def test_page_explains_text_over_the_limit(settings, tmp_path):
    from dataclasses import replace

    with running(replace(settings, char_limit=50)) as url:
        dom = _dom(url, {"q": "Le vote aura lieu jeudi. " * 4, "source": "fr", "target": "en"}, tmp_path)
    assert _status(dom) == ("The text is 100 characters long; this server translates at most 50 at a time. "
                            "Shorten it or translate it in parts.")


def test_page_has_upload_copy_and_says_it_runs_locally(server):
    import urllib.request

    with urllib.request.urlopen(server + "/") as response:
        page = response.read().decode()
    assert 'type="file"' in page and 'fetch("translate_file"' in page and "translatedFileUrl" in page
    assert 'id="copy"' in page and "navigator.clipboard.writeText(translation)" in page
    assert "Everything runs on this machine" in page
