"""The big tier (issue 26): Helsinki-NLP opus-mt-tc-big-* models through the whole offline path.

The test hub lays out tiny random models under the real tc-big repo ids (build_models.build_tc_big):
the same config fields and values as the real config.json except the sizes, the same tokenizer
files (two different spm models, one joint vocab.json with eos in the middle, separate_vocabs
false). These tests prove that shape loads with transformers, converts to CTranslate2, runs
through a pivot and lands in the cache apart from the base tier. Random weights: structure is
asserted, never wording.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from build_models import DE_EN, FR_EN, TC_BIG_EN_FR, TC_BIG_FR_EN
from translate_kit import DecodeOptions, RunOptions, load_documents, translate
from translate_kit.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
DE_SAMPLE = FIXTURES / "de_sample.txt"
FR_TEXT = ("Le gouvernement a présenté mardi son projet de loi sur l'énergie. Les députés l'examineront "
           "dès la semaine prochaine.\n\nSelon le ministre, la réforme doit réduire les factures des ménages.\n")
# https://huggingface.co/Helsinki-NLP/opus-mt-tc-big-fr-en/blob/main/config.json (read 2026-12-03):
# the fields whose VALUES the tiny model keeps (sizes are the only thing that shrinks).
REAL_SHAPE = {"model_type": "marian", "architectures": ["MarianMTModel"], "activation_function": "relu",
              "scale_embedding": True, "static_position_embeddings": True, "normalize_embedding": False,
              "share_encoder_decoder_embeddings": True, "max_position_embeddings": 1024, "bos_token_id": 0}
REAL_SIZES = {"d_model": 1024, "encoder_layers": 6, "decoder_layers": 6, "encoder_attention_heads": 16,
              "decoder_attention_heads": 16, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096,
              "vocab_size": 53017, "decoder_vocab_size": 53017, "pad_token_id": 53016, "eos_token_id": 43311}
runner = CliRunner()


def quick(backend: str, precision: str = "auto") -> DecodeOptions:
    """Greedy, no anti-repetition retry: the path is under test, and beams are slow on 2 shared cores."""
    return DecodeOptions(beams=1, repetition_retry=False, backend=backend, precision=precision)


@pytest.fixture
def fr_sample(tmp_path) -> Path:
    path = tmp_path / "fr_sample.txt"
    path.write_text(FR_TEXT, encoding="utf-8")
    return path


def run_one(path: Path, tgt: str, tmp_path: Path, decode: DecodeOptions, **kw):
    (result,) = translate(load_documents([str(path)], tmp_path), tgt, run=RunOptions(cache_dir=tmp_path / "cache"),
                          decode=decode, **kw)
    assert result.error is None, result.error
    return result


def texts(result) -> list:
    return [s for s in result.segments if s.kind == "text"]


def snapshot(hub, repo: str) -> Path:
    return hub.hub_cache / f"models--{repo.replace('/', '--')}" / "snapshots" / hub.shas[repo]


def test_fixture_has_the_tc_big_config_and_tokenizer_shape(test_hub):
    folder = snapshot(test_hub, TC_BIG_FR_EN)
    config = json.loads((folder / "config.json").read_text())
    vocab = json.loads((folder / "vocab.json").read_text())
    tokenizer = json.loads((folder / "tokenizer_config.json").read_text())
    generation = json.loads((folder / "generation_config.json").read_text())
    assert {k: config[k] for k in REAL_SHAPE} == REAL_SHAPE
    assert set(REAL_SIZES) <= set(config)  # every size field the real one sets, at tiny values
    assert config["encoder_ffn_dim"] == 4 * config["d_model"]  # transformer-big's ratio
    assert config["vocab_size"] == config["decoder_vocab_size"] == len(vocab)
    assert config["pad_token_id"] == vocab["<pad>"] == len(vocab) - 1 == config["decoder_start_token_id"]
    assert config["eos_token_id"] == vocab["</s>"] not in (0, 1)  # the joint vocab puts eos mid-table
    assert (tokenizer["tokenizer_class"], tokenizer["separate_vocabs"]) == ("MarianTokenizer", False)
    assert (folder / "source.spm").read_bytes() != (folder / "target.spm").read_bytes()
    assert generation["bad_words_ids"] == [[vocab["<pad>"]]] and "renormalize_logits" not in generation
    assert not (folder / "target_vocab.json").exists()  # one vocabulary, shared


def test_tokenizer_round_trips_through_the_joint_vocabulary(offline_hub):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(TC_BIG_FR_EN)
    ids = tok(["Selon le ministre, la réforme doit réduire les factures."])["input_ids"][0]
    assert ids[-1] == tok.eos_token_id == tok.convert_tokens_to_ids("</s>") != 0
    assert tok.unk_token_id not in ids  # the French spm covers French text
    assert tok.decode(ids, skip_special_tokens=True) == "Selon le ministre, la réforme doit réduire les factures."


def test_big_tier_runs_with_torch(offline_hub, tmp_path, fr_sample, spy):
    result = run_one(fr_sample, "en", tmp_path, quick("torch"), model=TC_BIG_FR_EN)
    assert result.model.startswith(TC_BIG_FR_EN) and result.revision == offline_hub.shas[TC_BIG_FR_EN]
    assert "backend:torch" in result.signature
    assert spy and {repo for repo, _ in spy} == {TC_BIG_FR_EN}
    assert texts(result) and all(s.origin == "model" for s in texts(result))


def test_big_tier_converts_to_ct2_and_decodes_as_torch_does(offline_hub, tmp_path, fr_sample, spy):
    """Same greedy tokens from the CTranslate2 conversion as from transformers, at float32: the
    conversion kept the joint vocabulary, the mid-table eos and the pad decoder start.

    A common prefix, not equality: random weights run to the length bound, which is set per batch
    (2 x its longest input + 16) and the two engines batch differently; at the bound transformers
    also spends the last step on forced_eos_token_id where CTranslate2 writes one more token."""
    by_torch = run_one(fr_sample, "en", tmp_path / "t", quick("torch", "fp32"), model=TC_BIG_FR_EN)
    by_ct2 = run_one(fr_sample, "en", tmp_path / "c", quick("ct2", "fp32"), model=TC_BIG_FR_EN)
    assert "backend:ct2" in by_ct2.signature and "precision:float32" in by_ct2.signature or "precision:fp32" in by_ct2.signature
    pairs = list(zip(texts(by_ct2), texts(by_torch), strict=True))
    assert all(min(len(c.target), len(t.target)) > 40 for c, t in pairs), pairs
    assert all(c.target.startswith(t.target) or t.target.startswith(c.target) for c, t in pairs), pairs
    assert all(s.origin == "model" for s in texts(by_ct2))


def test_big_tier_by_repo_id_on_the_command_line(offline_hub, tmp_path, fr_sample):
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(fr_sample), "--to", "en", "--model", TC_BIG_FR_EN, "--beams", "1",
                                 "--out", str(out), "-q", "--json", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert TC_BIG_FR_EN in doc["model"] and doc["revision"] == offline_hub.shas[TC_BIG_FR_EN]


def test_pivot_through_english_with_a_base_and_a_big_leg(offline_hub, tmp_path, monkeypatch, spy):
    """de->fr has no direct model: de-en (base tier) then en-fr (big tier, named in the lock)."""
    lock = tmp_path / "models.lock"
    lock.write_text(f'[models.de-en]\nrepo = "{DE_EN}"\n\n[models.en-fr]\nrepo = "{TC_BIG_EN_FR}"\n', encoding="utf-8")
    monkeypatch.setenv("TK_MODELS_LOCK", str(lock))
    result = run_one(DE_SAMPLE, "fr", tmp_path, quick("ct2"))
    assert result.pivot == "en"
    assert result.model == f"{DE_EN}@main + {TC_BIG_EN_FR}@main (pivot via en, not locked)"
    assert [repo for repo, _ in spy][0] == DE_EN and [repo for repo, _ in spy][-1] == TC_BIG_EN_FR
    assert all(s.origin == "model" for s in texts(result))


def test_tiers_are_cached_apart_and_a_second_run_calls_no_model(offline_hub, tmp_path, fr_sample, spy):
    base = run_one(fr_sample, "en", tmp_path, quick("ct2"), model=FR_EN)
    after_base = len(spy)
    big = run_one(fr_sample, "en", tmp_path, quick("ct2"), model=TC_BIG_FR_EN)
    assert len(spy) > after_base and all(s.origin == "model" for s in texts(big))  # base's cache is not big's
    assert base.signature == big.signature and base.model != big.model  # the model and revision keep them apart
    calls = len(spy)
    again = run_one(fr_sample, "en", tmp_path, quick("ct2"), model=TC_BIG_FR_EN)
    assert len(spy) == calls and {s.origin for s in texts(again)} == {"cache"}
    assert [s.target for s in texts(again)] == [s.target for s in texts(big)]


def test_serve_uses_the_big_tier_the_lock_names(offline_hub, tmp_path, monkeypatch, spy):
    """tk serve picks a pair's model from the lock: pointed at the big tier, it serves with it."""
    import urllib.request

    from translate_kit.options import DecodeOptions as Decode, RunOptions as Run
    from translate_kit.serve.app import Settings
    from translate_kit.serve.testing import running

    lock = tmp_path / "models.lock"
    lock.write_text(f'[models.fr-en]\nrepo = "{TC_BIG_FR_EN}"\n', encoding="utf-8")
    monkeypatch.setenv("TK_MODELS_LOCK", str(lock))
    settings = Settings(decode=Decode(beams=1, repetition_retry=False), run=Run.from_env(cache_dir=tmp_path / "c"),
                        batch_wait=0.02)
    body = json.dumps({"q": "Le gouvernement a présenté son budget mardi.", "source": "fr", "target": "en"}).encode()
    with running(settings) as url:
        request = urllib.request.Request(url + "/translate", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
    assert response.status == 200 and answer["translatedText"].strip()
    assert spy and {repo for repo, _ in spy} == {TC_BIG_FR_EN}
