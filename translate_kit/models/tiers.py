"""Quality tiers: which of a pair's models (`fr-en` base, `fr-en.big`) a run uses.

`--quality` (TK_QUALITY, options.py) says fast (the base tier), best (the biggest tier the lock
has for the pair) or auto (the big tier on CUDA, the base on a CPU or MPS). The device is the
run's Plan device, decided once in runtime/ and handed in here as a string: nothing here probes
a device or imports runtime/.

What is on this machine counts too: a wanted tier that is not in the local cache while another
tier of the pair is gives that other tier, never a download of ~600 MB behind the user's back, and
`ModelRef.instead_of` names the tier that was wanted so the run can say so in one line
(`fallback_line`). A pair with no such tier in the lock just uses its base, silently.
"""

from __future__ import annotations

from dataclasses import replace

from ..options import QUALITIES
from .lock import load_lock, model_from_name, pair_ref, tier_name
from .ref import PAIR, LockEntry, ModelRef
from .snapshots import local_snapshot

BASE, BIG = "base", "big"
TIER_ORDER = (BASE, BIG)  # fast to best

__all__ = ["BASE", "BIG", "QUALITIES", "TIER_ORDER", "auto_tier", "fallback_line", "pair_tiers", "pick_model",
           "wanted_tier"]


def auto_tier(device: str) -> str:
    """What --quality auto means on `device` (a Plan's): the big tier on CUDA, the base elsewhere.
    A transformer-big model is ~3x slower per token; on a CPU that is minutes per article."""
    return BIG if device.startswith("cuda") else BASE


def wanted_tier(quality: str, device: str) -> str:
    """The tier --quality asks for on `device`: fast = base, best = big, auto = auto_tier(device)."""
    if quality not in QUALITIES:
        raise ValueError(f"quality {quality!r}; known: {', '.join(QUALITIES)}")
    return {"fast": BASE, "best": BIG}.get(quality) or auto_tier(device)


def pick_model(src: str, tgt: str, override: str | None = None, lock: dict | None = None,
               tier: str = BASE) -> ModelRef:
    """The model for a language pair: --model, else the lock's entry for `tier` (the base when the
    pair has no such tier), else the conventional repo id.

    When the chosen entry is not in the local cache but another tier of the pair is, that one is
    used, with `instead_of` naming the entry that was wanted (see fallback_line)."""
    if override:
        return model_from_name(override, lock)
    lock = load_lock() if lock is None else lock
    wanted = pair_ref(src, tgt, lock, tier)
    if local_snapshot(wanted) is not None:
        return wanted
    for other in (t for t in TIER_ORDER if t != wanted.tier):
        ref = pair_ref(src, tgt, lock, other)
        if ref.tier == other and local_snapshot(ref) is not None:
            return replace(ref, instead_of=wanted.name or tier_name(src, tgt, wanted.tier or BASE))
    return wanted


def fallback_line(src: str, tgt: str, ref: ModelRef) -> str | None:
    """The one line a run says when pick_model used another tier than the one wanted, else None."""
    if not ref.instead_of:
        return None
    return (f"{src}-{tgt}: {ref.instead_of} is not in the local Hugging Face cache; using the {ref.tier} tier "
            f"({ref.label}) instead; `tk models pull {ref.instead_of}` fetches it")


def pair_tiers(lock: dict[str, LockEntry]) -> dict[str, dict[str, LockEntry]]:
    """{pair: {tier: entry}} for every pair the lock names; a pair with only a big entry gets its
    conventional base repo as an entry that is not in the lock (`tk models list`, `tk models pull`)."""
    pairs: dict[str, dict[str, LockEntry]] = {}
    for entry in lock.values():
        if entry.pair and entry.tier:
            pairs.setdefault(entry.pair, {})[entry.tier] = entry
    for pair, tiers in pairs.items():
        if BASE not in tiers:
            ref = pair_ref(*PAIR.fullmatch(pair).groups(), {}, BASE)
            tiers[BASE] = LockEntry(pair, ref.repo, ref.revision, tier=BASE)
    return {pair: dict(sorted(tiers.items(), key=lambda kv: _rank(kv[0]))) for pair, tiers in pairs.items()}


def _rank(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)
