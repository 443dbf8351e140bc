"""`tk translate --engine ray`: the same outputs as a local run, through a local Ray cluster.

One Ray per module (starting it takes seconds on two shared cores): `ray.init(num_cpus=2)` on
127.0.0.1, no dashboard, stopped at the end. Workers are started by that Ray, so they inherit
the environment it was started with: the module points HF_* at the test hub before `ray.init`,
and TK_NODE_CACHE_DIR at a folder of its own, so that the workers of a sharded run (`--shard`)
use another cache than the driver's, as on a cluster without shared storage.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from test_cache_merge import entries  # the cache's entry count
from translate_kit.cli import app

runner = CliRunner()
SEEDS = Path(__file__).parents[1] / "seeds"
DOCS = ["000", "003"]  # two seed articles: several batches, duplicates, copies


@pytest.fixture(scope="module")
def node_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("node-cache")


@pytest.fixture(scope="module")
def local_ray(test_hub, node_cache_dir):
    """The tests that run Ray skip without the [ray] extra; the others here do not need it."""
    ray = pytest.importorskip("ray", reason='the [ray] extra is not installed (pip install -e ".[ray]")')
    hub_env = {"HF_HOME": str(test_hub.hf_home), "HF_HUB_CACHE": str(test_hub.hub_cache), "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TK_NODE_CACHE_DIR": str(node_cache_dir)}
    saved = {k: os.environ.get(k) for k in hub_env}
    os.environ.update(hub_env)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def translate(out: Path, *extra: str, cache: Path | None = None, docs=DOCS, code: int = 0) -> dict:
    args = ["translate", *docs, "--corpus", str(SEEDS), "--out", str(out), "--format", "all", "--beams", "1",
            "--json", "--quiet", *extra]
    if cache is not None:
        args += ["--cache-dir", str(cache)]
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    report = json.loads(result.stdout)
    report["lines"] = [line for line in result.stderr.splitlines() if line.startswith("tk:")]
    return report


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def same_files(a: Path, b: Path, origins: bool = True) -> bool:
    """The same files, byte for byte, except the scores in jsonl: the model's score of a sentence moves
    by up to 1e-4 with the batch it was decoded in (Ray's batches are not the local run's), so
    a rounded score may differ in its last digit; the rest of every record must be equal.
    `origins=False` also lets a sentence say "cache" on one side and "model" on the other (jsonl
    `origin`, TMX `x-origin`): a retried shard finds the batches its killed worker stored."""
    mine, theirs = files(a), files(b)
    if set(mine) != set(theirs):
        return False
    for name in mine:
        if not name.endswith(".jsonl"):
            if not origins:
                mine[name], theirs[name] = (re.sub(rb'(type="x-origin">)cache<', rb"\1model<", f[name]) for f in (mine, theirs))
            if mine[name] != theirs[name]:
                return False
            continue
        rows = [[json.loads(line) for line in f[name].decode().splitlines()] for f in (mine, theirs)]
        if len(rows[0]) != len(rows[1]):
            return False
        for x, y in zip(*rows):
            sx, sy = x.pop("score"), y.pop("score")
            if not origins and {x["origin"], y["origin"]} <= {"cache", "model"}:
                x["origin"] = y["origin"]
            if x != y or (sx is None) != (sy is None) or (sx is not None and abs(sx - sy) > 2e-4):
                return False
    return True


def totals(report: dict, key: str) -> int:
    return sum(d[key] for d in report["documents"])


def without_timing(report: dict) -> list[dict]:
    return [{k: v for k, v in d.items() if k not in ("seconds", "outputs")} for d in report["documents"]]


def ray_actors(kind: str, state: str | None = None) -> list[dict]:
    """Ray's actor table (from the GCS: ray.util.state would need the dashboard, which this Ray runs
    without), the actors of class `kind`."""
    from ray._private.state import actors

    return [a for a in actors().values() if kind in a["ActorClassName"] and state in (None, a["State"])]


def killing_one(results, kind: str, killed: list):
    """`results`, passed on; after the first, one live actor of class `kind` is killed (kill -9)."""
    for result in results:
        if not killed:
            alive = ray_actors(kind, "ALIVE")
            assert alive, f"no {kind} actor found"
            os.kill(alive[0]["Pid"], 9)
            killed.append(alive[0]["ActorID"])
        yield result


def test_ray_writes_what_local_writes_and_a_rerun_is_cached(local_ray, offline_hub, tmp_path, monkeypatch):
    from translate_kit.runtime.ray import RayEngine

    local = translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local")
    # a small batch budget: several batches per actor, both actors busy
    remote = translate(tmp_path / "ray", "--engine", "ray", "--workers", "2", "--batch-tokens", "256",
                       cache=tmp_path / "c-ray")
    assert totals(remote, "translated") == totals(local, "translated") > 0
    assert without_timing(remote) == without_timing(local)
    assert same_files(tmp_path / "ray", tmp_path / "local")  # byte for byte, every format (scores: within 1e-4)

    calls = []
    original = RayEngine.run
    monkeypatch.setattr(RayEngine, "run", lambda self, texts, **kw: calls.append(len(texts)) or original(self, texts, **kw))
    again = translate(tmp_path / "again", "--engine", "ray", cache=tmp_path / "c-ray")
    assert calls == [] and totals(again, "translated") == 0  # zero model calls: all from the cache
    assert totals(again, "cached") == totals(remote, "translated")
    translate(tmp_path / "local-again", "--engine", "local", cache=tmp_path / "c-local")
    assert same_files(tmp_path / "again", tmp_path / "local-again")  # origins say "cache" in both


def test_ray_follows_the_glossary_with_the_n_best_retry_as_a_local_run_does(local_ray, offline_hub, tmp_path,
                                                                             monkeypatch):
    """--engine ray with --glossary: a translation still lacking a term is asked again for n
    hypotheses on the model actors, each retry batch as a local run plans it, so the files and
    the term reports are a local run's."""
    from translate_kit.runtime.ray import RayEngine

    style = tmp_path / "style.tsv"
    # targets the test model never writes, and no substitution (nbest): every matched sentence is retried
    style.write_text("fr\ten\ngouvernement\tadministration\nFrance\tHexagon\n", encoding="utf-8")
    docs, mode = ["000", "001"], ("--glossary-mode", "nbest")
    local = translate(tmp_path / "local", "--engine", "local", "--glossary", str(style), *mode,
                      cache=tmp_path / "c-local", docs=docs)
    asked = []
    original = RayEngine.hypotheses
    monkeypatch.setattr(RayEngine, "hypotheses", lambda self, texts, k: asked.append((len(texts), k)) or original(self, texts, k))
    remote = translate(tmp_path / "ray", "--engine", "ray", "--workers", "2", "--glossary", str(style), *mode,
                       cache=tmp_path / "c-ray", docs=docs)
    assert asked and all(k == 8 for _, k in asked)  # the retry ran, on the actors
    assert totals(local, "terms_missing") > 0 and without_timing(remote) == without_timing(local)
    assert same_files(tmp_path / "ray", tmp_path / "local")


def test_a_worker_killed_mid_run_is_retried(local_ray, offline_hub, tmp_path, monkeypatch):
    """The driver kills one model actor after the first finished batch; Ray restarts it and retries
    its batches, and the outputs are complete and identical."""
    from translate_kit.runtime import ray as ray_engine

    translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local")
    killed = []
    original = ray_engine.RayEngine.run
    monkeypatch.setattr(ray_engine.RayEngine, "run",
                        lambda self, texts, **kw: killing_one(original(self, texts, **kw), "BatchWorker", killed))
    remote = translate(tmp_path / "ray", "--engine", "ray", "--workers", "2", "--batch-tokens", "128",
                       cache=tmp_path / "c-ray")
    assert killed and [a["NumRestarts"] for a in ray_actors("BatchWorker") if a["ActorID"] == killed[0]] == [1]
    assert totals(remote, "segments") > 0 and all(not d["error"] for d in remote["documents"])
    assert same_files(tmp_path / "ray", tmp_path / "local")


def test_without_ray_installed_one_clear_line(offline_hub, tmp_path):
    """Ray made unimportable in a fresh interpreter: `--engine ray` is one line naming the extra, exit 2."""
    code = (
        "import sys, importlib.abc\n"
        "class NoRay(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ray' or name.startswith('ray.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'ray'\")\n"
        "sys.meta_path.insert(0, NoRay())\n"
        "from translate_kit.cli import app\n"
        "sys.argv = ['tk', 'translate', '003', '--engine', 'ray', '--out', sys.argv[1]]\n"
        "app()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True,
                          env={**os.environ, "TK_CORPUS": str(SEEDS)}, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install -e ".[ray]"' in lines[0], done.stderr
    assert not (tmp_path / "out" / "003").exists() and not list((tmp_path / "out").glob("*.md"))


def test_cluster_lost_mid_run_ends_the_run_in_one_line_and_keeps_finished_batches(local_ray, offline_hub, tmp_path,
                                                                                   monkeypatch):
    """Losing the cluster (simulated: Ray's wait fails after two finished batches) ends the whole run
    with exit 1 and one line, not one error per document; a re-run translates only what was lost."""
    from translate_kit.runtime import ray as ray_engine

    original = ray_engine.RayEngine._next_finished
    finished = []

    def failing(self, flying):
        if len(finished) == 2:
            raise ray_engine.ClusterLost("the Ray cluster went away mid-run (simulated); finished batches are cached")
        finished.append(1)
        return original(self, flying)

    monkeypatch.setattr(ray_engine.RayEngine, "_next_finished", failing)
    args = ["translate", *DOCS, "--corpus", str(SEEDS), "--out", str(tmp_path / "out"), "--engine", "ray",
            "--batch-tokens", "128", "--beams", "1", "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("tk:")]
    assert len(lines) == 1 and "went away" in lines[0], result.output
    assert not list((tmp_path / "out").glob("*.md"))  # no document looks complete

    monkeypatch.setattr(ray_engine.RayEngine, "_next_finished", original)
    again = translate(tmp_path / "out", "--engine", "ray", "--batch-tokens", "128")
    assert totals(again, "cached") > 0 and totals(again, "translated") > 0  # the two batches were kept


def test_a_worker_with_another_model_revision_refuses_to_translate(offline_hub):
    """An actor whose model resolves to another revision than the driver's answers with an error,
    which ends the run (WorkerModelError), instead of mixing outputs under one cache key."""
    from translate_kit import models
    from translate_kit.runtime import resolve
    from translate_kit.runtime.ray import BatchWorker, WorkerModelError, _raise_worker_error
    from translate_kit.options import DecodeOptions, RunOptions

    ref = models.pick_model("fr", "en")
    decode = DecodeOptions(beams=1, backend="torch", precision="fp32")
    good = models.resolved_revision(ref, models.ensure_local(ref))
    run = RunOptions.from_env()
    plan = resolve("torch", "cpu", "fp32").for_model(models.ensure_local(ref), 1)  # the driver's, as workers receive it
    outputs, scores, error = BatchWorker(ref, good, plan, decode, run).translate(["Bonjour."], {})
    assert error == "" and len(outputs) == 1 and isinstance(scores[0], float)  # each output's score comes back
    outputs, scores, error = BatchWorker(ref, "0" * 40, plan, decode, run).translate(["Bonjour."], {})
    assert outputs == [] and f"the driver's is {'0' * 40}" in error and good in error
    with pytest.raises(WorkerModelError):
        _raise_worker_error(error)


# --- the sharded mode: `--engine ray --shard` ----------------------------------------------------


@pytest.fixture
def sharded(local_ray, node_cache_dir, monkeypatch):
    """Every document a shard of its own (several shards per worker, as on a large corpus), and
    an empty node cache (the workers' own, TK_NODE_CACHE_DIR: not the driver's)."""
    import shutil

    from translate_kit import sharded as sharded_engine

    monkeypatch.setattr(sharded_engine, "MIN_SHARD_BYTES", 1)
    monkeypatch.setattr(sharded_engine, "SHARD_BYTES", 1)
    shutil.rmtree(node_cache_dir)
    node_cache_dir.mkdir()
    return node_cache_dir


def written(monkeypatch) -> list[str]:
    """The names of the files the driver writes, one entry per write."""
    from translate_kit import writers

    names: list[str] = []
    original = writers.publish_files

    def recording(out, files):
        names.extend(files)
        return original(out, files)

    monkeypatch.setattr(writers, "publish_files", recording)
    return names


def test_shard_writes_what_local_writes_and_its_merged_cache_serves_a_local_rerun(sharded, offline_hub, tmp_path,
                                                                                    monkeypatch, spy):
    local = translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local")
    names = written(monkeypatch)
    remote = translate(tmp_path / "shard", "--engine", "ray", "--workers", "2", "--shard", cache=tmp_path / "c-driver")
    assert totals(remote, "translated") == totals(local, "translated") > 0
    assert without_timing(remote) == without_timing(local)  # the --json report, in input order
    assert [[Path(p).name for p in d["outputs"]] for d in remote["documents"]] == \
        [[Path(p).name for p in d["outputs"]] for d in local["documents"]]
    assert same_files(tmp_path / "shard", tmp_path / "local")  # byte for byte, every format
    assert sorted(names) == sorted(files(tmp_path / "local"))  # each file written once
    # the workers translated into their own cache; the driver's has it all through the merge
    assert entries(sharded) > 0 and entries(tmp_path / "c-driver") == entries(sharded)

    spy.clear()
    again = translate(tmp_path / "again", "--engine", "local", cache=tmp_path / "c-driver")
    assert spy == [] and totals(again, "translated") == 0  # zero model calls: all from the merged cache
    assert totals(again, "cached") == totals(local, "translated")
    translate(tmp_path / "local-again", "--engine", "local", cache=tmp_path / "c-local")
    assert same_files(tmp_path / "again", tmp_path / "local-again")


def test_shard_follows_the_glossary_as_a_local_run_does(sharded, offline_hub, tmp_path):
    """--glossary reaches the sharded workers (the Enforcer pickles): the same files and term
    reports as a local run with the same glossary, every term of the seeds it matched."""
    style = tmp_path / "style.tsv"
    style.write_text("fr\ten\ngouvernement\tgovernment\nFrance\tFrance\n", encoding="utf-8")
    docs = ["000", "001"]
    local = translate(tmp_path / "local", "--engine", "local", "--glossary", str(style), cache=tmp_path / "c-local",
                      docs=docs)
    remote = translate(tmp_path / "shard", "--engine", "ray", "--workers", "2", "--shard", "--glossary", str(style),
                       cache=tmp_path / "c-driver", docs=docs)
    assert totals(local, "terms") > 0 and without_timing(remote) == without_timing(local)
    assert same_files(tmp_path / "shard", tmp_path / "local")


def test_shard_a_worker_killed_mid_run_still_writes_every_document_once(sharded, offline_hub, tmp_path, monkeypatch):
    """After the first finished shard the driver kills a model actor that still has shards; Ray
    restarts it and retries them: the outputs are complete and identical, each file written once."""
    from translate_kit import sharded as sharded_engine

    docs = ["000", "001", "002", "003"]
    translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local", docs=docs)
    killed = []
    original = sharded_engine.run_shards
    monkeypatch.setattr(sharded_engine, "run_shards",
                        lambda actors, todo: killing_one(original(actors, todo), "ShardWorker", killed))
    names = written(monkeypatch)
    remote = translate(tmp_path / "shard", "--engine", "ray", "--workers", "2", "--shard", cache=tmp_path / "c-driver",
                       docs=docs)
    assert killed and [a["NumRestarts"] for a in ray_actors("ShardWorker") if a["ActorID"] == killed[0]] == [1]
    assert len(remote["documents"]) == 4 and all(not d["error"] for d in remote["documents"])
    # the same texts; a retried shard may take what its killed worker had stored from the node's cache
    assert same_files(tmp_path / "shard", tmp_path / "local", origins=False)
    assert sorted(names) == sorted(files(tmp_path / "local"))  # a retried shard is written once


def test_shard_a_bad_document_is_its_one_line_and_the_others_are_written(sharded, offline_hub, tmp_path):
    """Two empty files among good ones, in different shards: one line naming both (as locally),
    exit 1, every other document written as a local run writes it."""
    import shutil

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for prefix in ("000", "003"):
        seed = next(SEEDS.glob(f"{prefix}_*.txt"))
        shutil.copy(seed, corpus / seed.name)
    (corpus / "001-empty.txt").write_bytes(b"")
    (corpus / "002-empty.txt").write_bytes(b"")
    local = translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local", docs=[str(corpus)], code=1)
    remote = translate(tmp_path / "shard", "--engine", "ray", "--shard", cache=tmp_path / "c-driver",
                       docs=[str(corpus)], code=1)
    assert len(remote["lines"]) == 1 and "2 documents" in remote["lines"][0] and "empty" in remote["lines"][0]
    assert remote["lines"] == local["lines"]
    assert without_timing(remote) == without_timing(local)
    assert same_files(tmp_path / "shard", tmp_path / "local") and files(tmp_path / "local") != {}


def test_shard_cluster_lost_mid_run_keeps_finished_shards(sharded, offline_hub, tmp_path, monkeypatch):
    """The cluster lost after the first finished shard (simulated): exit 1 and one line; that
    shard's documents are written and its translations in the driver's cache."""
    from translate_kit import sharded as sharded_engine
    from translate_kit.runtime.ray import ClusterLost

    original = sharded_engine.wait_one
    finished = []

    def failing(flying, kept):
        if finished:
            raise ClusterLost(f"the Ray cluster went away mid-run (simulated); {kept}")
        finished.append(1)
        return original(flying, kept)

    monkeypatch.setattr(sharded_engine, "wait_one", failing)
    args = ["translate", *DOCS, "--corpus", str(SEEDS), "--out", str(tmp_path / "out"), "--engine", "ray", "--shard",
            "--beams", "1", "--quiet", "--cache-dir", str(tmp_path / "c-driver")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("tk:")]
    assert len(lines) == 1 and "went away" in lines[0] and "merged" in lines[0], result.output
    assert len({p.name.split(".")[0] for p in (tmp_path / "out").glob("*.md")}) == 1  # one document, whole
    assert entries(tmp_path / "c-driver") > 0


def test_shard_needs_the_ray_engine_and_tk_shard_only_steers_ray_runs(monkeypatch, tmp_path):
    from translate_kit.errors import UsageError
    from translate_kit.options import RunOptions

    result = runner.invoke(app, ["translate", "003", "--shard", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and "--engine ray" in result.stderr
    monkeypatch.setenv("TK_SHARD", "1")
    assert RunOptions.from_env().shard is False  # a local run is no ray run
    assert RunOptions.from_env(engine="ray").shard is True
    monkeypatch.setenv("TK_SHARD", "maybe")
    with pytest.raises(UsageError, match="TK_SHARD"):
        RunOptions.from_env(engine="ray")


def test_shard_a_worker_with_another_model_revision_ends_the_run(offline_hub):
    """The driver checks each document's model, revision and signature against its own."""
    pytest.importorskip("ray", reason='the [ray] extra is not installed (pip install -e ".[ray]")')  # the cluster's device
    from translate_kit.runtime.ray import WorkerModelError
    from translate_kit.sharded import ModelCheck, ShardDocument
    from translate_kit.options import DecodeOptions, RunOptions
    from translate_kit.translators import Translators

    decode, run = DecodeOptions(beams=1), RunOptions.from_env(engine="ray", device="cpu")
    mine = Translators(decode, run, None).get("fr", "en")
    report = {"src_lang": "fr", "tgt_lang": "en", "model": mine.display, "revision": mine.revision,
              "signature": mine.signature_text}
    check = ModelCheck(decode, run, None)
    check(ShardDocument(0, "a.txt", None, report), "node-1")  # the same model: fine
    with pytest.raises(WorkerModelError, match="node-2.*b.txt"):
        check(ShardDocument(1, "b.txt", None, {**report, "revision": "0" * 40}), "node-2")


@pytest.mark.parametrize("sizes, workers, expected", [
    ([3000] * 30, 2, [15, 15]),  # a small corpus: one shard per worker, equal bytes
    ([3000] * 1000, 2, [125] * 8),  # SHARDS_PER_WORKER each, consecutive
    ([5_000_000, 10, 10], 2, [1, 2]),  # a document larger than SHARD_BYTES is a shard of its own
    ([1] * 600, 1, [256, 256, 88]),  # SHARD_DOCUMENTS at most
    ([], 2, []),
])
def test_shards_are_consecutive_equal_shares_within_bounds(sizes, workers, expected):
    from translate_kit.sharded import Input, shards

    inputs = [Input(i, "file", f"d{i}.txt", size=size) for i, size in enumerate(sizes)]
    cut = list(shards(inputs, workers))
    assert [len(shard) for shard in cut] == expected
    assert [item.index for shard in cut for item in shard] == list(range(len(sizes)))  # input order, each once
