"""`tk serve`'s uploads and the life of its work (issue 27): what an upload may expand to, the
reading lane apart from detection, same-language files answered as themselves, work cancelled
when its client leaves, upload folders of killed servers cleaned at the next start, a SIGTERM
that ends the server and removes its folder.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

import docfixtures as F  # noqa: E402
from test_serve import call, server, settings, upload  # noqa: E402,F401 - fixtures

from translate_kit.serve import batcher, service  # noqa: E402
from translate_kit.serve.files import FileStore, remove_stale  # noqa: E402
from translate_kit.serve.testing import running  # noqa: E402

ENV = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))


def download(url: str):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read(), response.headers


# --- same language: the file itself -------------------------------------------------------------


def test_same_language_files_come_back_unchanged_with_their_type(server, tmp_path):
    data = F.docx(tmp_path).read_bytes()
    status, body, _ = upload(server, "report.docx", data, {"source": "fr", "target": "fr"})
    assert status == 200, body
    got, headers = download(body["translatedFileUrl"])
    assert got == data and 'filename="report.docx"' in headers["Content-Disposition"]
    assert headers["Content-Type"] == service.MEDIA_TYPES["docx"]

    english = "The government presented its budget on Tuesday. The unions are calling for a strike.\n".encode("latin-1")
    status, body, _ = upload(server, "note.txt", english, {"source": "auto", "target": "en"})
    assert status == 200, body
    got, headers = download(body["translatedFileUrl"])
    assert got == english and headers["Content-Type"].startswith("text/plain")


# --- what an upload may expand to ------------------------------------------------------------------


def test_text_past_the_character_limit_is_413(settings):
    limits = service.UploadLimits(chars=200)
    with running(replace(settings, upload_limits=limits)) as url:
        status, body, _ = upload(url, "long.txt", ("Le vote aura lieu jeudi. " * 40).encode())
        assert status == 413 and "characters" in body["error"], body
        page = "<html><body>" + "<p>Le vote aura lieu jeudi.</p>" * 20 + "</body></html>"
        status, body, _ = upload(url, "page.html", page.encode())
        assert status == 413 and "characters" in body["error"], body
        assert upload(url, "short.txt", "Le vote aura lieu jeudi.".encode())[0] == 200


def bomb_docx(tmp_path: Path, megabytes: int) -> bytes:
    """A real DOCX whose document part inflates to `megabytes` MB (a few KB compressed)."""
    original = zipfile.ZipFile(F.docx(tmp_path))
    paragraph = b"<w:p><w:r><w:t>" + b"a" * 1000 + b"</w:t></w:r></w:p>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                data = head + b"<w:body>" + paragraph * (megabytes * 1000) + tail
            archive.writestr(info.filename, data)
    return out.getvalue()


def test_a_zip_bomb_upload_is_refused_while_it_inflates(settings, tmp_path, monkeypatch):
    reads = []
    monkeypatch.setattr(service, "make_document", lambda *a, **k: reads.append(a) or pytest.fail("read past the limit"))
    data = bomb_docx(tmp_path, 20)
    assert len(data) < 200_000
    with running(replace(settings, upload_limits=service.UploadLimits(expanded=5_000_000))) as url:
        status, body, _ = upload(url, "bomb.docx", data)
    assert status == 413 and "expands" in body["error"] and reads == []


# --- lanes: uploads never stall detection ---------------------------------------------------------


def test_slow_uploads_never_stall_detection(settings, monkeypatch):
    gate, reading = threading.Event(), []
    original = service.read_upload

    def slow(path, name, limits):
        reading.append(name)
        gate.wait(60)
        return original(path, name, limits)

    monkeypatch.setattr(service, "read_upload", slow)
    with running(settings) as url, ThreadPoolExecutor(8) as pool:
        uploads = [pool.submit(upload, url, f"a{i}.txt", "Le vote aura lieu jeudi.".encode()) for i in range(8)]
        deadline = time.monotonic() + 30
        while len(reading) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        status, body, _ = call(url, "/detect", {"q": "Le gouvernement a présenté son budget mardi."})
        auto = call(url, "/translate", {"q": "Le vote aura lieu jeudi.", "source": "auto", "target": "en"})
        elapsed = time.monotonic() - started
        assert len(reading) == 2  # the reading lane's two threads, the six others waiting for them
        gate.set()
        assert [u.result()[0] for u in uploads] == [200] * 8
    assert status == 200 and body[0]["language"] == "fr" and auto[0] == 200 and elapsed < 10


# --- work for a client that has gone away ----------------------------------------------------------


def _send_and_leave(url: str, text: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"q": text, "source": "fr", "target": "en"}).encode()
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.sendall(b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return sock


def test_work_for_a_client_that_left_is_cancelled(settings, monkeypatch):
    """The request being translated stops after the batch in progress; one still queued is never
    translated at all; the server goes on with the next."""
    translated, stopped = [], threading.Event()
    original = service.Service.translate

    def slow(self, translator, texts, advance=lambda n: None):
        translated.append(list(texts))
        if texts == ["Un."]:
            try:
                for _ in range(600):  # a long piece of work, batch after batch
                    time.sleep(0.05)
                    advance(0)
            except batcher.Abandoned:
                stopped.set()
                raise
        return original(self, translator, texts, advance)

    monkeypatch.setattr(service.Service, "translate", slow)
    with running(replace(settings, batch_wait=0.0)) as url:
        first = _send_and_leave(url, "Un.")
        deadline = time.monotonic() + 20
        while not translated and time.monotonic() < deadline:
            time.sleep(0.01)
        second = _send_and_leave(url, "Deux.")
        time.sleep(0.3)
        first.close()
        second.close()
        assert stopped.wait(10)
        assert call(url, "/translate", {"q": "Trois.", "source": "fr", "target": "en"})[0] == 200
    assert translated == [["Un."], ["Trois."]]  # "Deux." was skipped


# --- the upload folder: removed at SIGTERM, a killed server's cleaned at the next start -------------


def test_stale_folders_are_removed_and_live_ones_kept(tmp_path):
    live = FileStore(root=tmp_path)
    stale = tmp_path / "tk-serve-killed"
    stale.mkdir()
    (stale / ".lock").touch()
    (stale / "abc.in").write_bytes(b"secret")
    other = tmp_path / "tk-serve-nolock"
    other.mkdir()
    assert remove_stale(tmp_path) == [stale]
    assert live.folder.exists() and other.exists() and not stale.exists()
    live.close()
    assert not live.folder.exists()


def _start(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "translate_kit", "serve", "--port", "0", "--cache-dir",
                             str(tmp_path / "cache")], stderr=subprocess.PIPE, text=True,
                            env=dict(ENV, TMPDIR=str(tmp_path / "tmp")))
    line = proc.stderr.readline()
    assert "http://127.0.0.1:" in line, line
    return proc, line.split()[-1].rstrip("/")


def test_sigkill_leaves_a_folder_the_next_server_removes_and_sigterm_removes_its_own(offline_hub, tmp_path):
    (tmp_path / "tmp").mkdir()
    killed, _ = _start(tmp_path)
    killed.kill()
    killed.wait(30)
    left = list((tmp_path / "tmp").glob("tk-serve-*"))
    assert len(left) == 1
    proc, url = _start(tmp_path)
    try:
        assert not left[0].exists()
        assert call(url, "/health")[1] == {"status": "ok"}
        mine = list((tmp_path / "tmp").glob("tk-serve-*"))
        assert len(mine) == 1
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
        assert time.monotonic() - started < 30
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not mine[0].exists()
