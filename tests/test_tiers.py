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


def quick(backend: str, precision: str = "auto", quality: str = "auto") -> DecodeOptions:
    """Greedy, no anti-repetition retry: the path is under test, and beams are slow on 2 shared cores."""
    return DecodeOptions(beams=1, repetition_retry=False, backend=backend, precision=precision, quality=quality)


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


def served_fr_en(settings) -> str:
    """One French sentence through POST /translate on a server with `settings`: its translatedText."""
    import urllib.request

    from translate_kit.serve.testing import running

    body = json.dumps({"q": "Le gouvernement a présenté son budget mardi.", "source": "fr", "target": "en"}).encode()
    with running(settings) as url:
        request = urllib.request.Request(url + "/translate", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200
            return json.loads(response.read())["translatedText"]


def test_serve_uses_the_big_tier_the_lock_names(offline_hub, tmp_path, monkeypatch, spy):
    """tk serve picks a pair's model from the lock: pointed at the big tier, it serves with it."""
    from translate_kit.options import DecodeOptions as Decode, RunOptions as Run
    from translate_kit.serve.app import Settings

    lock = tmp_path / "models.lock"
    lock.write_text(f'[models.fr-en]\nrepo = "{TC_BIG_FR_EN}"\n', encoding="utf-8")
    monkeypatch.setenv("TK_MODELS_LOCK", str(lock))
    settings = Settings(decode=Decode(beams=1, repetition_retry=False), run=Run.from_env(cache_dir=tmp_path / "c"),
                        batch_wait=0.02)
    assert served_fr_en(settings).strip()
    assert spy and {repo for repo, _ in spy} == {TC_BIG_FR_EN}


# --- --quality: which tier runs (models/tiers.py) --------------------------------------------------

TIERED_LOCK = {"fr-en": FR_EN, "fr-en.big": TC_BIG_FR_EN, "en-fr": "Helsinki-NLP/opus-mt-en-fr",
               "en-fr.big": TC_BIG_EN_FR, "de-en": DE_EN, "de-en.big": "Helsinki-NLP/opus-mt-tc-big-de-en"}
# de-en.big is a real repo id the test hub does not hold: the "big tier missing here" case.


@pytest.fixture
def tiered(offline_hub, tmp_path, monkeypatch):
    """A lock with base and big tiers for fr-en and en-fr (both here) and de-en (big not here)."""
    lock = tmp_path / "models.lock"
    lock.write_text("".join(f'[models."{name}"]\nrepo = "{repo}"\n\n' for name, repo in TIERED_LOCK.items()),
                    encoding="utf-8")
    monkeypatch.setenv("TK_MODELS_LOCK", str(lock))
    return offline_hub


def on_cuda(monkeypatch):
    """The run's Plan says cuda: the one devices.choose_device answers it, nothing is probed."""
    from translate_kit.runtime import devices

    monkeypatch.setattr(devices, "choose_device", lambda requested="auto", backend="torch": "cuda")


@pytest.mark.parametrize("quality, backend, repo, tier", [
    ("best", "ct2", TC_BIG_FR_EN, "big"), ("best", "torch", TC_BIG_FR_EN, "big"),
    ("fast", "ct2", FR_EN, "base"), ("auto", "ct2", FR_EN, "base"),  # auto on a CPU: the base tier
])
def test_quality_picks_the_tier(tiered, tmp_path, fr_sample, spy, quality, backend, repo, tier):
    result = run_one(fr_sample, "en", tmp_path, quick(backend, quality=quality))
    assert result.model == f"{repo}@main (not locked)" and result.tier == tier
    assert result.revision == tiered.shas[repo] and f"backend:{backend}" in result.signature
    assert {r for r, _ in spy} == {repo} and all(s.origin == "model" for s in texts(result))


def test_auto_takes_the_big_tier_when_the_plan_device_is_cuda(tiered, monkeypatch):
    """Decided from the run's Plan device (no new probing): the model is picked, not loaded."""
    from translate_kit.cache import NoCache
    from translate_kit.options import RunOptions as Run
    from translate_kit.translators import Translators

    on_cuda(monkeypatch)
    for quality, tier in (("auto", "big"), ("fast", "base"), ("best", "big")):
        service = Translators(DecodeOptions(quality=quality), Run(), NoCache())
        assert service.plan.device == "cuda"
        translator = service.get("fr", "en")
        assert (translator.tier, translator.ref.repo) == (tier, TC_BIG_FR_EN if tier == "big" else FR_EN)
    models_list = json.loads(runner.invoke(app, ["models", "list", "--json"]).stdout)
    assert (models_list["device"], models_list["auto_tier"]) == ("cuda", "big")
    doctor = json.loads(runner.invoke(app, ["doctor", "--json"]).stdout)
    assert doctor["quality"]["auto_picks"] == "big" and doctor["auto"]["device"] == "cuda"


def test_a_big_tier_missing_here_uses_the_base_says_so_once_and_the_header_names_it(tiered, tmp_path, spy):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(2):  # two documents of the pair: one line for the run, not one per document
        (docs / f"d{i}.txt").write_text(DE_SAMPLE.read_text(encoding="utf-8") + f"\nNummer {i}.\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(docs), "--from", "de", "--to", "en", "--quality", "best", "--beams",
                                 "1", "--format", "md", "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "de-en.big" in line]
    assert said == [f"tk: WARNING: de-en: de-en.big is not in the local Hugging Face cache; using the base tier "
                    f"({DE_EN}@main) instead; `tk models pull de-en.big` fetches it"]
    assert {r for r, _ in spy} == {DE_EN}
    for page in sorted(out.glob("*.md")):
        assert f"{DE_EN}@main (not locked) (revision {tiered.shas[DE_EN]}, base tier)" in page.read_text(encoding="utf-8")
    assert len(list(out.glob("*.md"))) == 2


def test_model_overrides_quality(tiered, tmp_path, fr_sample):
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(fr_sample), "--to", "en", "--quality", "best", "--model", FR_EN,
                                 "--beams", "1", "--out", str(out), "-q", "--json", "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["model"].startswith(f"{FR_EN}@") and doc["tier"] is None  # a model by name: no tier picked


def test_tiers_picked_by_quality_are_cached_apart(tiered, tmp_path, fr_sample, spy):
    fast = run_one(fr_sample, "en", tmp_path, quick("ct2", quality="fast"))
    calls = len(spy)
    best = run_one(fr_sample, "en", tmp_path, quick("ct2", quality="best"))
    assert len(spy) > calls and all(s.origin == "model" for s in texts(best))  # the base's cache is not the big's
    assert (fast.tier, best.tier) == ("base", "big") and fast.revision != best.revision
    calls = len(spy)
    again_fast = run_one(fr_sample, "en", tmp_path, quick("ct2", quality="fast"))
    again_best = run_one(fr_sample, "en", tmp_path, quick("ct2", quality="best"))
    assert len(spy) == calls and {s.origin for s in texts(again_fast) + texts(again_best)} == {"cache"}
    assert [s.target for s in texts(again_best)] == [s.target for s in texts(best)]
    assert [s.target for s in texts(again_fast)] == [s.target for s in texts(fast)]


@pytest.mark.parametrize("quality, second, tier", [("best", TC_BIG_EN_FR, "base + big"),
                                                   ("fast", "Helsinki-NLP/opus-mt-en-fr", "base + base")])
def test_pivot_legs_pick_their_tiers_each(tiered, tmp_path, spy, quality, second, tier):
    """de->fr goes through English: de-en has no big tier here (base, one line), en-fr has one."""
    result = run_one(DE_SAMPLE, "fr", tmp_path, quick("ct2", quality=quality))
    assert result.pivot == "en" and result.tier == tier
    assert result.model == f"{DE_EN}@main + {second}@main (pivot via en, not locked)"
    assert [r for r, _ in spy][0] == DE_EN and [r for r, _ in spy][-1] == second


def test_summarize_translates_with_the_tier_quality_picks(tiered, tmp_path, fr_sample, spy):
    from translate_kit.summarize import SummaryOptions, summarize

    options = SummaryOptions("extractive", "short", ("fr", "en"), "fr").check()
    (result,) = summarize(load_documents([str(fr_sample)], tmp_path), options, decode=quick("ct2", quality="best"),
                          run=RunOptions(cache_dir=tmp_path / "cache"))
    assert result.error is None, result.error
    (row,) = [m for m in result.models if m["role"] == "translate fr-en"]
    assert row["model"].startswith(TC_BIG_FR_EN) and row["tier"] == "big" and {r for r, _ in spy} == {TC_BIG_FR_EN}


def test_serve_with_quality_best_serves_the_big_tier(tiered, tmp_path, spy):
    from translate_kit.options import RunOptions as Run
    from translate_kit.serve.app import Settings

    settings = Settings(decode=quick("ct2", quality="best"), run=Run.from_env(cache_dir=tmp_path / "c"), batch_wait=0.02)
    assert served_fr_en(settings).strip()
    assert spy and {repo for repo, _ in spy} == {TC_BIG_FR_EN}
    bad = runner.invoke(app, ["serve", "--quality", "best-ever", "--port", "0"])
    assert bad.exit_code == 2 and "--quality 'best-ever' is not a quality" in bad.stderr


def test_models_list_json_shows_each_pairs_tiers_scores_presence_and_auto(tiered, tmp_path, monkeypatch):
    lock = tmp_path / "models.lock"
    repo_lock = (Path(__file__).parents[1] / "models.lock").read_text(encoding="utf-8")
    lock.write_text(repo_lock, encoding="utf-8")  # the real tiers and scores; the test hub has fr-en and fr-en.big
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["device"], report["auto_tier"], report["quality"]) == ("cpu", "base", "auto")
    pairs = {p["pair"]: p for p in report["pairs"]}
    assert pairs["fr-en"]["tiers"] == ["base", "big"] and pairs["fr-en"]["auto"] == "base"
    assert pairs["it-en"]["tiers"] == ["base", "big"]  # its base is the conventional repo, not in the lock
    rows = {r["name"]: r for r in report["models"]}
    big = rows["fr-en.big"]
    assert (big["pair"], big["tier"], big["present"], big["auto"], big["license"]) == ("fr-en", "big", True, False, "cc-by-4.0")
    assert big["size"] > 0 and big["scores"]["flores200-devtest"] == {"bleu": 46.0, "chrf": 69.35, "comet": 81.1}
    assert big["scores"]["source"].startswith("https://github.com/Helsinki-NLP/OPUS-MT-leaderboard/")
    assert rows["fr-en"]["auto"] is True and rows["fr-en"]["present"] is True
    assert rows["it-en"]["in_lock"] is False and rows["it-en"]["present"] is False
    assert rows["summarizer"]["tier"] is None and rows["summarizer"]["auto"] is False
    text = runner.invoke(app, ["models", "list"]).stdout
    assert text.splitlines()[0].startswith("device cpu: --quality auto picks the base tier here")
    assert "flores200-devtest BLEU 46.0 chrF 69.35 COMET 81.1" in text


def test_models_list_auto_is_the_tier_here_when_the_wanted_one_is_missing(tiered, monkeypatch):
    on_cuda(monkeypatch)  # auto wants de-en.big, which is not here: de-en (base) is what runs
    report = json.loads(runner.invoke(app, ["models", "list", "--json"]).stdout)
    pairs = {p["pair"]: p for p in report["pairs"]}
    assert (pairs["de-en"]["auto"], pairs["de-en"]["auto_instead_of"]) == ("base", "de-en.big")
    assert (pairs["fr-en"]["auto"], pairs["fr-en"]["auto_instead_of"]) == ("big", None)


def test_models_pull_with_no_names_takes_the_auto_tier_and_says_so(tiered, monkeypatch):
    result = runner.invoke(app, ["models", "pull", "-q"])  # offline: it says what it would pull, then fails
    first = result.stderr.splitlines()[0]
    assert first == ("tk: pulling fr-en, en-fr, de-en (the base tier: what --quality auto uses on this machine, "
                     "device cpu); not the other tiers (`tk models pull fr-en.big en-fr.big de-en.big` fetches them, "
                     "~600 MB each)")
    assert result.exit_code == 1 and "needs the network" in result.stderr
    on_cuda(monkeypatch)
    first = runner.invoke(app, ["models", "pull", "-q"]).stderr.splitlines()[0]
    assert first.startswith("tk: pulling fr-en.big, en-fr.big, de-en.big (the big tier")
