"""The model fixtures load and behave through the real Hugging Face code path.

transformers is imported at module level on purpose: it proves that ``offline_hub``
still redirects hub lookups when huggingface_hub was imported before the fixture ran.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import subprocess
import sys

import pytest
import torch
from huggingface_hub import constants, try_to_load_from_cache
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
from transformers.utils import cached_file

import build_models as bm

pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")

HUB_REPOS = [bm.FR_EN, bm.EN_FR, bm.DE_EN, bm.SUMMARIZER]
# Measured mean greedy ratio on seed sentences: 1.00; shuffled pairing: ~0.2.
COPY_MIN_RATIO = 0.85
SHUFFLED_MAX_RATIO = 0.5


def _ratio(pairs) -> float:
    pairs = list(pairs)
    return sum(difflib.SequenceMatcher(None, a, b).ratio() for a, b in pairs) / len(pairs)


def _generate(repo_or_dir, texts, **kwargs) -> list[str]:
    tokenizer = AutoTokenizer.from_pretrained(repo_or_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(repo_or_dir).eval()
    enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True)
    with torch.no_grad():
        out = model.generate(**enc, **kwargs)
    return tokenizer.batch_decode(out, skip_special_tokens=True)


@pytest.fixture(scope="module")
def seed_sentences(seeds_dir) -> list[str]:
    """Two sentences from the start of each seed article plus the de/en samples."""
    sentences = []
    for text in bm.load_corpus(seeds_dir):
        sentences += [s for s in bm.split_sentences(text) if len(s) > 20][:2]
    return sentences


def test_offline_hub_patches_constants(offline_hub):
    assert constants.HF_HUB_CACHE == str(offline_hub.hub_cache)
    assert constants.HF_HUB_OFFLINE is True
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TK_CACHE_DIR"].endswith("tk-cache")


@pytest.mark.parametrize("repo_id", HUB_REPOS)
def test_hub_repo_loads_offline(offline_hub, repo_id):
    sha = offline_hub.shas[repo_id]
    cached = try_to_load_from_cache(repo_id, "config.json")
    assert cached and f"/snapshots/{sha}/" in cached
    tokenizer = AutoTokenizer.from_pretrained(repo_id)
    model = AutoModelForSeq2SeqLM.from_pretrained(repo_id)
    assert cached_file(repo_id, "model.safetensors").startswith(str(offline_hub.hub_cache))
    enc = tokenizer(["Le président français a parlé à Paris."], return_tensors="pt")
    out = model.generate(**enc, num_beams=1, min_length=0, max_new_tokens=8)
    assert out.shape[0] == 1


def test_hub_loads_in_fresh_subprocess(test_hub):
    """Env vars alone (as a ``tk`` subprocess would see them) select the test hub."""
    env = dict(os.environ, HF_HOME=str(test_hub.hf_home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("HF_HUB_CACHE", None)
    code = (
        "import json; from transformers import AutoModelForSeq2SeqLM as M; from transformers.utils import cached_file;"
        f"M.from_pretrained({bm.FR_EN!r}); print(json.dumps(cached_file({bm.FR_EN!r}, 'config.json')))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    path = json.loads(result.stdout.strip().splitlines()[-1])
    assert path == str(test_hub.hub_cache / "models--Helsinki-NLP--opus-mt-fr-en" / "snapshots" / test_hub.shas[bm.FR_EN] / "config.json")


def test_revision_sha_is_deterministic(test_hub, tmp_path):
    assert bm.layout_hf_cache(tmp_path, bm.FR_EN, test_hub.copy_model) == test_hub.shas[bm.FR_EN]
    assert test_hub.shas[bm.FR_EN] != test_hub.shas[bm.EN_FR]  # repo id is part of the sha


def test_copy_model_output_resembles_input(offline_hub, seed_sentences):
    outputs = _generate(bm.FR_EN, seed_sentences, num_beams=1)
    assert _ratio(zip(seed_sentences, outputs)) > COPY_MIN_RATIO
    shuffled = outputs[:]
    random.Random(0).shuffle(shuffled)
    assert _ratio(zip(seed_sentences, shuffled)) < SHUFFLED_MAX_RATIO


def test_copy_model_default_generation_config_terminates(offline_hub):
    """Beam 4 / max_length 512 from generation_config: stops at eos, not at 512."""
    text = "« Nous ne sommes pas en guerre contre la Russie » a déclaré Macron."
    (output,) = _generate(bm.FR_EN, [text])
    assert _ratio([(text, output)]) > COPY_MIN_RATIO


def test_bart_tokenizer_round_trips_french(offline_hub):
    tokenizer = AutoTokenizer.from_pretrained(bm.SUMMARIZER)
    text = "« Où est l’élève ? » : Noël, Ça, à l'hôpital, œuvre… ℹ️ 10 000 €"
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id == 0 and ids[-1] == tokenizer.eos_token_id == 2
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_bart_summarizer_truncates_to_window(offline_hub, seeds_dir):
    model = AutoModelForSeq2SeqLM.from_pretrained(bm.SUMMARIZER)
    tokenizer = AutoTokenizer.from_pretrained(bm.SUMMARIZER)
    assert model.config.max_position_embeddings == tokenizer.model_max_length == 128
    article = bm.load_corpus(seeds_dir)[0]
    enc = tokenizer([article], return_tensors="pt", truncation=True)
    assert enc["input_ids"].shape[1] == 128
    with torch.no_grad():
        out = model.generate(**enc)
    assert out.shape[1] <= model.generation_config.max_length <= 128


def test_tiny_marian_64_positions(test_hub):
    model = AutoModelForSeq2SeqLM.from_pretrained(test_hub.tiny_marian_64)
    tokenizer = AutoTokenizer.from_pretrained(test_hub.tiny_marian_64)
    assert model.config.max_position_embeddings == 64
    assert tokenizer.model_max_length == 64
    assert model.generation_config.max_length <= 64
