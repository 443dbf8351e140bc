"""Shared pytest fixtures: an offline Hugging Face hub made of tiny models.

Fixtures (none is autouse; request them by name):

``test_hub`` (session)
    Builds the test hub once per session (a few seconds) in a session temp dir and
    returns a ``build_models.TestHub``: ``hf_home``, ``hub_cache``, ``shas`` (revision
    sha per repo id), ``copy_model``, ``bart_dir`` and ``tiny_marian_64`` (a local,
    not-in-hub Marian with 64 positions).  Repos in the hub:

    * ``Helsinki-NLP/opus-mt-fr-en``, ``-en-fr``, ``-de-en``: the committed COPY model
      (output resembles input, so source/translation pairing can be checked);
    * ``sshleifer/distilbart-cnn-12-6``: random tiny BART, 128 positions.

``offline_hub`` (function)
    Points everything at ``test_hub``, offline, and gives ``TK_CACHE_DIR`` a fresh
    per-test dir.  Returns the ``TestHub``.  It sets the environment (HF_HOME,
    HF_HUB_CACHE, HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE, TK_CACHE_DIR) for subprocesses
    such as the ``tk`` CLI, *and* patches ``huggingface_hub.constants``: that module
    reads the environment once, at import, so setting env vars after transformers was
    imported would not be seen in-process.  transformers reads
    ``constants.HF_HUB_CACHE`` and ``constants.HF_HUB_OFFLINE`` at call time, so
    patching those attributes is enough for ``from_pretrained("Helsinki-NLP/...")``
    inside a test (checked by tests/test_fixtures.py).  monkeypatch undoes it all.

``spy`` (function)
    Records every batch a translation engine (torch or CTranslate2) sends to generate(),
    as (model repo, input token counts): count model calls, check input budgets.

``seeds_dir`` (session)
    The repo's ``seeds/`` folder of French articles.

Logs: ``TK_LOG_DIR`` is a temporary folder of the session (unless already set).

Threads: this conftest sets ``OMP_NUM_THREADS=1`` (unless already set) and
``torch.set_num_threads(1)``.  The fixture models are tiny, so intra-op threading is
pure overhead; on a busy 2-core machine greedy decoding of 14 sentences took 0.3 s
with 1 thread versus 11 s with 2.  The env var also reaches ``tk`` subprocesses.
"""

from __future__ import annotations

import os
import tempfile
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
# Internal-error logs of the tests that provoke one go to a folder of the run, not the user's
# ~/.local/state (incidents.py); a test of that default sets its own.
os.environ.setdefault("TK_LOG_DIR", tempfile.mkdtemp(prefix="tk-test-logs-"))

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
# build_models.py lives in a plain folder (not a package); make it importable for tests.
sys.path.insert(0, str(FIXTURES_DIR))

import build_models  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Single intra-op thread for torch (see module docstring)."""
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """Folder of French seed articles used as realistic test input."""
    repo_seeds = Path(__file__).resolve().parents[1] / "seeds"
    if repo_seeds.is_dir():
        return repo_seeds
    # TODO: remove this fallback once seeds/ is committed in the repo.
    return Path("/work/shared/seeds")


@pytest.fixture(scope="session")
def test_hub(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> build_models.TestHub:
    """Build the tiny offline hub once per test session."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_home = tmp_path_factory.mktemp("hf_home")
    return build_models.build_test_hub(hf_home, texts=build_models.load_corpus(seeds_dir))


@pytest.fixture
def offline_hub(
    test_hub: build_models.TestHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> build_models.TestHub:
    """Route Hugging Face lookups to ``test_hub`` (offline) and TK_CACHE_DIR to a tmp dir."""
    from huggingface_hub import constants

    hub_cache = str(test_hub.hub_cache)
    monkeypatch.setenv("HF_HOME", str(test_hub.hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", hub_cache)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("TK_CACHE_DIR", str(tmp_path / "tk-cache"))
    monkeypatch.setattr(constants, "HF_HOME", str(test_hub.hf_home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", hub_cache)
    monkeypatch.setattr(constants, "HUGGINGFACE_HUB_CACHE", hub_cache)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return test_hub


@pytest.fixture
def spy(monkeypatch):
    """Records every batch an engine (torch or CTranslate2) sends to its model's generate():
    (model repo, input token counts of the batch)."""
    from translate_kit.runtime.ct2 import Ct2Engine
    from translate_kit.runtime.engine import Engine

    calls = []
    for cls in (Engine, Ct2Engine):
        original = cls.__dict__["run"]

        def recording(self, texts, *args, _original=original, **kwargs):
            lengths = self.count_tokens(texts)
            for positions, outputs, scores in _original(self, texts, *args, **kwargs):
                calls.append((self.loaded.ref.repo, [lengths[i] for i in positions]))
                yield positions, outputs, scores

        monkeypatch.setattr(cls, "run", recording)
    return calls
