"""The files a model needs, their hashes against the lock, and what its files say (beams, input limit)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

# Files a model needs (needed_files): configs, tokenizer files, one weight format.
# Weight formats in order of preference; a sharded checkpoint is named by its index file.
WEIGHT_FILES = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]
CONFIG_AND_TOKENIZER = re.compile(r".+\.(json|spm|model)|vocab\.txt|merges\.txt|spiece\.model")
SHARD = re.compile(r"(model|pytorch_model)-\d+-of-\d+\.(safetensors|bin)")


def weights_file(folder: Path) -> str | None:
    """The weight file a folder would be loaded from (safetensors preferred), or None."""
    return next((name for name in WEIGHT_FILES if (folder / name).is_file()), None)



def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def model_beams(path: Path) -> int:
    """The beam size the model's own generation config asks for (1 without one), from the files:
    the cache signature is settled before (and often without) loading the model."""
    return int(_json(path / "generation_config.json").get("num_beams") or _json(path / "config.json").get("num_beams") or 1)


def input_limit(path: Path) -> int:
    """The model's input limit from its files (the Plan's, which every engine reads): the
    position table, and the tokenizer's limit if smaller."""
    limit = int(_json(path / "config.json").get("max_position_embeddings") or 512)
    tok_limit = _json(path / "tokenizer_config.json").get("model_max_length")
    if isinstance(tok_limit, (int, float)) and 0 < tok_limit < 1_000_000:
        limit = min(limit, int(tok_limit))
    return limit



# --- the files a model needs, and checking them against the lock ---------------------------


def needed_files(names: list[str]) -> list[str]:
    """Of a repo's file names, the ones a run loads: configs, tokenizer files, ONE weight format.

    Real OPUS-MT repos also carry TensorFlow, Flax and Rust weights (hundreds of MB each);
    safetensors is preferred over pytorch_model.bin (no pickle, loads faster). Only top-level
    files: model repos keep what transformers loads at the root.
    """
    top = [n for n in names if "/" not in n]
    weights = next((w for w in WEIGHT_FILES if w in top), None)
    keep = [n for n in top if CONFIG_AND_TOKENIZER.fullmatch(n) and not n.endswith(".index.json")]
    if weights and weights.endswith(".index.json"):
        fmt = weights.split(".")[1] if weights.startswith("model.") else "bin"
        keep += [weights] + [n for n in top if SHARD.fullmatch(n) and n.endswith(fmt)]
    elif weights:
        keep.append(weights)
    return sorted(set(keep))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(folder: Path, names: list[str]) -> dict[str, dict]:
    """{file: {sha256, size}} of local files, in the lock's shape."""
    return {n: {"sha256": file_sha256(folder / n), "size": (folder / n).stat().st_size} for n in sorted(names)}


def check_files(folder: Path, expected: dict[str, dict]) -> list[str]:
    """Problems of `folder` against the lock's file table, one 'file: problem' line each (empty: all match)."""
    return [f"{name}: {problem}" for name, problem in file_problems(folder, expected).items()]


def file_problems(folder: Path, expected: dict[str, dict]) -> dict[str, str]:
    """{file: what is wrong} for each file missing or differing (size, then sha256) from the lock."""
    problems = {}
    for name, want in sorted(expected.items()):
        file = folder / name
        if not file.is_file():
            problems[name] = "missing"
        elif file.stat().st_size != want.get("size"):
            problems[name] = f"size {file.stat().st_size} bytes, the lock says {want.get('size')}"
        elif (digest := file_sha256(file)) != want.get("sha256"):
            problems[name] = f"sha256 {digest[:12]}..., the lock says {str(want.get('sha256'))[:12]}..."
    return problems



def folder_size(folder: Path) -> int:
    """Bytes of the files in a folder tree, symlinks followed (snapshots link into blobs/)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())

