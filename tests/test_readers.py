"""Readers (readers/): golden extraction tables per format from generated fixtures, metadata,
content sniffing, bad input, URLs against a local server, symbolic links, decoding repairs, and
the translated copies (--format native) rebuilt from them."""

from __future__ import annotations

import difflib
import http.server
import io
import json
import logging
import subprocess
import sys
import threading
import zipfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

import docfixtures as F
from translate_kit.cli import app
from translate_kit.documents import decode, load_documents, read_document
from translate_kit.errors import DocumentError
from translate_kit.readers import available, get_reader
from translate_kit.segment import reassemble, segment_document

runner = CliRunner()


def blocks(doc) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in doc.blocks]


def identity(doc, change=lambda text: text) -> dict[int, list[tuple[str, str, str]]]:
    """What a copying model gives, per paragraph: (source, space_after, target)."""
    out: dict[int, list] = {}
    for s in segment_document(doc, "fr"):
        out.setdefault(s.para, []).append((s.source, s.space_after, change(s.source.strip())))
    return out


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


# --- golden extraction tables -------------------------------------------------------------------

FORMATS = {
    "html": (F.news_page, F.NEWS_EXPECTED, F.NEWS_META),
    "md": (F.markdown, F.MARKDOWN_EXPECTED, {"title": "Le budget de la ville", "author": "Service communication"}),
    "pdf": (F.pdf, F.PDF_EXPECTED, {"title": "Rapport annuel", "author": "Région Sud", "pages": "3"}),
    "docx": (F.docx, F.DOCX_EXPECTED, F.DOCX_META),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden_extraction(tmp_path, fmt):
    make, expected, meta = FORMATS[fmt]
    doc = read_document(make(tmp_path))
    assert doc.format == fmt and blocks(doc) == expected
    assert {k: doc.meta.get(k) for k in meta} == meta
    # one paragraph per block, kinds by paragraph, and the segments join back to the extracted text
    segments = segment_document(doc, "fr")
    assert sorted({s.para for s in segments}) == list(range(len(expected)))
    assert reassemble(segments) == doc.text == "\n\n".join(text for _, text in expected)
    assert [doc.kind_of(i) for i in range(len(expected))] == [kind for kind, _ in expected]


def test_news_page_boilerplate_is_not_text(tmp_path):
    doc = read_document(F.news_page(tmp_path))
    assert not [word for word in F.BOILERPLATE if word in doc.text]
    assert doc.title == F.NEWS_META["title"]


def test_markdown_markup_never_reaches_the_model(tmp_path):
    doc = read_document(F.markdown(tmp_path))
    for markup in F.MARKDOWN_KEPT + ["ne pas traduire", "images/mairie.png", "example.org", "Service communication"]:
        assert markup not in doc.text, markup
    assert "hausse modérée" in doc.text and "Le nouvel hôtel de ville" in doc.text  # link text and alt text are


def test_pdf_running_lines_page_numbers_and_hyphens(tmp_path):
    text = read_document(F.pdf(tmp_path)).text
    assert "Rapport annuel 2024" not in text and not any(line.strip().isdigit() for line in text.splitlines())
    assert "transports" in text and "optimistes" in text and "au-delà" in text  # rejoined; the compound keeps its hyphen


def test_pdf_reads_page_by_page(tmp_path):
    """Many pages: every page's body text once, the repeated header never."""
    subjects, verbs = ["Le maire", "La région", "Le conseil", "Une association", "La préfecture"], \
        ["annonce un projet", "vote une aide", "ouvre un chantier", "publie un rapport", "lance une enquête",
         "reçoit des élus", "reporte une réunion", "signe un accord"]
    pages = [["Bulletin municipal", f"{subjects[i % 5]} {verbs[i // 5]} pour les habitants du quartier.", str(i + 1)]
             for i in range(40)]
    doc = read_document(F.pdf(tmp_path, pages=pages))
    assert len(doc.blocks) == 40 and "Bulletin municipal" not in doc.text
    assert [b.text for b in doc.blocks] == [p[1] for p in pages]


def test_plain_text_is_unchanged(seeds_dir):
    for seed in sorted(seeds_dir.glob("*.txt")):
        doc = read_document(seed)
        assert doc.format == "txt" and doc.blocks is None
        assert reassemble(segment_document(doc, "fr")) == seed.read_text(encoding="utf-8")


# --- formats by content -------------------------------------------------------------------------


def test_extension_and_content_disagree(tmp_path, caplog):
    page = F._write(tmp_path / "page.txt", F.NEWS_PAGE.encode())
    report = F.pdf(tmp_path, "report")  # no extension
    fake = F._write(tmp_path / "fake.pdf", "Ceci est un simple texte, pas un PDF.\n".encode())
    docs = [read_document(p) for p in (page, report, fake)]
    assert [d.format for d in docs] == ["html", "pdf", "txt"]
    assert "read as HTML" in docs[0].warnings[0] and not docs[1].warnings and "not a PDF" in docs[2].warnings[0]
    assert blocks(docs[0]) == F.NEWS_EXPECTED


def test_readers_are_picked_by_name():
    assert {"txt", "md", "html", "pdf", "docx"} <= set(available())
    assert get_reader("pdf").native_ext == "" and get_reader("docx").native_ext == "docx"


# --- bad input ----------------------------------------------------------------------------------


def bad_inputs(folder: Path) -> dict[Path, str]:
    good = F.docx(folder / "tmp", "good.docx").read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2: len(damaged) // 2 + 400] = b"\x00" * 400
    return {
        F._write(folder / "vide.html", F.NO_ARTICLE_PAGE.encode()): "no article text",
        F.pdf(folder, "scan.pdf", scan=True): "no text layer: run OCR first",
        F.pdf(folder, "secret.pdf", password="secret"): "encrypted PDF",
        F._write(folder / "cassé.docx", bytes(damaged)): "damaged DOCX",
        F._write(folder / "tronqué.docx", good[: len(good) // 3]): "damaged DOCX",
        F._write(folder / "ancien.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)): "legacy Word .doc",
    }


def test_bad_inputs_one_line_each(tmp_path):
    for path, problem in bad_inputs(tmp_path).items():
        [item] = load_documents([str(path)])
        assert isinstance(item, DocumentError), path
        assert problem in item.problem and str(item).startswith(str(path)) and "\n" not in str(item)


def test_bad_inputs_fail_alone_in_a_run(offline_hub, tmp_path):
    folder = tmp_path / "in"
    bad = bad_inputs(folder)
    good = F.news_page(folder)
    result = runner.invoke(app, ["translate", str(folder / "vide.html"), str(folder / "scan.pdf"), str(good),
                                 str(folder / "secret.pdf"), str(folder / "cassé.docx"), str(folder / "tronqué.docx"),
                                 str(folder / "ancien.docx"), "--out", str(tmp_path / "out"), "--beams", "1",
                                 "--quiet", "--json"])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("tk: ") and "WARNING" not in line]
    assert len(errors) == len(bad) and all(any(p in line for line in errors) for p in bad.values())
    report = json.loads(result.stdout)
    [ok] = [d for d in report["documents"] if not d["error"]]
    assert ok["format"] == "html" and all(Path(p).exists() for p in ok["outputs"])


# --- URLs ---------------------------------------------------------------------------------------


class Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.endswith("/slow"):
            time.sleep(3)
        if self.path.endswith(("/article", "/slow")) or self.path.startswith("http://news.invalid/"):
            body = F.NEWS_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_error(404, "Not Found")

    def log_message(self, *args):
        pass


@contextmanager
def local_server(handler=Pages):
    """`handler` served on 127.0.0.1 and a free port (also tests/test_hostile_files.py)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def test_url_is_fetched_and_read_as_html(no_proxy, monkeypatch):
    monkeypatch.setenv("TK_FETCH_TIMEOUT", "1")
    with local_server() as base:
        items = list(load_documents([f"{base}/2024/article", f"{base}/missing", f"{base}/slow",
                                     "http://127.0.0.1:9/refused"]))
    page, missing, slow, refused = items
    assert page.format == "html" and blocks(page) == F.NEWS_EXPECTED and page.source_name == f"{base}/2024/article"
    assert page.id == "article" and page.meta["url"] == F.NEWS_META["url"]
    assert "HTTP error 404" in str(missing) and "timed out after 1 s" in str(slow) and "cannot fetch" in str(refused)
    assert all(isinstance(i, DocumentError) and "\n" not in str(i) for i in (missing, slow, refused))


def test_url_size_limit(no_proxy, monkeypatch):
    monkeypatch.setenv("TK_FETCH_MAX_MB", "0.001")
    with local_server() as base:
        [item] = load_documents([f"{base}/article"])
    assert isinstance(item, DocumentError) and "too large" in str(item)


def test_url_goes_through_the_proxy(monkeypatch):
    """http_proxy is honoured: a request for a host that does not exist reaches the local proxy."""
    with local_server() as proxy:
        monkeypatch.setenv("http_proxy", proxy)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        [page] = load_documents(["http://news.invalid/2024/plan-velo"])
    assert not isinstance(page, DocumentError), page
    assert blocks(page) == F.NEWS_EXPECTED


# --- folders, links -----------------------------------------------------------------------------


def test_symlinks_leaving_the_folder(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="translate_kit")  # an earlier --quiet run may have raised it
    folder, outside = tmp_path / "in", tmp_path / "elsewhere"
    inside = F._write(folder / "a.txt", "Le chat dort.\n")
    secret = F._write(outside / "secret.txt", "Ne pas lire.\n")
    (folder / "link.txt").symlink_to(secret)
    (folder / "alias.txt").symlink_to(inside)  # inside the folder: read
    (folder / "dir").symlink_to(outside, target_is_directory=True)
    names = lambda items: sorted(Path(i.path).name for i in items)  # noqa: E731
    assert names(load_documents([str(folder)])) == ["a.txt", "alias.txt"]
    assert "outside the folder: skipped (--follow-links reads it)" in caplog.text
    assert names(load_documents([str(folder)], follow_links=True)) == ["a.txt", "alias.txt", "link.txt", "secret.txt"]
    assert names(load_documents([str(folder / "link.txt")])) == ["link.txt"]  # given explicitly: read as given


# --- decoding repairs and titles ----------------------------------------------------------------


def test_mixed_utf8_and_latin1_is_utf8_repaired():
    first = "Élève à l'école, déjà très bien. Ça va être génial !\n" * 4
    second = "Deuxième moitié écrite en Latin-1 : été, à, où, forêt, garçon.\n" * 8
    text, encoding, warnings = decode(first.encode() + second.encode("latin-1"), "mixed.txt")
    assert text == first + second and encoding == "utf-8"
    assert warnings and "mixed encodings" in warnings[0]


def test_surrogates_in_a_short_file_are_named():
    text, _, warnings = decode("Salut ".encode() + b"\xed\xa0\xbd\xed\xb8\x80 et \xed\xa0\x80 fin\n", "s.txt")
    assert text == "Salut 😀 et \ufffd fin\n" and "surrogate" in warnings[0]


def test_titles(tmp_path):
    long_line = "Un premier paragraphe très long " * 8
    assert read_document(F._write(tmp_path / "court.txt", "Titre court\n\nTexte.\n")).title == "Titre court"
    assert read_document(F._write(tmp_path / "long.txt", long_line + "\n")).title == "long.txt"
    assert read_document(F._write(tmp_path / "x.md", "Intro.\n\n## Le vrai titre\n\nTexte.\n")).title == "Le vrai titre"


def test_streamed_file_rewritten_while_read_fails_alone(offline_hub, tmp_path):
    from translate_kit import translate

    big = F._write(tmp_path / "gros.txt", ("Le chat dort sur le canapé. " * 40 + "\n\n") * 7200)
    assert big.stat().st_size >= 8_000_000
    docs = [read_document(big), read_document(F._write(tmp_path / "petit.txt", "Le chien joue.\n"))]
    big.write_bytes(b"\xff\xfe\xfa" + big.read_bytes()[3:])  # rewritten: no longer UTF-8
    results = list(translate(docs, "en", src="fr"))
    assert "changed while it was being read" in str(results[0].error) and "\n" not in str(results[0].error)
    assert results[1].error is None and results[1].segments[0].target


# --- translated copies --------------------------------------------------------------------------


def test_markdown_copy_restores_every_structure(tmp_path):
    doc = read_document(F.markdown(tmp_path))
    reader = get_reader("md")
    assert reader.rebuild(doc, identity(doc)) == F.MARKDOWN  # a copying model gives the file back
    assert not doc.warnings
    upper = reader.rebuild(doc, identity(doc, str.upper))
    assert "inline tag(s)" in doc.warnings[-1] and "moved to the boundary of their sentence" in doc.warnings[-1]
    for markup in F.MARKDOWN_KEPT:
        assert markup in upper, markup
    assert "HAUSSE MODÉRÉE" in upper and "LE NOUVEL HÔTEL DE VILLE" in upper and 'print("ne pas traduire")' in upper


def test_html_copy_keeps_the_page(tmp_path):
    from lxml import html as lxml_html

    doc = read_document(F.news_page(tmp_path))
    same = lxml_html.document_fromstring(get_reader("html").rebuild(doc, identity(doc), "en"))
    assert same.xpath("//strong")[0].text == "50 millions d'euros"  # found in the translation: mapped onto it
    assert same.xpath("//a[@href='https://example.org/vote']")[0].text == "vote historique"
    page = get_reader("html").rebuild(doc, identity(doc, str.upper), "en")
    root, original = lxml_html.document_fromstring(page), lxml_html.document_fromstring(F.NEWS_PAGE)
    assert root.get("lang") == "en"
    assert "LE CONSEIL MUNICIPAL A VOTÉ" in page and "« C'EST UNE VICTOIRE" in page
    assert "Partager sur Facebook" in page and "Nous utilisons des cookies" in page  # boilerplate kept, untranslated
    links = lambda r: sorted(r.xpath("//@href | //@src"))  # noqa: E731
    assert links(root) == links(original) and len(root.xpath("//script")) == len(original.xpath("//script"))
    assert [e.tag for e in root.iter("strong", "em", "a")] == [e.tag for e in original.iter("strong", "em", "a")]
    assert "50 MILLIONS D'EUROS" in root.xpath("//strong")[0].text_content()  # not found: moved to the sentence


def test_docx_copy_keeps_styles_and_formatting(tmp_path):
    import docx

    doc = read_document(F.docx(tmp_path))
    data = get_reader("docx").rebuild(doc, identity(doc, str.upper))
    copy, source = docx.Document(io.BytesIO(data)), docx.Document(str(F.docx(tmp_path / "again")))
    assert [p.style.name for p in copy.paragraphs] == [p.style.name for p in source.paragraphs]
    assert [p.text for p in copy.paragraphs if p.text] == [p.text.upper() for p in source.paragraphs if p.text]
    first = next(p for p in copy.paragraphs if p.text.startswith("LA RÉFORME"))
    assert len(first.runs) == 1 and first.runs[0].bold and first.runs[0].font.size.pt == 13  # the dominant run
    assert copy.tables[0].cell(1, 1).text == "SOIXANTE-DEUX ANS"
    assert copy.sections[0].header.paragraphs[0].text == F.DOCX_META["page header"]
    [link] = copy.paragraphs[-1].hyperlinks  # not found in the translation: moved to the sentence, target kept
    assert link.url == "https://example.org/greve" and "GRÈVE NATIONALE" in link.text
    same = docx.Document(io.BytesIO(get_reader("docx").rebuild(doc, identity(doc))))
    [link] = same.paragraphs[-1].hyperlinks  # found: mapped onto its words
    assert link.url == "https://example.org/greve" and link.text == "grève nationale"
    assert same.paragraphs[-1].text == "Les syndicats appellent à une grève nationale."


# --- the whole path -----------------------------------------------------------------------------


def mixed_folder(folder: Path) -> dict[str, Path]:
    return {
        "notes": F._write(folder / "notes.txt", "Le chat dort sur le canapé. Il fait beau.\n\nLe chien joue.\n".encode()),
        "budget": F.markdown(folder), "article": F.news_page(folder), "rapport": F.pdf(folder), "note": F.docx(folder),
    }


def test_folder_of_every_format_translates(offline_hub, tmp_path):
    files = mixed_folder(tmp_path / "in")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(tmp_path / "in"), "--to", "en", "--format", "all", "--from", "fr",
                                 "--out", str(out), "--beams", "1", "--quiet", "--json"])
    assert result.exit_code == 0, result.stderr
    report = {d["id"]: d for d in json.loads(result.stdout)["documents"]}
    assert {k: d["format"] for k, d in report.items()} == {"notes": "txt", "budget": "md", "article": "html",
                                                          "rapport": "pdf", "note": "docx"}
    natives = {"budget": "budget.en.md", "article": "article.en.html", "note": "note.en.docx"}
    for doc_id, path in files.items():
        outputs = {Path(p).name for p in report[doc_id]["outputs"]}
        bilingual = {f"{doc_id}.fr-en.{ext}" for ext in ("md", "jsonl", "txt", "html", "tmx", "xlf", "xliff12.xlf")}
        assert outputs == bilingual | ({natives[doc_id]} if doc_id in natives else set())
        assert all((out / name).stat().st_size for name in outputs)
        rows = [json.loads(line) for line in (out / f"{doc_id}.fr-en.jsonl").read_text(encoding="utf-8").splitlines()]
        doc = read_document(path)
        assert "".join(r["source"] + r["space_after"] for r in rows) == doc.text
        text = [r for r in rows if r["kind"] == "text"]
        sources = [r["source"].strip() for r in text]
        best = [max(range(len(sources)), key=lambda j: similarity(r["target"], sources[j])) for r in text]
        assert sum(i == j for i, j in enumerate(best)) >= 0.8 * len(text), doc_id  # aligned under the copy model
        if doc.blocks is not None:
            meta = rows[0]
            assert meta["kind"] == "metadata" and meta["format"] == doc.format and meta["source"] == ""
            assert [r["block"] for r in text] == [doc.kind_of(r["para"]) for r in text]
    header = (out / "article.fr-en.md").read_text(encoding="utf-8")
    assert header.startswith("# La ville adopte un plan vélo ambitieux")
    assert all(v in header for v in ("Marie Dupont", "2024-06-12", "Le Quotidien", F.NEWS_META["url"]))
    md_copy = (out / "budget.en.md").read_text(encoding="utf-8")
    assert all(markup in md_copy for markup in F.MARKDOWN_KEPT)
    from test_writers import LocalSchemas, SCHEMAS, parse_xml
    from lxml import etree

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    xliff = etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff_core_2.0.xsd"), parser))
    tmx = etree.DTD(str(SCHEMAS / "tmx14.dtd"))
    for doc_id in files:
        assert xliff.validate(parse_xml((out / f"{doc_id}.fr-en.xlf").read_text(encoding="utf-8"))), doc_id
        assert tmx.validate(parse_xml((out / f"{doc_id}.fr-en.tmx").read_text(encoding="utf-8"))), doc_id
    assert "x-author" in (out / "article.fr-en.tmx").read_text(encoding="utf-8")
    assert 'category="url"' in (out / "article.fr-en.xlf").read_text(encoding="utf-8")


def test_ls_shows_formats(tmp_path):
    mixed_folder(tmp_path)
    rows = json.loads(runner.invoke(app, ["ls", "--corpus", str(tmp_path), "--json"]).stdout)
    assert {r["id"]: r["format"] for r in rows} == {"notes": "txt", "budget": "md", "article": "html",
                                                    "rapport": "pdf", "note": "docx"}
    table = runner.invoke(app, ["ls", "--corpus", str(tmp_path)]).stdout
    assert table.splitlines()[0].split()[:2] == ["id", "format"] and " docx " in table


def test_help_imports_no_reader_library():  # (markdown_it is imported by typer's rich help itself)
    code = ("import sys; from translate_kit.cli import app; import typer.testing as t; "
            "r = t.CliRunner().invoke(app, ['translate', '--help']); assert r.exit_code == 0, r.output; "
            "assert 'native' in r.output and 'PDF' in r.output; "
            "bad = [m for m in ('trafilatura', 'pypdf', 'docx', 'lxml', 'fpdf') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)




# --- the copies open in the tools people use ----------------------------------------------------


def test_docx_copy_opens_in_libreoffice(tmp_path):
    import shutil

    import docx
    from pypdf import PdfReader

    doc = read_document(F.docx(tmp_path))
    copy = tmp_path / "note.en.docx"
    copy.write_bytes(get_reader("docx").rebuild(doc, identity(doc, str.upper)))
    assert docx.Document(str(copy)).paragraphs[0].text == "NOTE SUR LA RÉFORME DES RETRAITES"
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("no LibreOffice on PATH and none could be installed here (.ci/run installs Debian's "
                    "libreoffice-writer-nogui where apt-get works); the DOCX copy was opened with python-docx only")
    subprocess.run([office, "--headless", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(tmp_path / "pdf"), str(copy)], capture_output=True, timeout=180, check=True)
    text = " ".join(page.extract_text() for page in PdfReader(str(tmp_path / "pdf" / "note.en.pdf")).pages)
    assert "LA RÉFORME ENTRERA EN VIGUEUR" in text and "SOIXANTE-DEUX ANS" in text


def test_html_copy_opens_in_headless_chromium(tmp_path):
    from lxml import html as lxml_html
    from test_writers import chromium, find_browser

    doc = read_document(F.news_page(tmp_path))
    copy = tmp_path / "article.en.html"
    copy.write_text(get_reader("html").rebuild(doc, identity(doc, str.upper), "en"), encoding="utf-8")
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH and none could be installed here (.ci/run installs Debian's `chromium` "
                    "where apt-get works); the HTML copy was checked with lxml only")
    dom = chromium(browser, tmp_path, "--dump-dom", copy.as_uri()).stdout
    root = lxml_html.document_fromstring(dom)
    assert root.get("lang") == "en" and "LE CONSEIL MUNICIPAL A VOTÉ" in root.text_content()
    assert root.xpath("//a[@href='https://example.org/vote']") and not root.xpath("//script")


def test_subtitles_keep_their_timing(tmp_path):
    srt = ("1\n00:00:01,000 --> 00:00:03,500\nLe maire a pris la parole\ndevant le conseil.\n\n"
           "2\n00:00:04,000 --> 00:00:06,000\nIl a annoncé un plan vélo.\n")
    doc = read_document(F._write(tmp_path / "discours.srt", srt))
    assert blocks(doc) == [("caption", "Le maire a pris la parole devant le conseil."),
                           ("caption", "Il a annoncé un plan vélo.")]
    copy = get_reader("srt").rebuild(doc, identity(doc, str.upper))
    assert copy.splitlines()[:2] == ["1", "00:00:01,000 --> 00:00:03,500"] and "00:00:04,000 --> 00:00:06,000" in copy
    assert "IL A ANNONCÉ UN PLAN VÉLO." in copy and "00:00:01" not in doc.text


def test_epub_chapters_in_reading_order(tmp_path):
    path = tmp_path / "livre.epub"
    chapter = '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>{}</h1><p>{}</p><blockquote><p>{}</p></blockquote></body></html>'
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                      '<rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>')
        book.writestr("OEBPS/content.opf", '<package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                      '<metadata><dc:title>Le Livre</dc:title><dc:creator>Anne Auteur</dc:creator></metadata>'
                      '<manifest><item id="b" href="b.xhtml"/><item id="a" href="a.xhtml"/></manifest>'
                      '<spine><itemref idref="a"/><itemref idref="b"/></spine></package>')
        book.writestr("OEBPS/a.xhtml", chapter.format("Chapitre un", "Il était une fois.", "Dit-elle."))
        book.writestr("OEBPS/b.xhtml", chapter.format("Chapitre deux", "La suite arrive.", "Répondit-il."))
    doc = read_document(path)
    assert doc.format == "epub" and doc.meta["author"] == "Anne Auteur" and doc.title == "Le Livre"
    assert blocks(doc) == [("heading", "Chapitre un"), ("paragraph", "Il était une fois."), ("quote", "Dit-elle."),
                           ("heading", "Chapitre deux"), ("paragraph", "La suite arrive."), ("quote", "Répondit-il.")]


def test_html_fragment_is_read_whole_and_comes_back_a_fragment(tmp_path):
    fragment = ("<h2>Titre du fragment</h2>\n<ul><li><p>Un point <em>important</em>.</p></li></ul>\n"
                "<blockquote><p>Une citation.</p></blockquote>\n<table><tr><td>Case un</td><td>Case deux</td></tr></table>\n")
    doc = read_document(F._write(tmp_path / "extrait.htm", fragment))
    assert blocks(doc) == [("heading", "Titre du fragment"), ("list item", "Un point important."),
                           ("quote", "Une citation."), ("table cell", "Case un"), ("table cell", "Case deux")]
    copy = get_reader("html").rebuild(doc, identity(doc), "en")
    assert copy == f'<div lang="en">{fragment}</div>\n'  # a copying model gives the fragment back, in a lang element


def test_tk_translate_a_url(offline_hub, no_proxy, tmp_path):
    with local_server() as base:
        result = runner.invoke(app, ["translate", f"{base}/2024/article", f"{base}/missing", "--from", "fr",
                                     "--out", str(tmp_path / "out"), "--beams", "1", "--quiet", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if "WARNING" not in line]
    assert error == f"tk: {base}/missing: HTTP error 404 Not Found"
    page, missing = json.loads(result.stdout)["documents"]
    assert page["source"] == f"{base}/2024/article" and page["format"] == "html" and not page["error"]
    assert sorted(Path(p).name for p in page["outputs"]) == ["article.fr-en.jsonl", "article.fr-en.md", "article.fr-en.txt"]
    assert F.NEWS_META["url"] in (tmp_path / "out" / "article.fr-en.md").read_text(encoding="utf-8")


def test_a_lead_paragraph_gives_its_first_sentence_as_title(tmp_path):
    lead = "Le conseil a voté le budget. " + "Il prévoit des dépenses nouvelles pour les écoles et les routes. " * 4
    assert read_document(F._write(tmp_path / "lead.txt", lead + "\n")).title == "Le conseil a voté le budget."


def test_html_text_outside_any_block_element_is_said_in_the_copy(tmp_path):
    words = "Le texte de cet article est posé directement dans un bloc sans paragraphe. " * 6
    page = F.NEWS_PAGE.replace("<p>L'opposition dénonce", f"<div>{words}</div><p>L'opposition dénonce")
    doc = read_document(F._write(tmp_path / "div.html", page))
    [loose] = [b for b in doc.blocks if b.text == words.strip()]
    assert loose.anchor is None
    copy = get_reader("html").rebuild(doc, identity(doc, str.upper), "en")
    assert words.strip() in copy and "1 paragraph(s) found in no single element" in doc.warnings[-1]
