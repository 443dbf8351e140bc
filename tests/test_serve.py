"""`tk serve`: the LibreTranslate API on a real server, started here on 127.0.0.1 on a free port.

Clients: libretranslatepy (a real LibreTranslate client nobody here wrote) for form-encoded
string requests, plain urllib for JSON, lists, files and headers. Models: the tiny fr-en / en-fr
/ de-en copy models of the offline test hub, so a translation can be checked against the request
it answers and against `tk translate` on the same text.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from libretranslatepy import LibreTranslateAPI  # noqa: E402
from test_writers import CHROME_FLAGS, find_browser  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from translate_kit.cli import app as cli_app  # noqa: E402
from translate_kit.runtime.ct2 import Ct2Engine  # noqa: E402
from translate_kit.runtime.engine import Engine  # noqa: E402
from translate_kit.errors import ModelUnavailable  # noqa: E402
from translate_kit.options import RunOptions  # noqa: E402
from translate_kit.serve import service  # noqa: E402
from translate_kit.serve.app import Settings  # noqa: E402
from translate_kit.serve.testing import running  # noqa: E402

TEXT = ("Le gouvernement a présenté son budget mardi. Les syndicats appellent à la grève.\n\n"
        "La ministre défend la réforme devant l'Assemblée. Elle promet des mesures rapides.")


@pytest.fixture
def settings(offline_hub, tmp_path) -> Settings:
    return Settings(run=RunOptions.from_env(cache_dir=tmp_path / "tk-cache"), batch_wait=0.02)


@pytest.fixture
def server(settings):
    with running(settings) as url:
        yield url


@pytest.fixture
def generated(monkeypatch) -> list[list[str]]:
    """The texts of every batch a model (torch or CTranslate2) decodes, batch by batch."""
    batches: list[list[str]] = []
    for cls in (Engine, Ct2Engine):
        original = cls.__dict__["run"]

        def recording(self, texts, *args, _original=original, **kwargs):
            for positions, outputs, scores in _original(self, texts, *args, **kwargs):
                batches.append([texts[i] for i in positions])
                yield positions, outputs, scores

        monkeypatch.setattr(cls, "run", recording)
    return batches


def call(url: str, path: str, body=None, *, form: bool = False, headers: dict | None = None, method: str | None = None):
    """(status, parsed JSON or text, headers) of one request."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw, status, got = response.read(), response.status, response.headers
    except urllib.error.HTTPError as err:
        raw, status, got = err.read(), err.code, err.headers
    try:
        return status, json.loads(raw), got
    except ValueError:
        return status, raw.decode("utf-8", "replace"), got


def tk_translate(path: Path, cache: Path, out: Path) -> tuple[str, dict]:
    result = CliRunner().invoke(cli_app, ["translate", str(path), "--from", "fr", "--to", "en", "--out", str(out),
                                          "--cache-dir", str(cache), "--format", "txt", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    return (out / f"{path.stem}.fr-en.txt").read_text(encoding="utf-8"), json.loads(result.stdout)["documents"][0]


# --- the API as clients call it -------------------------------------------------------------------


def test_libretranslatepy_translate_detect_languages_equal_tk_translate(server, settings, tmp_path):
    lt = LibreTranslateAPI(server)
    doc = tmp_path / "article.txt"
    doc.write_text(TEXT + "\n", encoding="utf-8")
    expected, _ = tk_translate(doc, tmp_path / "other-cache", tmp_path / "out")  # its own cache: the model ran
    assert lt.translate(TEXT, "fr", "en") == expected.rstrip("\n")
    assert lt.translate("Bonjour.", "fr", "en").strip()

    langs = {entry["code"]: entry for entry in lt.languages()}
    assert set(langs["fr"]["targets"]) == {"en"} and set(langs["en"]["targets"]) == {"fr"}
    assert set(langs["de"]["targets"]) == {"en", "fr"}  # de -> fr through English: a pivot
    assert langs["fr"]["name"] == "French"

    detected = lt.detect("Le gouvernement a présenté son budget mardi devant les députés.")
    assert detected[0]["language"] == "fr" and 0 < detected[0]["confidence"] <= 100


def test_json_list_auto_and_form(server, tmp_path):
    sentences = ["Les syndicats appellent à la grève.", "Elle promet des mesures rapides.", "Les syndicats appellent à la grève."]
    status, body, _ = call(server, "/translate", {"q": sentences, "source": "fr", "target": "en"})
    assert status == 200 and isinstance(body["translatedText"], list) and len(body["translatedText"]) == 3
    single = [call(server, "/translate", {"q": s, "source": "fr", "target": "en"})[1]["translatedText"] for s in sentences]
    assert body["translatedText"] == single and body["translatedText"][0] == body["translatedText"][2]

    status, body, _ = call(server, "/translate", {"q": TEXT, "source": "auto", "target": "en", "alternatives": 2})
    assert status == 200 and body["detectedLanguage"]["language"] == "fr" and isinstance(body["alternatives"], list)
    status, form, _ = call(server, "/translate", {"q": TEXT, "source": "fr", "target": "en"}, form=True)
    assert status == 200 and form["translatedText"] == body["translatedText"]


def _tags(markup: str, page: bool = False) -> list:
    import lxml.html

    root = lxml.html.document_fromstring(markup) if page else lxml.html.fragment_fromstring(markup, create_parent="div")
    return [(el.tag, dict(el.attrib)) for el in root.iter() if isinstance(el.tag, str)]


def test_html_translates_whole_sentences_and_keeps_the_markup(server, generated):
    """format=html: a sentence with a link or emphasis inside goes to the model whole (not as three
    fragments) and its inline markup comes back on the translation; scripts, styles and code are
    not sent; navigation and bare text between blocks are; every element and attribute stays."""
    page = ('<p class="x">Les syndicats &amp; la <a href="/m">ministre</a> parlent.</p>'
            '<script>var a = "<b>";</script><br/>Elle promet des <em>mesures</em> rapides.'
            '<div>\n  <pre>  ne pas traduire  </pre><p>Le vote <code>x = 1</code> aura lieu.</p>\n</div>'
            '<nav><ul><li>Accueil</li></ul></nav><style>p { color: red }</style>')
    status, body, _ = call(server, "/translate", {"q": page, "source": "fr", "target": "en", "format": "html"})
    assert status == 200
    out = body["translatedText"]
    sent = sorted(t for batch in generated for t in batch)
    assert sent == sorted(["Les syndicats & la ministre parlent.", "Elle promet des mesures rapides.",
                           "Le vote x = 1 aura lieu.", "Accueil"])  # entities decoded; blocks whole; no script, style, pre
    assert _tags(out) == _tags(page)  # the same elements, attributes and nesting
    assert '<script>var a = "<b>";</script>' in out and "<pre>  ne pas traduire  </pre>" in out
    assert "<code>x = 1</code>" in out and "<style>p { color: red }</style>" in out
    assert not out.startswith(("<div", "<html")) and "<body" not in out  # a fragment is answered as a fragment

    doc = ("<!DOCTYPE html>\n<html><head><title>Le budget</title><meta charset='utf-8'></head>"
           "<body><h1>Le budget</h1><p>La ministre défend la réforme.</p></body></html>")
    status, body, _ = call(server, "/translate", {"q": [doc, "<b>Bonjour</b>"], "source": "fr", "target": "en", "format": "html"})
    assert status == 200
    whole, small = body["translatedText"]
    assert whole.startswith("<!DOCTYPE html>\n<html>") and _tags(whole, page=True) == _tags(doc, page=True)
    assert small.startswith("<b>") and small.endswith("</b>")
    status, body, _ = call(server, "/translate", {"q": "<p>Bonjour.</p>", "source": "fr", "target": "fr", "format": "html"})
    assert status == 200 and body["translatedText"] == "<p>Bonjour.</p>"  # the same language: as given


def test_the_cache_is_shared_with_tk_translate_both_ways(server, settings, tmp_path, generated):
    cache = settings.run.cache_dir
    first = tmp_path / "first.txt"
    first.write_text(TEXT + "\n", encoding="utf-8")
    expected, report = tk_translate(first, cache, tmp_path / "out1")
    assert report["translated"] == 4
    generated.clear()
    status, body, _ = call(server, "/translate", {"q": TEXT, "source": "fr", "target": "en"})
    assert status == 200 and body["translatedText"] == expected.rstrip("\n") and generated == []  # all from the cache

    other = "Le vote aura lieu jeudi. Les députés débattent encore."
    assert call(server, "/translate", {"q": other, "source": "fr", "target": "en"})[0] == 200
    second = tmp_path / "second.txt"
    second.write_text(other + "\n", encoding="utf-8")
    _, report = tk_translate(second, cache, tmp_path / "out2")
    assert (report["cached"], report["translated"]) == (2, 0)


def test_one_model_per_pair_loaded_once(settings, monkeypatch):
    from translate_kit import runtime

    loads = []
    original = runtime.open_engine
    monkeypatch.setattr(runtime, "open_engine", lambda ref, *args, **kw: loads.append(ref.repo) or original(ref, *args, **kw))
    with running(settings) as url:
        for text in ("Un chat.", "Deux chiens.", "Trois oiseaux."):
            assert call(url, "/translate", {"q": text, "source": "fr", "target": "en"})[0] == 200
        assert call(url, "/translate", {"q": "Hello there.", "source": "en", "target": "fr"})[0] == 200
        assert call(url, "/translate", {"q": "Guten Tag.", "source": "de", "target": "fr"})[0] == 200  # pivot: de-en, en-fr
    assert sorted(loads) == sorted(["Helsinki-NLP/opus-mt-fr-en", "Helsinki-NLP/opus-mt-en-fr", "Helsinki-NLP/opus-mt-de-en"])


def test_translate_file_and_download_once(server, tmp_path):
    status, body, _ = upload(server, "article.md", (TEXT + "\n").encode())
    assert status == 200, body
    url = body["translatedFileUrl"]
    assert url.startswith(server) and "article" not in url  # the token, never the client's name
    with urllib.request.urlopen(url) as response:
        text = response.read().decode()
        assert 'filename="article.md"' in response.headers["Content-Disposition"]
    assert text == call(server, "/translate", {"q": TEXT, "source": "fr", "target": "en"})[1]["translatedText"] + "\n"
    with pytest.raises(urllib.error.HTTPError) as again:
        urllib.request.urlopen(url)
    assert again.value.code == 404  # deleted once downloaded


def test_translate_file_answers_in_the_uploads_own_format(server, tmp_path):
    """As LibreTranslate answers a file: a DOCX comes back as a DOCX (the reader's translated copy,
    styles kept), an HTML page as HTML (markup, links and scripts kept); under the copy model each
    paragraph resembles its source. A PDF, which has no translated copy, comes back as text."""
    import difflib

    import docx
    import docfixtures as F
    import lxml.html

    status, body, _ = upload(server, "note.docx", F.docx(tmp_path).read_bytes())
    assert status == 200, body
    with urllib.request.urlopen(body["translatedFileUrl"]) as response:
        data = response.read()
        assert 'filename="note.docx"' in response.headers["Content-Disposition"]
        assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    (tmp_path / "answer.docx").write_bytes(data)
    answer = docx.Document(str(tmp_path / "answer.docx"))
    original = docx.Document(str(F.docx(tmp_path)))
    assert [p.style.name for p in answer.paragraphs] == [p.style.name for p in original.paragraphs]
    heading = answer.paragraphs[0].text
    assert difflib.SequenceMatcher(None, heading, F.DOCX_EXPECTED[0][1]).ratio() > 0.5, heading

    page = F.news_page(tmp_path).read_bytes()
    status, body, _ = upload(server, "article.html", page)
    assert status == 200, body
    with urllib.request.urlopen(body["translatedFileUrl"]) as response:
        html = response.read().decode()
        assert 'filename="article.html"' in response.headers["Content-Disposition"]
        assert response.headers["Content-Type"].startswith("text/html")
    root = lxml.html.document_fromstring(html)
    assert root.get("lang") == "en" and root.xpath("//a[@href='https://example.org/vote']")
    assert len(root.xpath("//script")) == len(lxml.html.document_fromstring(page).xpath("//script"))

    status, body, _ = upload(server, "report.pdf", F.pdf(tmp_path).read_bytes())
    assert status == 200, body
    with urllib.request.urlopen(body["translatedFileUrl"]) as response:
        assert 'filename="report.txt"' in response.headers["Content-Disposition"] and response.read().strip()


def upload(url: str, filename: str, data: bytes, fields: dict | None = None):
    boundary = "tkboundary7d1"
    parts = []
    for name, value in {"source": "fr", "target": "en", **(fields or {})}.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: text/plain\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return _post_raw(url + "/translate_file", b"".join(parts), f"multipart/form-data; boundary={boundary}")


def _post_raw(url: str, data: bytes, content_type: str):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers


@pytest.mark.parametrize("body, status, words", [
    ({"source": "fr", "target": "en"}, 400, "missing q"),
    ({"q": "Bonjour.", "target": "en"}, 400, "missing source"),
    ({"q": "Bonjour.", "source": "xx", "target": "en"}, 400, "xx is not supported"),
    ({"q": "Bonjour.", "source": "fr", "target": "de"}, 400, "not available as a target language"),
    ({"q": "Bonjour.", "source": "fr", "target": "en", "format": "pdf"}, 400, "pdf format is not supported"),
    ({"q": [1, 2], "source": "fr", "target": "en"}, 400, "list of strings"),
    ({"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": "many"}, 400, "not a number"),
    ({"q": "Bonjour.", "source": "fr", "target": "en", "checks": "perhaps"}, 400, "checks parameter must be true or false"),
])
def test_bad_requests_are_400_with_an_error(server, body, status, words):
    got, answer, _ = call(server, "/translate", body)
    assert got == status and words in answer["error"] and set(answer) == {"error"}


def test_invalid_json_and_unknown_routes(server):
    status, body, _ = _post_raw_json(server + "/translate", b"{not json")
    assert status == 400 and body == {"error": "Invalid JSON format"}
    status, body, _ = call(server, "/nope")
    assert status == 404 and "error" in body


def _post_raw_json(url, data):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers


def test_frontend_settings(server):
    status, body, _ = call(server, "/frontend/settings")
    assert status == 200 and body["charLimit"] == 20_000 and body["apiKeys"] is False
    formats = body["supportedFilesFormat"]
    assert formats[:2] == [".txt", ".md"] and {".html", ".pdf", ".docx"} <= set(formats)
    assert body["language"]["target"]["code"] == "en"


def test_model_failures_say_nothing_about_paths(settings, monkeypatch):
    def broken(self, src, tgt):
        raise ModelUnavailable("/home/secret/.cache/huggingface/hub/models--x: weights damaged")

    monkeypatch.setattr(service.Service, "translator", broken)
    with running(settings) as url:
        status, body, _ = call(url, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en"})
    assert status == 500 and "secret" not in body["error"] and "/" not in body["error"].replace("fr-en", "")
    assert "Traceback" not in json.dumps(body)


# --- concurrency ----------------------------------------------------------------------------------


def test_sixteen_clients_share_model_calls_and_every_answer_is_right(server, settings, tmp_path, generated):
    """16 threads x 25 requests of distinct sentences: every answer is the translation of its own
    request (the same as one list request to a fresh server gives), none lost, and the model's
    batches mix several requests' sentences."""
    def sentence(client: int, i: int) -> str:
        return f"Le conseil numéro {client * 100 + i} se réunit demain matin."

    def client(n: int) -> list[tuple[str, str]]:
        out = []
        for i in range(25):
            status, body, _ = call(server, "/translate", {"q": sentence(n, i), "source": "fr", "target": "en"})
            assert status == 200, body
            out.append((sentence(n, i), body["translatedText"]))
        return out

    with ThreadPoolExecutor(16) as pool:
        answers = [pair for result in pool.map(client, range(16)) for pair in result]
    assert len(answers) == 400 and len({s for s, _ in answers}) == 400
    sizes = [len(b) for b in generated]
    assert max(sizes) >= 4 and sum(1 for n in sizes if n > 1) >= 3, sizes  # requests shared model calls
    assert {s for s, _ in answers} <= {t for b in generated for t in b}
    health = call(server, "/stats")[1]
    assert health["grouped_requests"] == 400 and health["groups"] < 200  # requests were grouped: ~2+ a group

    fresh = replace(settings, run=RunOptions.from_env(cache_dir=tmp_path / "fresh-cache"))
    with running(fresh) as other:
        status, body, _ = call(other, "/translate", {"q": [s for s, _ in answers], "source": "fr", "target": "en"})
    assert status == 200 and body["translatedText"] == [t for _, t in answers]


def test_a_full_queue_answers_429_with_retry_after(settings, monkeypatch):
    gate, started = threading.Event(), threading.Event()
    original = service.Service.translate

    def slow(self, translator, texts, *rest):
        started.set()
        gate.wait(30)
        return original(self, translator, texts, *rest)

    monkeypatch.setattr(service.Service, "translate", slow)
    with running(replace(settings, queue=1, batch_wait=0.0)) as url:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(call, url, "/translate", {"q": "Un.", "source": "fr", "target": "en"})
            assert started.wait(30)  # the worker holds the first request
            second = pool.submit(call, url, "/translate", {"q": "Deux.", "source": "fr", "target": "en"})
            deadline = time.monotonic() + 10
            while call(url, "/stats")[1]["waiting"] < 1 and time.monotonic() < deadline:
                time.sleep(0.01)  # until the second waits in the queue
            status, body, headers = call(url, "/translate", {"q": "Trois.", "source": "fr", "target": "en"})
            gate.set()
            assert status == 429 and body["error"].startswith("Slowdown") and int(headers["Retry-After"]) >= 1
            assert first.result()[0] == 200 and second.result()[0] == 200


# --- security -------------------------------------------------------------------------------------


def test_api_keys(settings):
    with running(replace(settings, api_keys=frozenset({"k-123"}))) as url:
        lt = LibreTranslateAPI(url, api_key="k-123")
        assert lt.translate("Bonjour.", "fr", "en")
        with pytest.raises(urllib.error.HTTPError) as denied:
            LibreTranslateAPI(url).translate("Bonjour.", "fr", "en")
        assert denied.value.code == 403 and json.loads(denied.value.read()) == {"error": "Invalid API key"}
        status, _, _ = call(url, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en", "api_key": "k-12"})
        assert status == 403
        assert call(url, "/detect", {"q": "Bonjour."})[0] == 403
        assert call(url, "/detect", {"q": "Bonjour.", "api_key": "clé-ü"})[0] == 403  # not ASCII: still 403, not 500
        assert upload(url, "a.txt", b"Bonjour.")[0] == 403
        assert call(url, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en", "api_key": "k-123"})[0] == 200
        assert call(url, "/languages")[0] == 200  # as LibreTranslate: the language list needs no key


def test_oversized_text_and_file_are_413(settings):
    with running(replace(settings, char_limit=50, file_limit=100)) as url:
        status, body, _ = call(url, "/translate", {"q": "mot " * 20, "source": "fr", "target": "en"})
        assert status == 413 and "exceeds text limit (50)" in body["error"]
        status, _, _ = call(url, "/translate", {"q": ["mot " * 7, "mot " * 7], "source": "fr", "target": "en"})
        assert status == 413  # the limit is per request, lists included
        assert call(url, "/translate", {"q": "Bonjour.", "source": "fr", "target": "en"})[0] == 200
        status, body, _ = upload(url, "big.txt", b"Bonjour. " * 50)
        assert status == 413 and "error" in body
        status, body, _ = _post_raw_json(url + "/translate", json.dumps({"q": "x" * 70_000}).encode())
        assert status == 413 and "too large" in body["error"]  # the body itself, before it is parsed


def test_cors_only_for_the_allowed_origin(settings):
    with running(settings) as url:
        _, _, headers = call(url, "/languages", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in {k.lower() for k in headers}
    with running(replace(settings, cors_origins=("moz-extension://abc",))) as url:
        _, _, allowed = call(url, "/languages", headers={"Origin": "moz-extension://abc"})
        _, _, other = call(url, "/languages", headers={"Origin": "https://evil.example"})
        assert allowed["Access-Control-Allow-Origin"] == "moz-extension://abc"
        assert other["Access-Control-Allow-Origin"] is None


def test_malicious_upload_filename_stays_in_the_private_folder(server, tmp_path):
    target = tmp_path / "escaped.txt"
    evil = "../" * 12 + str(target).lstrip("/")
    before = set(os.listdir(tmp_path))
    status, body, _ = upload(server, evil, "Le vote aura lieu jeudi.\n".encode())
    assert status == 200, body
    assert not target.exists() and set(os.listdir(tmp_path)) == before
    with urllib.request.urlopen(body["translatedFileUrl"]) as response:
        disposition = response.headers["Content-Disposition"]
    assert "/" not in disposition and ".." not in disposition.replace('"', "").split("=")[1].lstrip(".")
    status, body, _ = call(server, "/download_file/..%2F..%2Fetc%2Fpasswd")
    assert status == 404 and "passwd" not in json.dumps(body)


def test_private_folder_is_private_and_removed(settings):
    from translate_kit.serve.files import FileStore

    store = FileStore(ttl=0.0)
    assert (store.folder.stat().st_mode & 0o777) == 0o700
    token = store.put("x", "a.txt")
    assert store.take(token) is None and [p.name for p in store.folder.iterdir()] == [".lock"]  # past its TTL: gone
    store.close()
    assert not store.folder.exists()


# --- the page, shutdown, the command ----------------------------------------------------------------


def test_page_shows_sentences_side_by_side_in_headless_chromium(server, tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (.ci/run installs Debian's chromium where apt-get works)")
    query = urllib.parse.urlencode({"q": TEXT, "source": "fr", "target": "en"})
    dom = subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
                          "--dump-dom", f"{server}/?{query}"], capture_output=True, text=True, timeout=120, check=True).stdout
    from lxml import etree

    root = etree.fromstring(dom.encode(), etree.HTMLParser())
    rows = root.findall(".//main/section")
    assert len(rows) == 2  # two paragraphs
    sources = ["".join(s.itertext()) for s in rows[0].find("div[@class='src']").findall("span")]
    targets = rows[0].find("div[@class='tgt']").findall("span")
    assert sources == ["Le gouvernement a présenté son budget mardi.", "Les syndicats appellent à la grève."]
    assert len(targets) == 2 and all("".join(t.itertext()).strip() for t in targets)
    assert [s.get("data-k") for s in targets] == ["0-1", "0-2"]


def test_sigterm_lets_requests_in_flight_finish(offline_hub, tmp_path):
    cache = tmp_path / "tk-cache"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "translate_kit", "serve", "--port", "0", "--cache-dir", str(cache)],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()
        assert "http://127.0.0.1:" in line, line
        url = line.split()[-1].rstrip("/")
        long_text = " ".join(f"Le conseil numéro {i} se réunit demain." for i in range(60))
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(call, url, "/translate", {"q": long_text, "source": "fr", "target": "en"})
            time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            status, body, _ = answer.result(timeout=120)
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status == 200 and body["translatedText"].count("numéro") == 60
    db = sqlite3.connect(cache / "translations.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] >= 60


def test_serve_command_warns_when_exposed_without_keys_and_reads_keys(monkeypatch, tmp_path):
    pytest.importorskip("uvicorn")
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: seen.update(config=self.config))
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 0 and "warning: listening on 0.0.0.0 with no --api-keys" in result.stderr
    keys = tmp_path / "keys.txt"
    keys.write_text("# ours\nk-1\n\nk-2\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["serve", "--api-keys", str(keys)])
    assert result.exit_code == 0 and "warning" not in result.stderr and seen["config"].host == "127.0.0.1"
    result = CliRunner().invoke(cli_app, ["serve", "--api-keys", str(tmp_path / "none.txt")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "cannot read the API keys" in result.stderr


def test_help_does_not_import_the_server_stack():
    code = ("import sys; from translate_kit.cli import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn', 'starlette', 'torch', 'transformers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_languages_follow_models_pulled_while_running(settings, offline_hub, tmp_path, monkeypatch):
    """/languages (and the pair checks) are read again, not fixed at start: a model that lands in
    the local cache while the server runs is offered without a restart."""
    import shutil

    from translate_kit.serve import app as app_module

    hub = tmp_path / "hub"
    shutil.copytree(offline_hub.hub_cache, hub, symlinks=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(app_module, "LANGUAGES_TTL", 0.0)
    with running(settings) as url:
        before = {entry["code"]: entry["targets"] for entry in call(url, "/languages")[1]}
        assert "es" not in before
        status, body, _ = call(url, "/translate", {"q": "Hola.", "source": "es", "target": "en"})
        assert status == 400 and "es is not supported" in body["error"]
        shutil.copytree(hub / "models--Helsinki-NLP--opus-mt-fr-en", hub / "models--Helsinki-NLP--opus-mt-es-en", symlinks=True)
        after = {entry["code"]: entry["targets"] for entry in call(url, "/languages")[1]}
        assert after["es"] == ["en", "fr"]  # direct, and to French through English
        assert call(url, "/translate", {"q": "Hola.", "source": "es", "target": "en"})[0] == 200


def test_alternatives_are_the_beams_next_hypotheses(server, generated, monkeypatch):
    """alternatives=N: up to N other translations of each text, LibreTranslate's shape (a list
    per text of a list q), none equal to the answer; the answer itself still comes from the
    cache, the alternatives from the model's beam (which `tk translate` never stores)."""
    text = "Les syndicats appellent à la grève. La ministre défend la réforme."
    status, plain, _ = call(server, "/translate", {"q": text, "source": "fr", "target": "en"})
    assert status == 200
    asked = []
    for cls in (Engine, Ct2Engine):
        def hypotheses(self, texts, k, _original=cls.__dict__["hypotheses"]):
            asked.append((list(texts), k))
            return _original(self, texts, k)
        monkeypatch.setattr(cls, "hypotheses", hypotheses)
    generated.clear()
    status, body, _ = call(server, "/translate", {"q": text, "source": "fr", "target": "en", "alternatives": 3})
    assert status == 200 and body["translatedText"] == plain["translatedText"]
    others = body["alternatives"]
    assert 1 <= len(others) <= 3 and len(set(others)) == len(others) and plain["translatedText"] not in others
    assert all(o.count(".") >= 1 for o in others)
    assert generated == []  # the answer: from the cache
    assert [(sorted(texts), k) for texts, k in asked] == [(sorted(["Les syndicats appellent à la grève.",
                                                                   "La ministre défend la réforme."]), 4)]
    status, body, _ = call(server, "/translate", {"q": [text, "Bonjour."], "source": "fr", "target": "en", "alternatives": 1})
    assert status == 200 and len(body["alternatives"]) == 2 and all(len(a) <= 1 for a in body["alternatives"])
    status, body, _ = call(server, "/translate", {"q": text, "source": "fr", "target": "en", "alternatives": 99})
    assert status == 200 and len(body["alternatives"]) <= 5  # capped: the beam is widened to alternatives + 1
    status, body, _ = call(server, "/translate", {"q": "Guten Tag. Wie geht es?", "source": "de", "target": "fr", "alternatives": 2})
    assert status == 200 and isinstance(body["alternatives"], list)  # through English: the second model's beam


def test_every_request_follows_the_servers_glossary(settings, tmp_path, generated):
    """tk serve --glossary: the model reads the substituted sentence, and the server and
    tk translate --glossary share their cache entries (the same keys)."""
    from dataclasses import replace

    from translate_kit.glossary import Enforcer, load_glossary

    style = tmp_path / "style.tsv"
    style.write_text("fr\ten\nsyndicats\tunions\n", encoding="utf-8")
    with running(replace(settings, glossary=Enforcer(load_glossary(style)))) as url:
        status, body, _ = call(url, "/translate", {"q": TEXT, "source": "fr", "target": "en"})
    assert status == 200 and body["translatedText"]
    sent = [t for batch in generated for t in batch]
    assert "Les unions appellent à la grève." in sent and not any("syndicats" in t for t in sent)
    generated.clear()
    doc = tmp_path / "doc.txt"
    doc.write_text(TEXT + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["translate", str(doc), "--from", "fr", "--to", "en", "--out", str(tmp_path / "out"),
                                          "--cache-dir", str(settings.run.cache_dir), "--format", "jsonl", "--json",
                                          "-q", "--glossary", str(style)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"][0]["cached"] == 4 and generated == []


def test_serve_refuses_a_bad_glossary_before_starting(monkeypatch, tmp_path):
    pytest.importorskip("uvicorn")
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self: pytest.fail("the server must not start"))
    bad = tmp_path / "bad.tsv"
    bad.write_text("fr\ten\nOTAN\tNATO\nOTAN\tAlliance\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["serve", "--glossary", str(bad)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "conflicts with" in result.stderr


def test_checks_true_adds_verdicts_and_the_answer_is_unchanged_without(server):
    """`checks=true` (tk's own) adds `verdicts`, one per text: its worst sentence's verdict, every
    finding with its sentence's number, its lowest model score, and each sentence's own. Without
    it, the answer has LibreTranslate's keys only, and the translations are the same."""
    texts = [TEXT, "Le budget atteint 80 millions d'euros."]
    status, plain, _ = call(server, "/translate", {"q": texts, "source": "fr", "target": "en"})
    assert status == 200 and set(plain) == {"translatedText"}
    status, body, _ = call(server, "/translate", {"q": texts, "source": "fr", "target": "en", "checks": True})
    assert status == 200 and body["translatedText"] == plain["translatedText"] and len(body["verdicts"]) == 2
    for verdict in body["verdicts"]:
        sentences = verdict["sentences"]
        assert sentences and all(isinstance(s["score"], float) for s in sentences)  # the model's, or the cache's
        assert verdict["score"] == min(s["score"] for s in sentences)
        assert verdict["verdict"] == max((s["verdict"] for s in sentences), key=("ok", "check", "doubt").index)
        assert len(verdict["checks"]) == sum(len(s["checks"]) for s in sentences)
    status, form, _ = call(server, "/translate", {"q": texts[1], "source": "fr", "target": "en", "checks": "true"}, form=True)
    assert status == 200 and form["verdicts"]["verdict"] == body["verdicts"][1]["verdict"]  # one text: one verdict
    status, same, _ = call(server, "/translate", {"q": "Hello.", "source": "en", "target": "en", "checks": True})
    assert status == 200 and same["verdicts"] == {"verdict": "ok", "checks": [], "score": None, "sentences": []}
