"""Which model, and where its files are: never how it runs (that is runtime/).

    ref.py        ModelRef, LockEntry, the conventional OPUS-MT repo id
    lock.py       models.lock: read, name a model through it (pair_ref, model_from_name), write
    tiers.py      quality tiers: which of a pair's models (fr-en, fr-en.big) a run uses (pick_model)
    files.py      the files a model needs, their hashes, what they say (beams, input limit)
    snapshots.py  the local Hugging Face cache, read without the network; model_status
    hub.py        the one module that talks to the Hub: lock, pull, and ensure_local's download

Nothing here imports torch, transformers, ctranslate2 or runtime/: `tk --help`, `tk ls` and a
fully cached run read models.lock and the cache's folders only. The names below are the
package's, so callers write `models.pick_model(...)` wherever a name lives.
"""

from __future__ import annotations

from .files import (CONFIG_AND_TOKENIZER, SHARD, WEIGHT_FILES, check_files, describe_files, file_problems,
                    file_sha256, folder_size, input_limit, model_beams, needed_files, weights_file)
from .hub import ensure_local
from .lock import (LOCK_NAME, entry_tier, load_lock, lock_header, lock_path, model_from_name, pair_ref, render_lock,
                   select_entries, tier_name, update_lock)
from .ref import PAIR, LockEntry, ModelRef, conventional_repo, entry_ref
from .snapshots import (COMMIT, REPO_ID, ModelStatus, cached_file, direct_available, hub_cache_dir, local_snapshot,
                        model_status, offline, resolved_revision)
from .tiers import BASE, BIG, TIER_ORDER, auto_tier, fallback_line, pair_tiers, pick_model, wanted_tier

__all__ = [
    "BASE", "BIG", "TIER_ORDER", "auto_tier", "entry_tier", "fallback_line", "pair_ref", "pair_tiers", "tier_name",
    "wanted_tier",
    "CONFIG_AND_TOKENIZER", "COMMIT", "LOCK_NAME", "PAIR", "REPO_ID", "SHARD", "WEIGHT_FILES", "LockEntry", "ModelRef",
    "ModelStatus", "cached_file", "check_files", "conventional_repo", "describe_files", "direct_available",
    "ensure_local", "entry_ref", "file_problems", "file_sha256", "folder_size", "hub_cache_dir", "input_limit",
    "load_lock", "local_snapshot", "lock_header", "lock_path", "model_beams", "model_from_name", "model_status",
    "needed_files", "offline", "pick_model", "render_lock", "resolved_revision", "select_entries", "update_lock",
    "weights_file",
]
