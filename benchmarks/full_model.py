"""Random-weight models with the exact opus-mt-fr-en and opus-mt-tc-big-fr-en architectures, and the seed sentences.

Real OPUS-MT weights cannot be downloaded on the benchmark machines, and speed does not depend
on the values of the weights: only on the shapes (d_model 512, 6+6 layers, 8 heads, FFN 2048,
a 59 514-word vocabulary, 512 positions) and on how many tokens go in and come out. So the
benchmarks build that model with random weights, and a sentencepiece tokenizer trained on the
seeds whose vocab.json is padded to 59 514 entries (so the embedding and output layer, 58% of
the work per generated token, have their real size). The output length is forced by the
benchmarks, since a random model never chooses to stop.

The big tier (issue 26), `model_dir("big")`: opus-mt-tc-big-fr-en's shapes (d_model 1024, 6+6
layers, 16 heads, FFN 4096, relu, a 53 017-word joint vocabulary with </s> at 43 311 and <pad>
last, 1 024 positions), ~233 M parameters. It uses the same seed sentencepiece as the base model,
so both tiers read exactly the same tokens and their speeds compare one to one.

Built once into benchmarks/.models/ (git-ignored) and reused: `model_dir()`, `model_dir("big")`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "benchmarks" / ".models"
SEEDS = ROOT / "seeds"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

# opus-mt-fr-en's config.json, as published (transformers MarianConfig fields).
VOCAB_SIZE = 59_514
ARCHITECTURE = dict(
    d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
    encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512, activation_function="swish",
    scale_embedding=True, share_encoder_decoder_embeddings=True, static_position_embeddings=True,
)
# opus-mt-tc-big-fr-en's config.json, as published:
# https://huggingface.co/Helsinki-NLP/opus-mt-tc-big-fr-en/blob/main/config.json
BIG_VOCAB_SIZE = 53_017
BIG_EOS = 43_311  # its eos_token_id: the joint Marian vocabulary puts </s> mid-table
BIG_ARCHITECTURE = dict(
    d_model=1024, encoder_layers=6, decoder_layers=6, encoder_attention_heads=16, decoder_attention_heads=16,
    encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024, activation_function="relu",
    scale_embedding=True, share_encoder_decoder_embeddings=True, static_position_embeddings=True,
    normalize_embedding=False,
)
TIERS = ("base", "big")
# A BPE sentencepiece of this size gives the seed sentences about as many tokens per word as the
# real tokenizer (~1.4 on French news; a unigram model tops out at 1 100 pieces on so little text
# and splits words into ~1.9 tokens), so batches have realistic shapes.
SPM_SIZE = 2000


def model_dir(tier: str = "base") -> Path:
    """The full-size random model of a tier as a Hugging Face folder, built on first use (~1 min base,
    ~2 min big on 2 cores)."""
    name, build = {"base": ("opus-mt-fr-en-random", _build), "big": ("opus-mt-tc-big-fr-en-random", _build_big)}[tier]
    folder = MODELS / name
    if (folder / "model.safetensors").is_file():
        return folder
    scratch = folder.with_name(folder.name + ".building")
    shutil.rmtree(scratch, ignore_errors=True)
    build(scratch)
    scratch.rename(folder)
    return folder


def architecture(tier: str) -> dict:
    """The tier's published shapes, for reports."""
    if tier == "big":
        return {"architecture": "opus-mt-tc-big-fr-en (random weights)", **BIG_ARCHITECTURE, "vocab_size": BIG_VOCAB_SIZE}
    return {"architecture": "opus-mt-fr-en (random weights)", **ARCHITECTURE, "vocab_size": VOCAB_SIZE}


def _build(out: Path) -> None:
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out.mkdir(parents=True)
    _train_spm(out / "source.spm")
    shutil.copyfile(out / "source.spm", out / "target.spm")
    pad = _padded_vocab(out)
    MarianTokenizer(source_spm=str(out / "source.spm"), target_spm=str(out / "target.spm"),
                    vocab=str(out / "vocab.json"), model_max_length=512).save_pretrained(out)
    config = MarianConfig(vocab_size=VOCAB_SIZE, decoder_vocab_size=VOCAB_SIZE, pad_token_id=pad,
                          decoder_start_token_id=pad, eos_token_id=0, bos_token_id=0, forced_eos_token_id=0,
                          architectures=["MarianMTModel"], **ARCHITECTURE)
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(  # opus-mt-fr-en's generation_config.json
        bad_words_ids=[[pad]], bos_token_id=0, decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0,
        pad_token_id=pad, max_length=512, num_beams=4, renormalize_logits=True)
    model.save_pretrained(out)


def _build_big(out: Path) -> None:
    """opus-mt-tc-big-fr-en's layout: source.spm + target.spm, one joint vocab.json (eos mid-table,
    pad last), the old-style tokenizer_config.json (separate_vocabs false), its generation config."""
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    out.mkdir(parents=True)
    _train_spm(out / "source.spm")
    shutil.copyfile(out / "source.spm", out / "target.spm")  # same pieces: both tiers read the same tokens
    pad = _padded_vocab(out, BIG_VOCAB_SIZE, eos=BIG_EOS)
    specials = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    (out / "special_tokens_map.json").write_text(json.dumps(specials), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "source_lang": "fr", "target_lang": "en", **specials, "model_max_length": 512, "sp_model_kwargs": {},
        "separate_vocabs": False, "special_tokens_map_file": None, "tokenizer_class": "MarianTokenizer"}), encoding="utf-8")
    ids = dict(pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=BIG_EOS, forced_eos_token_id=BIG_EOS,
               bos_token_id=0)
    config = MarianConfig(vocab_size=BIG_VOCAB_SIZE, decoder_vocab_size=BIG_VOCAB_SIZE, architectures=["MarianMTModel"],
                          **ids, **BIG_ARCHITECTURE)
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(bad_words_ids=[[pad]], max_length=512, num_beams=4, **ids)
    model.save_pretrained(out)


def _train_spm(path: Path) -> None:
    """Sentencepiece with OPUS-MT's ids (</s> = 0, <unk> = 1, no <s> or <pad> inside)."""
    import sentencepiece as spm
    from build_models import load_corpus, split_sentences

    sentences = [s for text in load_corpus(SEEDS) for s in split_sentences(text)]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=str(path.with_suffix("")), model_type="bpe",
        vocab_size=SPM_SIZE, character_coverage=1.0, normalization_rule_name="identity",
        eos_id=0, unk_id=1, bos_id=-1, pad_id=-1, num_threads=1, minloglevel=2)
    path.with_suffix(".model").rename(path)
    path.with_suffix(".vocab").unlink()


def _padded_vocab(out: Path, size: int = VOCAB_SIZE, eos: int = 0) -> int:
    """vocab.json: the sentencepiece pieces, unused fillers up to size - 1, then <pad>; </s> at `eos`
    (0 in opus-mt base, where vocab ids are the spm's; mid-table in the tc-big joint vocabulary)."""
    import sentencepiece as spm

    proc = spm.SentencePieceProcessor(model_file=str(out / "source.spm"))
    pieces = [proc.id_to_piece(i) for i in range(proc.get_piece_size())]
    if eos:
        pieces.remove("</s>")
        pieces += [f"<unused{i}>" for i in range(len(pieces), eos)] + ["</s>"]
    pieces += [f"<unused{i}>" for i in range(len(pieces), size - 1)] + ["<pad>"]
    (out / "vocab.json").write_text(json.dumps({p: i for i, p in enumerate(pieces)}, ensure_ascii=False),
                                    encoding="utf-8")
    return size - 1


def seed_sentences(count: int = 64) -> list[str]:
    """`count` distinct seed sentences, as tk segments them, spread evenly over the corpus."""
    from translate_kit.documents import load_documents
    from translate_kit.segment import segment_document

    texts = []
    for doc in load_documents([str(SEEDS)]):
        texts += [s.text for s in segment_document(doc, "fr") if s.kind == "text"]
    texts = list(dict.fromkeys(texts))
    step = max(1, len(texts) // count)
    return texts[::step][:count]


# --- the summarizer: sshleifer/distilbart-cnn-12-6 -------------------------------------------

# distilbart-cnn-12-6's config.json, as published (transformers BartConfig fields): 306 M parameters.
SUMMARIZER_VOCAB = 50_264
SUMMARIZER_ARCHITECTURE = dict(
    d_model=1024, encoder_layers=12, decoder_layers=6, encoder_attention_heads=16, decoder_attention_heads=16,
    encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024, activation_function="gelu",
    scale_embedding=False, normalize_before=False, normalize_embedding=True, add_final_layer_norm=False,
)
# Its generation settings (the CNN/DailyMail summarization ones it ships with).
SUMMARIZER_GENERATION = dict(num_beams=4, length_penalty=2.0, min_length=56, max_length=142, no_repeat_ngram_size=3,
                             early_stopping=True)
BPE_SIZE = 3000  # a byte-level BPE trained on the seeds, ~1.5 tokens per French word like GPT-2's on news


def summarizer_dir(folder: Path = MODELS / "distilbart-cnn-12-6-random") -> Path:
    """The full-size random summarizer as a Hugging Face folder, built on first use (~1 min)."""
    if (folder / "model.safetensors").is_file():
        return folder
    scratch = folder.with_name(folder.name + ".building")
    shutil.rmtree(scratch, ignore_errors=True)
    _build_summarizer(scratch)
    scratch.rename(folder)
    return folder


def _build_summarizer(out: Path) -> None:
    import torch
    from build_models import BART_SPECIAL_TOKENS, load_corpus, split_sentences
    from tokenizers import ByteLevelBPETokenizer
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

    out.mkdir(parents=True)
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator([s for t in load_corpus(SEEDS) for s in split_sentences(t)], vocab_size=BPE_SIZE,
                            min_frequency=2, special_tokens=BART_SPECIAL_TOKENS, show_progress=False)
    bpe.save_model(str(out))
    vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
    for i in range(len(vocab), SUMMARIZER_VOCAB):  # the real embedding and output layer sizes
        vocab[f"<unused{i}>"] = i
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    specials = dict(zip(["bos_token", "pad_token", "eos_token", "unk_token", "mask_token"], BART_SPECIAL_TOKENS))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "BartTokenizer", "model_max_length": 1024, "add_prefix_space": False,
        "clean_up_tokenization_spaces": False, "errors": "replace", **specials, "cls_token": "<s>", "sep_token": "</s>",
    }, indent=1), encoding="utf-8")
    ids = dict(pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
               forced_eos_token_id=2)
    config = BartConfig(vocab_size=SUMMARIZER_VOCAB, architectures=["BartForConditionalGeneration"],
                        **ids, **SUMMARIZER_ARCHITECTURE)
    torch.manual_seed(3)
    model = BartForConditionalGeneration(config)
    model.generation_config = GenerationConfig(**ids, **SUMMARIZER_GENERATION)
    model.save_pretrained(out)
