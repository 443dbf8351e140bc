"""The torch backend: Hugging Face transformers `generate()` (engine.Engine). Runs everywhere."""

from __future__ import annotations

from ..errors import UsageError

NAME = "torch"
DEVICES = ("cpu", "cuda", "mps")
PRECISIONS = ("fp32", "fp16", "bf16", "int8")


def available() -> bool:
    return True  # torch is a core dependency


def preferred(device: str) -> bool:
    return True  # the fallback of `auto` everywhere, and its choice on CUDA and MPS


def precision(device: str, requested: str) -> str:
    """auto: fp16 on CUDA (about 2x faster, same quality for MT), fp32 elsewhere; int8 is CPU only."""
    from .. import models

    if requested == "auto":
        return models.default_precision(device)
    if requested not in PRECISIONS:
        raise UsageError(f"unknown precision '{requested}'; known: auto, {', '.join(PRECISIONS)}")
    if requested == "int8" and device != "cpu":
        raise UsageError(f"--precision int8 with backend torch runs on cpu only, not on '{device}'")
    return requested


def engine(ref, resolved, decode, run, note):
    from .. import models
    from ..engine import Engine

    if resolved.device == "cpu":
        models.set_threads(run.threads)
    note(f"loading {ref.repo}")
    return Engine(models.load(ref, resolved.device, resolved.precision), decode, run.batch_tokens)
