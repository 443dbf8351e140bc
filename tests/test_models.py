"""models.lock and `tk models list|pull|lock|verify`, `tk doctor`, and running with no network after a pull.

`lock` and `pull` run against a fake hub: a small http.server on 127.0.0.1 that answers the
three requests huggingface_hub makes (model info with file metadata, HEAD and GET of a file),
with HF_ENDPOINT pointing at it. Everything else is offline against the test hub.
"""

import hashlib
import json
import shutil
import socket
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import models
from translate_kit.cli import app
from translate_kit.errors import UnknownModel

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"
FR_EN = "Helsinki-NLP/opus-mt-fr-en"
HEADER = "# test lock: maintained with `tk models lock`.\n# second comment line\n"


def tk(*args, **env):
    return runner.invoke(app, [str(a) for a in args], env=env or None)


def write_lock(path: Path, entries: dict) -> Path:
    path.write_text(models.render_lock(HEADER.strip(), entries), encoding="utf-8")
    return path


def snapshot(hub, repo: str) -> Path:
    return hub.hub_cache / f"models--{repo.replace('/', '--')}" / "snapshots" / hub.shas[repo]


def locked_entry(hub, repo: str) -> dict:
    folder = snapshot(hub, repo)
    return {"repo": repo, "revision": "main", "commit": hub.shas[repo],
            "files": models.describe_files(folder, models.needed_files(sorted(p.name for p in folder.iterdir())))}


@pytest.fixture
def private_hub(offline_hub, tmp_path, monkeypatch):
    """A copy of the test hub's fr-en repo that a test may damage."""
    repo_dir = f"models--{FR_EN.replace('/', '--')}"
    shutil.copytree(offline_hub.hub_cache / repo_dir, tmp_path / "hub" / repo_dir, symlinks=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


# --- the lock file ---------------------------------------------------------------------------


def test_repo_lock_parses_and_keeps_its_header():
    text = (Path(__file__).parents[1] / "models.lock").read_text(encoding="utf-8")
    assert text.startswith("#") and "tk models lock" in models.lock_header(text)
    lock = models.load_lock(Path(__file__).parents[1] / "models.lock")
    assert {"fr-en", "en-fr", "de-en", "summarizer"} <= set(lock)
    assert lock["summarizer"].task == "summarization"


def test_update_lock_round_trips_and_keeps_header_and_other_entries(tmp_path):
    path = write_lock(tmp_path / "models.lock", {"fr-en": {"repo": FR_EN, "revision": "main"},
                                                 "mine": {"path": "models/mine", "task": "translation"}})
    files = {"model.safetensors": {"sha256": "a" * 64, "size": 12}, 'we"ird name.json': {"sha256": "b" * 64, "size": 3}}
    models.update_lock(path, {"fr-en": {"commit": "c" * 40, "files": files}})
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    data = tomllib.loads(text)["models"]
    assert data["fr-en"] == {"repo": FR_EN, "revision": "main", "commit": "c" * 40, "files": files}
    assert data["mine"] == {"path": "models/mine", "task": "translation"}
    assert "[models.fr-en.files]" in text
    entry = models.load_lock(path)["fr-en"]
    assert entry.locked and entry.files == files
    assert models.pick_model("fr", "en", lock=models.load_lock(path)).revision == "c" * 40


def test_update_lock_keeps_tier_scores_and_licence(tmp_path):
    scores = {"flores200-devtest": {"bleu": 46.0, "chrf": 69.35, "comet": 81.1}, "source": "https://example.org/s.txt"}
    path = write_lock(tmp_path / "models.lock", {
        "fr-en": {"repo": FR_EN, "license": "apache-2.0"},
        "fr-en.big": {"repo": "Helsinki-NLP/opus-mt-tc-big-fr-en", "license": "cc-by-4.0", "scores": scores},
        "xx-en.fine": {"repo": "me/xx-en", "tier": "big"}})
    models.update_lock(path, {"fr-en.big": {"commit": "c" * 40, "files": {"config.json": {"sha256": "a" * 64, "size": 3}}}})
    assert '[models."fr-en.big".scores]' in path.read_text(encoding="utf-8")  # quoted: the dot is part of the name
    lock = models.load_lock(path)
    big = lock["fr-en.big"]
    assert (big.tier, big.pair, big.license, big.scores, big.commit) == ("big", "fr-en", "cc-by-4.0", scores, "c" * 40)
    assert (lock["fr-en"].tier, lock["fr-en"].license, lock["fr-en"].scores) == ("base", "apache-2.0", {})
    assert (lock["xx-en.fine"].tier, lock["xx-en.fine"].pair) == ("big", "xx-en")  # `tier = ...` wins over the name
    assert models.pair_ref("fr", "en", lock, "big").repo == "Helsinki-NLP/opus-mt-tc-big-fr-en"
    assert models.pair_ref("de", "en", lock, "big") == models.ModelRef("Helsinki-NLP/opus-mt-de-en", "main")  # no tier: base


def test_lock_path_entries_are_local_folders_relative_to_the_lock(tmp_path):
    (tmp_path / "models" / "mine").mkdir(parents=True)
    lock = models.load_lock(write_lock(tmp_path / "models.lock", {"xx-en": {"path": "models/mine"}}))
    ref = models.pick_model("xx", "en", lock=lock)
    assert ref.local and ref.repo == str((tmp_path / "models" / "mine").resolve()) and ref.name == "xx-en"
    assert models.model_from_name("xx-en", lock).local


def test_lock_entry_without_repo_or_path_is_an_error(tmp_path):
    path = tmp_path / "models.lock"
    path.write_text("[models.broken]\nrevision = \"main\"\n", encoding="utf-8")
    with pytest.raises(UnknownModel, match="broken"):
        models.load_lock(path)


OPUS_FILES = [".gitattributes", "README.md", "config.json", "generation_config.json", "metadata.json",
              "pytorch_model.bin", "rust_model.ot", "source.spm", "target.spm", "tf_model.h5",
              "tokenizer_config.json", "vocab.json"]


@pytest.mark.parametrize("listing, expected", [
    (OPUS_FILES, ["config.json", "generation_config.json", "metadata.json", "pytorch_model.bin", "source.spm",
                  "target.spm", "tokenizer_config.json", "vocab.json"]),
    (OPUS_FILES + ["model.safetensors"], ["config.json", "generation_config.json", "metadata.json", "model.safetensors",
                                          "source.spm", "target.spm", "tokenizer_config.json", "vocab.json"]),
    (["config.json", "flax_model.msgpack", "merges.txt", "pytorch_model.bin", "rust_model.ot", "tokenizer.json",
      "vocab.json", "onnx/model.onnx", "onnx/config.json"],
     ["config.json", "merges.txt", "pytorch_model.bin", "tokenizer.json", "vocab.json"]),
    (["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors", "pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json"],
     ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
      "model.safetensors.index.json"]),
])
def test_needed_files_pick_one_weight_format(listing, expected):
    assert models.needed_files(listing) == expected


# --- list and verify (offline) ----------------------------------------------------------------


def test_list_reports_presence_size_and_lock_state(offline_hub, tmp_path, monkeypatch):
    lock = write_lock(tmp_path / "models.lock", {
        "fr-en": locked_entry(offline_hub, FR_EN),
        "de-en": {"repo": "Helsinki-NLP/opus-mt-de-en", "revision": "main"},
        "es-en": {"repo": "Helsinki-NLP/opus-mt-es-en", "revision": "main"},
        "mine": {"path": str(offline_hub.tiny_marian_64)},
    })
    monkeypatch.setenv("TK_MODELS_LOCK", str(lock))
    result = tk("models", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["models"]}
    assert (rows["fr-en"]["present"], rows["fr-en"]["lock"]) == (True, "ok")
    assert rows["fr-en"]["size"] == sum(f["size"] for f in locked_entry(offline_hub, FR_EN)["files"].values())
    assert rows["fr-en"]["path"] == str(snapshot(offline_hub, FR_EN))
    assert (rows["de-en"]["present"], rows["de-en"]["lock"]) == (True, "unlocked")
    assert (rows["es-en"]["present"], rows["es-en"]["lock"], rows["es-en"]["size"]) == (False, "absent", 0)
    assert rows["mine"]["present"] and rows["mine"]["local"]
    # one vocabulary: `locked` (commit and hashes recorded) in the table, the JSON and a run's report
    assert {name: row["locked"] for name, row in rows.items()} == {"fr-en": True, "de-en": False, "es-en": False, "mine": False}
    table = tk("models", "list").stdout.splitlines()
    assert table[0].startswith("device ")  # and the tier --quality auto picks on it
    cells = [line.split() for line in table[2:] if not line.startswith(" ")]  # not the scores/problem lines
    assert [row[3] for row in cells] == ["yes", "yes", "no", "yes"]  # present
    assert [row[-3] for row in cells] == ["yes", "no", "no", "no"]  # locked
    assert [row[1] for row in cells] == ["base", "base", "base", "-"]  # tier: a folder of one's own is no pair's
    assert table[1].split()[-3:] == ["locked", "files", "auto"] and "unlocked" not in "\n".join(table)
    (tmp_path / "doc.txt").write_text("Der Minister sprach am Dienstag in Berlin.\n", encoding="utf-8")
    for pair, locked in (("fr-en", True), ("de-en", False)):
        run = tk("translate", tmp_path / "doc.txt", "--from", pair[:2], "--out", tmp_path / "out", "-q", "--json",
                 "--format", "jsonl", "--beams", "1")
        (doc,) = json.loads(run.stdout)["documents"]
        assert doc["locked"] is rows[pair]["locked"] is locked and ("(not locked)" in doc["model"]) is not locked
        assert "pinned" not in doc


def test_verify_of_entries_that_are_not_locked_says_it_verified_nothing(offline_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {
        "de-en": {"repo": "Helsinki-NLP/opus-mt-de-en", "revision": "main"},
        "es-en": {"repo": "Helsinki-NLP/opus-mt-es-en", "revision": "main"}})))
    result = tk("models", "verify")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("tk: verified nothing") and "de-en" in line and "es-en" in line and "--allow-unlocked" in line
    allowed = tk("models", "verify", "--allow-unlocked", "--json")
    assert allowed.exit_code == 0
    report = json.loads(allowed.stdout)
    assert report["ok"] is True and report["verified"] == [] and report["not_locked"] == ["de-en", "es-en"]
    assert json.loads(tk("models", "verify", "--json").stdout)["ok"] is False


def test_verify_passes_then_catches_a_modified_weight_file(offline_hub, private_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {"fr-en": locked_entry(offline_hub, FR_EN)})))
    ok = tk("models", "verify")
    assert ok.exit_code == 0, ok.output
    assert "fr-en: ok" in ok.stderr
    weights = private_hub / f"models--{FR_EN.replace('/', '--')}" / "snapshots" / offline_hub.shas[FR_EN] / "model.safetensors"
    blob = weights.resolve()
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content: only the sha256 can tell
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    bad = tk("models", "verify")
    assert bad.exit_code == 1
    (line,) = [l for l in bad.stderr.splitlines() if "model.safetensors" in l]
    assert line.startswith("tk: fr-en: ") and "sha256" in line and str(weights.parent) in line
    report = json.loads(tk("models", "verify", "--json").stdout)
    assert report["ok"] is False and report["models"][0]["lock"] == "mismatch"


def test_verify_catches_a_truncated_file(offline_hub, private_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {"fr-en": locked_entry(offline_hub, FR_EN)})))
    vocab = (private_hub / f"models--{FR_EN.replace('/', '--')}" / "snapshots" / offline_hub.shas[FR_EN] / "vocab.json").resolve()
    vocab.chmod(0o644)
    vocab.write_bytes(vocab.read_bytes()[:100])
    bad = tk("models", "verify", "fr-en")
    assert bad.exit_code == 1 and "vocab.json: size 100 bytes" in bad.stderr


def test_offline_lock_and_pull_fail_at_once_with_a_clear_message(offline_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {"fr-en": {"repo": FR_EN}})))
    for command in ("lock", "pull"):
        result = tk("models", command)
        assert result.exit_code == 1
        assert result.stderr.startswith("tk: ") and "needs the network" in result.stderr and "HF_HUB_OFFLINE" in result.stderr
    assert "commit" not in (tmp_path / "models.lock").read_text(encoding="utf-8")


def test_unreachable_hub_is_a_quick_clear_error(offline_hub, tmp_path, online):
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    online.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {"fr-en": {"repo": FR_EN}})))
    result = tk("models", "lock")
    assert result.exit_code == 1 and f"cannot reach http://127.0.0.1:{port}" in result.stderr
    assert "needs the network" in result.stderr and "Traceback" not in result.output


# --- a fake hub for lock and pull ----------------------------------------------------------------

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "tk-test/opus-mt-fr-en"
LFS = {"model.safetensors", "tf_model.h5"}


class FakeHub(BaseHTTPRequestHandler):
    """GET /api/models/REPO/revision/REV, HEAD and GET /REPO/resolve/REV/FILE: what huggingface_hub asks."""

    files: dict[str, bytes] = {}
    log: list[tuple[str, str]] = []

    def do_GET(self):
        self.answer(body=True)

    def do_HEAD(self):
        self.answer(body=False)

    def answer(self, body: bool):
        self.log.append((self.command, self.path))
        path = self.path.split("?")[0]
        info = f"/api/models/{REPO}/revision/"
        resolve = f"/{REPO}/resolve/"
        if path.startswith(info) and path[len(info):] in ("main", COMMIT):
            return self.send(200, json.dumps(self.model_info()).encode(), body, {"Content-Type": "application/json"})
        if path.startswith(resolve):
            revision, _, name = path[len(resolve):].partition("/")
            if revision in ("main", COMMIT) and name in self.files:
                data = self.files[name]
                return self.send(200, data, body, {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})
        self.send(404, b"{}", body, {"X-Error-Code": "RepoNotFound"})

    def model_info(self) -> dict:
        siblings = []
        for name, data in self.files.items():
            sibling = {"rfilename": name, "size": len(data), "blobId": hashlib.sha1(data).hexdigest()}
            if name in LFS:
                sibling["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(sibling)
        return {"id": REPO, "sha": COMMIT, "siblings": siblings}

    def send(self, status: int, data: bytes, body: bool, headers: dict):
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def online(monkeypatch):
    """Network allowed for this test (huggingface_hub reads HF_HUB_OFFLINE once, at import)."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    return monkeypatch


@pytest.fixture
def fake_hub(online, tmp_path):
    """The copy model served as REPO (plus a TF weight file that must never be downloaded); an empty local cache."""
    FakeHub.files = {p.name: p.read_bytes() for p in sorted((FIXTURES / "copy-model").iterdir())}
    FakeHub.files.update({"tf_model.h5": b"not needed" * 100, "README.md": b"# readme"})
    FakeHub.log = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    online.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    online.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {"fr-en": {"repo": REPO, "revision": "main"}})))
    yield FakeHub
    server.shutdown()
    server.server_close()


def file_gets(log) -> list[str]:
    return sorted(p.rsplit("/", 1)[1] for method, p in log if method == "GET" and "/resolve/" in p)


def test_lock_records_commit_and_file_hashes(fake_hub, tmp_path):
    result = tk("models", "lock")
    assert result.exit_code == 0, result.output
    assert f"fr-en: commit {COMMIT}" in result.stderr
    text = (tmp_path / "models.lock").read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    entry = tomllib.loads(text)["models"]["fr-en"]
    assert entry["commit"] == COMMIT and entry["repo"] == REPO and entry["revision"] == "main"
    copy = FIXTURES / "copy-model"
    assert entry["files"] == {p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size": p.stat().st_size}
                              for p in copy.iterdir()}
    assert "model.safetensors" not in file_gets(fake_hub.log)  # LFS hashes come from the listing: no download
    assert "tf_model.h5" not in entry["files"] and "README.md" not in entry["files"]


def test_lock_adds_a_new_pair(fake_hub, tmp_path, monkeypatch):
    from translate_kit.models import lock as lock_module

    monkeypatch.setattr(lock_module, "conventional_repo", lambda src, tgt: REPO)
    assert tk("models", "lock", "xx-yy").exit_code == 0
    entries = models.load_lock(tmp_path / "models.lock")
    assert entries["xx-yy"].repo == REPO and entries["xx-yy"].commit == COMMIT and entries["xx-yy"].locked
    assert not entries["fr-en"].locked  # not named: left as it was


def test_pull_fetches_only_needed_files_then_runs_with_no_network(fake_hub, tmp_path, monkeypatch):
    assert tk("models", "lock").exit_code == 0
    result = tk("models", "pull", "--quiet")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "hub" / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    assert f"fr-en: files in {folder}" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (FIXTURES / "copy-model").iterdir())
    assert "tf_model.h5" not in file_gets(fake_hub.log) and "README.md" not in file_gets(fake_hub.log)
    assert tk("models", "verify").exit_code == 0
    assert json.loads(tk("models", "list", "--json").stdout)["models"][0]["lock"] == "ok"

    # resumable: a second pull fetches nothing; a file lost in an interruption is the only one fetched again
    fake_hub.log.clear()
    assert tk("models", "pull", "-q").exit_code == 0 and file_gets(fake_hub.log) == []
    (folder / "vocab.json").resolve().unlink()
    (folder / "vocab.json").unlink()
    assert tk("models", "pull", "-q").exit_code == 0 and file_gets(fake_hub.log) == ["vocab.json"]

    # after the pull: translating opens no connection at all, even with the offline switch off
    connections = []

    def refuse(self, address):
        connections.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    (tmp_path / "doc.txt").write_text("Le gouvernement a présenté son projet de loi mardi à Paris.\n", encoding="utf-8")
    out = tk("translate", tmp_path / "doc.txt", "--from", "fr", "--to", "en", "--out", tmp_path / "out", "-q",
             "--json", "--cache-dir", tmp_path / "cache", "--beams", "1")
    assert out.exit_code == 0, out.output
    (doc,) = json.loads(out.stdout)["documents"]
    assert doc["model"] == f"{REPO}@{COMMIT}" and doc["revision"] == COMMIT and doc["locked"] is True
    assert connections == []


def test_pull_refuses_files_that_do_not_match_the_lock(fake_hub, tmp_path):
    assert tk("models", "lock").exit_code == 0
    fake_hub.files["model.safetensors"] += b"\0"  # the weights changed on the hub under the lock
    result = tk("models", "pull", "-q")
    assert result.exit_code == 1
    assert "fr-en: downloaded files do not match models.lock, removed: model.safetensors: size" in result.stderr
    folder = tmp_path / "hub" / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    assert not (folder / "model.safetensors").exists() and (folder / "config.json").exists()
    assert json.loads(tk("models", "list", "--json").stdout)["models"][0]["present"] is False  # no run will load it


def test_pull_unknown_repo_names_it(fake_hub, tmp_path):
    result = tk("models", "pull", "nobody/nothing", "-q")
    assert result.exit_code == 1 and "nobody/nothing: no such model" in result.stderr


# --- doctor ---------------------------------------------------------------------------------------


def test_doctor_json_describes_the_machine(offline_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("TK_MODELS_LOCK", str(write_lock(tmp_path / "models.lock", {"fr-en": {"repo": FR_EN},
                                                                                   "es-en": {"repo": "x/opus-mt-es-en"}})))
    result = tk("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    import torch
    import transformers

    assert report["torch"] == torch.__version__ and report["transformers"] == transformers.__version__
    assert report["auto"]["device"] in ("cpu", "cuda", "mps") and report["auto"]["backend"] in ("ct2", "torch")
    assert report["auto"]["precision"] in ("int8", "float16", "fp32", "fp16")  # what auto resolves to (backends.resolve)
    assert report["threads"]["used"] >= 1
    assert report["offline"]["active"] is True and report["offline"]["HF_HUB_OFFLINE"] == "1"
    assert report["hf_hub_cache"]["path"] == str(offline_hub.hub_cache.resolve()) and report["hf_hub_cache"]["bytes"] > 0
    assert {m["name"]: m["present"] for m in report["models"]} == {"fr-en": True, "es-en": False}
    assert report["quality"] == {"TK_QUALITY": "", "requested": "auto", "auto_picks": "base", "picks": "base"}
    text = tk("doctor").stdout
    assert "torch:" in text and "fr-en" in text


# --- downloading at run time ----------------------------------------------------------------------


def translate_folder(folder: Path, out: Path, *extra):
    return tk("translate", folder, "--from", "fr", "--to", "en", "--out", out, "--beams", "1",
              "--cache-dir", out / "cache", *extra)


def three_documents(folder: Path) -> Path:
    folder.mkdir()
    for i in range(3):
        (folder / f"doc{i}.txt").write_text(f"Le ministre a parlé {i} fois mardi à Paris.\n", encoding="utf-8")
    return folder


def test_unreachable_hub_at_run_time_says_no_downloading_and_one_line(offline_hub, tmp_path, online):
    with socket.socket() as s:  # a port nobody listens on: the download cannot even start
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    result = translate_folder(three_documents(tmp_path / "docs"), tmp_path / "out", "--model", "nobody/opus-mt-fr-en")
    assert result.exit_code == 1, result.output
    assert "downloading" not in result.stderr and f"cannot reach http://127.0.0.1:{port}" in result.stderr
    lines = result.stderr.splitlines()[:-1]  # the last: "0 of 3 document(s) translated"
    assert len(lines) == 1 and lines[0].startswith("tk: 3 documents (") and "Traceback" not in result.output
    assert all(f"doc{i}.txt" in lines[0] for i in range(3))


def test_a_download_that_starts_is_announced_once(fake_hub, tmp_path):
    result = translate_folder(three_documents(tmp_path / "docs"), tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("downloading it") == 1 and REPO in result.stderr
