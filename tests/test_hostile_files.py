"""Hostile and careless files against every reader (issue 27, Readers): short PDFs with running
headers, zip bombs, encrypted and damaged containers, huge or lying HTML, deep nesting, odd
subtitles, a slow server. Each answer is a correct reading or one clear line naming the file."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest

import docfixtures as F
from translate_kit.documents import read_document
from translate_kit.errors import DocumentError
from translate_kit.readers import get_reader


def blocks(doc) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in doc.blocks]


def one_line(err: DocumentError, name: str) -> str:
    text = str(err)
    assert "\n" not in text and name in text, text
    return text


# --- SRT: timing lines players read ------------------------------------------------------------

ODD_SRT = ("1\n00:00:01,000 --> 00:00:03,500\nPremière réplique.\n\n"
           "2\n00:00:04 --> 00:00:06\nSans millisecondes.\n\n"
           "3\n100:00:07,000 --> 100:00:08,000\nHeures à trois chiffres.\n\n"
           "4\n00:00:09,000 -> 00:00:10,000\nUne flèche courte.\n\n"
           "5\n00:00:11.5 --> 00:00:12.25\nUn point décimal.\n\n"
           "6\nquand il veut\nIllisible.\n\n"
           "7\n00:00:13,000 --> 00:00:14,000\nDernière réplique.\n")


def test_srt_reads_what_players_read_and_names_what_it_cannot(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, "translate_kit"):
        doc = read_document(F._write(tmp_path / "film.srt", ODD_SRT))
    assert [t for _, t in blocks(doc)] == ["Première réplique.", "Sans millisecondes.", "Heures à trois chiffres.",
                                           "Une flèche courte.", "Un point décimal.", "Dernière réplique."]
    assert any("1 cue(s)" in w and ": 6" in w for w in doc.warnings), doc.warnings
    copy = get_reader("srt").rebuild(doc, {p: [(b.text, "", b.text.upper())] for p, b in enumerate(doc.blocks)})
    for timing in ("00:00:04 --> 00:00:06", "100:00:07,000 --> 100:00:08,000", "00:00:09,000 -> 00:00:10,000"):
        assert timing in copy
    assert "UNE FLÈCHE COURTE." in copy and "6\nquand il veut\nIllisible." in copy  # every cue kept
    assert copy.count("\n\n") == 6


# --- URL: the timeout is for the whole fetch ---------------------------------------------------

import http.server  # noqa: E402
import time  # noqa: E402

from test_readers import local_server  # noqa: E402


class Trickle(http.server.BaseHTTPRequestHandler):
    """/drip: a page sent one byte a second; /loop: a redirect to itself."""

    def do_GET(self):
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        for _ in range(30):  # at most 30 s, whoever is listening
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(1)

    def log_message(self, *args):
        pass


def test_fetch_timeout_is_a_deadline_for_the_whole_fetch(monkeypatch):
    from translate_kit.readers._fetch import fetch

    monkeypatch.setenv("TK_FETCH_TIMEOUT", "2")
    with local_server(Trickle) as base:
        start = time.monotonic()
        with pytest.raises(DocumentError) as err:
            fetch(f"{base}/drip")
        took = time.monotonic() - start
        assert took < 3.5, took
        assert "timed out after 2 s" in one_line(err.value, base)
        with pytest.raises(DocumentError) as loop:
            fetch(f"{base}/loop")
        assert "redirect" in one_line(loop.value, "/loop")


# --- containers: zip bombs, encrypted or unreadable members, a manifest item without href --------

import subprocess  # noqa: E402
import sys  # noqa: E402

from translate_kit.readers._zip import Limits, check_archive  # noqa: E402


def test_docx_that_inflates_to_1gb_is_one_line_in_bounded_memory(tmp_path):
    bomb = F.zip_bomb(F.docx(tmp_path / "src"), tmp_path / "bombe.docx", "word/document.xml", 1 << 30)
    assert bomb.stat().st_size < 5_000_000
    code = ("import sys; from translate_kit.documents import read_document; from pathlib import Path\n"
            "from translate_kit.errors import DocumentError\n"
            "try:\n    read_document(Path(sys.argv[1]))\nexcept Exception as err:\n"
            "    print('DocumentError' if isinstance(err, DocumentError) else type(err).__name__, err)\n"
            "print('peak', next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=120)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("DocumentError ") and "bombe.docx" in lines[0] and "DOCX refused" in lines[0], out
    peak_mb = int(lines[1].split()[1]) / 1024  # VmHWM: this process's own peak (ru_maxrss outlives exec)
    assert peak_mb < 400, peak_mb  # the file inflates to 1 GB; tk inflates at most 64 MB of it, a block at a time


@pytest.mark.parametrize("kind", ["docx", "epub"])
def test_containers_are_bounded_while_inflating(tmp_path, kind):
    """The total, not only the ratio: a 6 MB member that barely compresses, against a 5 MB limit."""
    import os

    source = F.docx(tmp_path) if kind == "docx" else F.epub(tmp_path)
    data = source.read_bytes()
    check_archive(data, source.name, kind.upper())  # within the default limits
    with zipfile.ZipFile(source, "a") as archive:
        archive.writestr("media/noise.bin", os.urandom(6_000_000))
    with pytest.raises(DocumentError) as err:
        check_archive(source.read_bytes(), source.name, kind.upper(), Limits(total=5_000_000))
    assert "expands to over 5 MB" in one_line(err.value, source.name)
    with pytest.raises(DocumentError) as err:
        check_archive(source.read_bytes(), source.name, kind.upper(), Limits(member=5_000_000))
    assert "'media/noise.bin' expands to over 5 MB" in one_line(err.value, source.name)
    with pytest.raises(DocumentError) as err:
        check_archive(data, source.name, kind.upper(), Limits(members=2))
    assert "parts" in one_line(err.value, source.name)


@pytest.mark.parametrize("kind, member", [("docx", "word/document.xml"), ("epub", "OEBPS/a.xhtml")])
@pytest.mark.parametrize("mark, said", [({"encrypted": True}, "encrypted"), ({"method": 9}, "compression method 9"),
                                        ({"method": 99}, "compression method 99")])
def test_encrypted_or_unknown_compression_member_is_one_line(tmp_path, kind, member, mark, said):
    path = F.mark_member(F.docx(tmp_path) if kind == "docx" else F.epub(tmp_path), member, **mark)
    with pytest.raises(DocumentError) as err:
        read_document(path)
    assert said in one_line(err.value, path.name) and repr(member) in str(err.value)


def test_epub_manifest_item_without_href_and_missing_part(tmp_path):
    path = F.epub(tmp_path, manifest='<item id="c0" href="a.xhtml"/><item id="c1"/>')
    doc = read_document(path)
    assert [t for _, t in blocks(doc)] == ["Premier chapitre", "Il était une fois un roi."]
    assert any("without href" in w and "'c1'" in w for w in doc.warnings)
    missing = F.epub(tmp_path, "trou.epub", manifest='<item id="c0" href="a.xhtml"/><item id="c1" href="absent.xhtml"/>')
    with pytest.raises(DocumentError) as err:
        read_document(missing)
    assert "'OEBPS/absent.xhtml'" in one_line(err.value, "trou.epub")


# --- short PDFs: running headers and footers from two pages on -----------------------------------

@pytest.mark.parametrize("count", [2, 3, 10])
@pytest.mark.parametrize("header, footer", [
    ("Communiqué de presse - Ville de Lyon", ""),
    ("Communiqué de presse - Ville de Lyon", "Page {n} / {total}"),
    ("Ville de Lyon, communiqué, page {n}", ""),
    ("", "{n}"),
    ("", "Direction de la communication - {n}"),
    ("", ""),
])
def test_short_pdf_running_lines_are_found_and_never_join_the_text(tmp_path, count, header, footer):
    path = F.pdf(tmp_path, "communique.pdf", F.press_pages(count), header=header, footer=footer)
    doc = read_document(path)
    assert [t for _, t in blocks(doc)] == F.press_expected(count)
    if header and "{n}" not in header:
        assert doc.meta["page header"] == header
    if footer.startswith("Direction"):
        assert doc.meta["page footer"] == footer.format(n=1)


@pytest.mark.parametrize("header", ["", "Communiqué de presse - Ville de Lyon"])
def test_pdf_title_repeated_once_in_the_body_stays(tmp_path, header):
    path = F.pdf(tmp_path, "communique.pdf", F.press_pages(2, repeat_title=True), header=header)
    assert [t for _, t in blocks(read_document(path))] == F.press_expected(2, repeat_title=True)


# --- PDFs that used to crash a run: AES, nested arrays, truncation ---------------------------------

def test_aes_pdf_with_empty_user_password_is_read(tmp_path):
    path = F.pdf(tmp_path / "corpus", "aes.pdf", F.press_pages(2), aes=True)
    assert b"/AESV3" in path.read_bytes() or b"/AESV2" in path.read_bytes()
    assert [t for _, t in blocks(read_document(path))] == F.press_expected(2)
    from typer.testing import CliRunner

    from translate_kit.cli import app

    listed = CliRunner().invoke(app, ["ls", "--corpus", str(tmp_path / "corpus"), "--json"])
    assert listed.exit_code == 0 and '"error"' not in listed.stdout and '"aes"' in listed.stdout, listed.stdout


def test_pdf_content_nested_50000_deep_loses_that_page_only(tmp_path):
    doc = read_document(F.nested_pdf(tmp_path))
    assert [t for _, t in blocks(doc)] == F.press_expected(2)[3:]
    assert any("page(s) 1 skipped" in w for w in doc.warnings)


def test_truncated_pdf_is_one_line_with_pypdf_words_in_it(tmp_path, capfd):
    data = F.pdf(tmp_path, "entier.pdf", F.press_pages(2)).read_bytes()
    path = F._write(tmp_path / "coupe.pdf", data[: len(data) * 2 // 3])
    with pytest.raises(DocumentError) as err:
        read_document(path)
    assert "EOF marker not found" in one_line(err.value, "coupe.pdf")
    assert "EOF marker" not in capfd.readouterr().err  # no line of pypdf's own


# --- HTML: lying charsets, deep nesting, very large pages -------------------------------------------

ARTICLE = ("<h1>Le plan vélo est adopté</h1>"
           + "".join(f"<p>Le conseil municipal a voté un plan pour le quartier {q} : des pistes cyclables séparées "
                     f"de la circulation, élargies et éclairées, seront construites d'ici à l'été prochain.</p>"
                     for q in F.QUARTERS[:6]))


def page(body: str, charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="{charset}"><title>Le plan vélo</title></head>'
            f"<body><nav><a href='/'>Accueil</a></nav><main><article>{body}</article></main></body></html>")


@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1252", "utf-16", "utf-16le", "no-such-charset"])
def test_page_whose_bytes_are_utf8_despite_its_charset(tmp_path, declared):
    path = F._write(tmp_path / "menteur.html", page(ARTICLE, declared).encode("utf-8"))
    doc = read_document(path)
    assert blocks(doc)[0] == ("heading", "Le plan vélo est adopté") and "Ã" not in doc.text
    assert any(f"declares charset {declared}" in w and "UTF-8" in w for w in doc.warnings), doc.warnings


def test_page_declared_utf8_in_windows_1252_is_detected_and_said(tmp_path):
    path = F._write(tmp_path / "latin.html", page(ARTICLE, "utf-8").encode("cp1252"))
    doc = read_document(path)
    assert blocks(doc)[0] == ("heading", "Le plan vélo est adopté")
    assert any("declares charset utf-8, which does not fit" in w for w in doc.warnings), doc.warnings


def test_honest_charset_is_trusted_without_a_word(tmp_path):
    doc = read_document(F._write(tmp_path / "honnete.html", page(ARTICLE, "windows-1252").encode("cp1252")))
    assert blocks(doc)[0] == ("heading", "Le plan vélo est adopté") and not doc.warnings


@pytest.mark.parametrize("depth", [300, 1500, 3000])
def test_deeply_nested_page_is_read(tmp_path, depth):
    body = "<div>" * depth + ARTICLE + "</div>" * depth
    doc = read_document(F._write(tmp_path / "profond.html", page(body)))
    texts = [t for _, t in blocks(doc)]
    assert texts[0] == "Le plan vélo est adopté" and len([t for t in texts if "quartier" in t]) == 6, texts
    assert "Accueil" not in doc.text
    assert (depth > 2048) == any("deeper than 2048" in w for w in doc.warnings)
    if depth > 2048:  # its translated copy: a plain page of the blocks
        copy = get_reader("html").rebuild(doc, {0: [(texts[0], "", "THE BIKE PLAN")]}, "en")
        assert "<h2>THE BIKE PLAN</h2>" in copy and 'lang="en"' in copy


def test_page_over_the_extractor_bound_is_read_element_by_element(tmp_path, monkeypatch):
    from translate_kit.readers import html

    monkeypatch.setattr(html, "MAX_EXTRACT_CHARS", 20_000)
    body = ARTICLE * 30
    called = []
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: called.append(1))
    doc = read_document(F._write(tmp_path / "grande.html", page(body)))
    assert not called and len(doc.blocks) == 7 * 30 and "Accueil" not in doc.text
    assert any("read element by element" in w for w in doc.warnings)


# --- Markdown: inline scripts, nesting past the parser's limit ---------------------------------------

def test_markdown_inline_script_never_reaches_the_model_and_comes_back(tmp_path):
    source = ("Le maire <script>alert('ne pas traduire');</script> a parlé, "
              "<style>p { color: red }</style>puis il est parti.\n")
    doc = read_document(F._write(tmp_path / "script.md", source))
    assert "alert" not in doc.text and "color" not in doc.text and "a parlé" in doc.text
    copy = get_reader("md").rebuild(doc, {0: [(doc.blocks[0].text, "", "THE MAYOR SPOKE, THEN LEFT.")]})
    assert "<script>alert('ne pas traduire');</script>" in copy and "<style>p { color: red }</style>" in copy


@pytest.mark.parametrize("depth", [30, 400])
def test_markdown_nested_past_the_parser_limit_is_read_and_said(tmp_path, depth):
    source = "# Titre\n\n" + "".join("  " * i + f"- élément numéro {i}\n" for i in range(depth)) + "\nFin du texte.\n"
    doc = read_document(F._write(tmp_path / "liste.md", source))
    items = [t for k, t in blocks(doc) if k == "list item"]
    assert items == [f"élément numéro {i}" for i in range(depth)]
    assert blocks(doc)[-1] == ("paragraph", "Fin du texte.")
    deep = [w for w in doc.warnings if "nested deeper than the Markdown parser" in w]
    assert bool(deep) == (depth > 100), doc.warnings
    copy = get_reader("md").rebuild(doc, {p: [(b.text, "", b.text.upper())] for p, b in enumerate(doc.blocks)})
    assert copy.splitlines()[2 + depth - 1] == "  " * (depth - 1) + f"- ÉLÉMENT NUMÉRO {depth - 1}"


# --- messages: one line, names quoted ------------------------------------------------------------

def test_newline_in_a_file_name_keeps_the_message_on_one_line(tmp_path):
    from translate_kit.documents import load_documents

    damaged = F._write(tmp_path / "rapport\nfinal.docx", b"PK\x03\x04 not really a zip")
    missing = str(tmp_path / "absent\r\n.txt")
    found = list(load_documents([str(damaged), missing]))
    assert len(found) == 2 and all(isinstance(e, DocumentError) for e in found)
    for err in found:
        assert "\n" not in str(err) and "\r" not in str(err), str(err)
    assert "'" + str(tmp_path) + "/rapport\\nfinal.docx'" in str(found[0])


def test_epub_bomb_is_refused_not_read(tmp_path):
    bomb = F.zip_bomb(F.epub(tmp_path / "src"), tmp_path / "bombe.epub", "OEBPS/a.xhtml", 200 << 20)
    with pytest.raises(DocumentError) as err:
        read_document(bomb)
    assert "EPUB refused" in one_line(err.value, "bombe.epub") and "'OEBPS/a.xhtml'" in str(err.value)
