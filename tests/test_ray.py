"""`tk translate --engine ray`: the same outputs as a local run, through a local Ray cluster.

One Ray per module (starting it takes seconds on two shared cores): `ray.init(num_cpus=2)` on
127.0.0.1, no dashboard, stopped at the end. Workers are started by that Ray, so they inherit
the environment it was started with: the module points HF_* at the test hub before `ray.init`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit.cli import app

runner = CliRunner()
SEEDS = Path(__file__).parents[1] / "seeds"
DOCS = ["000", "003"]  # two seed articles: several batches, duplicates, copies


@pytest.fixture(scope="module")
def local_ray(test_hub):
    """The tests that run Ray skip without the [ray] extra; the others here do not need it."""
    ray = pytest.importorskip("ray", reason='the [ray] extra is not installed (pip install -e ".[ray]")')
    hub_env = {"HF_HOME": str(test_hub.hf_home), "HF_HUB_CACHE": str(test_hub.hub_cache), "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
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


def translate(out: Path, *extra: str, cache: Path | None = None) -> dict:
    args = ["translate", *DOCS, "--corpus", str(SEEDS), "--out", str(out), "--format", "all", "--beams", "1",
            "--json", "--quiet", *extra]
    if cache is not None:
        args += ["--cache-dir", str(cache)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def totals(report: dict, key: str) -> int:
    return sum(d[key] for d in report["documents"])


def without_timing(report: dict) -> list[dict]:
    return [{k: v for k, v in d.items() if k not in ("seconds", "outputs")} for d in report["documents"]]


def test_ray_writes_what_local_writes_and_a_rerun_is_cached(local_ray, offline_hub, tmp_path, monkeypatch):
    from translate_kit.engines.ray import RayEngine

    local = translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local")
    # a small batch budget: several batches per actor, both actors busy
    remote = translate(tmp_path / "ray", "--engine", "ray", "--workers", "2", "--batch-tokens", "256",
                       cache=tmp_path / "c-ray")
    assert totals(remote, "translated") == totals(local, "translated") > 0
    assert without_timing(remote) == without_timing(local)
    assert files(tmp_path / "ray") == files(tmp_path / "local")  # byte for byte, every format

    calls = []
    original = RayEngine.run
    monkeypatch.setattr(RayEngine, "run", lambda self, texts, **kw: calls.append(len(texts)) or original(self, texts, **kw))
    again = translate(tmp_path / "again", "--engine", "ray", cache=tmp_path / "c-ray")
    assert calls == [] and totals(again, "translated") == 0  # zero model calls: all from the cache
    assert totals(again, "cached") == totals(remote, "translated")
    translate(tmp_path / "local-again", "--engine", "local", cache=tmp_path / "c-local")
    assert files(tmp_path / "again") == files(tmp_path / "local-again")  # origins say "cache" in both


def test_a_worker_killed_mid_run_is_retried(local_ray, offline_hub, tmp_path, monkeypatch):
    """The driver kills one model actor after the first finished batch; Ray restarts it and retries
    its batches, and the outputs are complete and identical. The pid comes from Ray's actor table
    in the GCS (ray.util.state would need the dashboard, which this Ray runs without)."""
    from ray._private.state import actors

    from translate_kit.engines import ray as ray_engine

    def model_actors(state: str | None = None) -> list[dict]:
        return [a for a in actors().values() if "BatchWorker" in a["ActorClassName"] and state in (None, a["State"])]

    translate(tmp_path / "local", "--engine", "local", cache=tmp_path / "c-local")
    killed = []
    original = ray_engine.RayEngine.run

    def run_and_kill(self, texts, **kw):
        for n, result in enumerate(original(self, texts, **kw)):
            if not killed:
                alive = model_actors("ALIVE")
                assert alive, "no model actor found"
                os.kill(alive[0]["Pid"], 9)
                killed.append(alive[0]["ActorID"])
            yield result

    monkeypatch.setattr(ray_engine.RayEngine, "run", run_and_kill)
    remote = translate(tmp_path / "ray", "--engine", "ray", "--workers", "2", "--batch-tokens", "128",
                       cache=tmp_path / "c-ray")
    assert killed and [a["NumRestarts"] for a in model_actors() if a["ActorID"] == killed[0]] == [1]
    assert totals(remote, "segments") > 0 and all(not d["error"] for d in remote["documents"])
    assert files(tmp_path / "ray") == files(tmp_path / "local")


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
    from translate_kit.engines import ray as ray_engine

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
    from translate_kit.engines.ray import BatchWorker, WorkerModelError, _raise_worker_error
    from translate_kit.options import DecodeOptions, RunOptions

    ref = models.pick_model("fr", "en")
    requested = DecodeOptions(beams=1, backend="torch")
    decode = DecodeOptions(beams=1, backend="torch", precision="fp32")
    good = models.resolved_revision(ref, models.ensure_local(ref))
    run = RunOptions.from_env()
    outputs, error = BatchWorker(ref, good, decode, requested, "cpu", run).translate(["Bonjour."], {})
    assert error == "" and len(outputs) == 1
    outputs, error = BatchWorker(ref, "0" * 40, decode, requested, "cpu", run).translate(["Bonjour."], {})
    assert outputs == [] and f"the driver's is {'0' * 40}" in error and good in error
    with pytest.raises(WorkerModelError):
        _raise_worker_error(error)
