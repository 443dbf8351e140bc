"""The CTranslate2 backend (translate_kit/ct2.py): int8 on a CPU, the default there. Marian and BART."""

from __future__ import annotations

import importlib.util

NAME = "ct2"
DEVICES = ("cpu", "cuda")


def available() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


def preferred(device: str) -> bool:
    # CUDA stays torch fp16 until a GPU benchmark shows CTranslate2 faster there (none run yet).
    return device == "cpu"


def precision(device: str, requested: str) -> str:
    from .. import ct2

    return ct2.compute_type(device, requested)


def engine(ref, resolved, decode, run, note):
    from .. import ct2

    return ct2.make_engine(ref, resolved, decode, run, note)
