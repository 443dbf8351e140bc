"""models.lock: reading it, naming a model through it, and writing it.

models.lock (TOML) names every model by pair ("fr-en") or role ("summarizer"). A name resolves
to a Hugging Face repo id and revision (or to a local folder, `path = "..."`); `--model` takes a
repo id or a local directory for one run. Nothing here opens a connection.

The lock is written by a small TOML writer for its one fixed shape (tables of strings and
integers, one `files` sub-table of inline tables): tomllib reads but cannot write, and tomli-w
would drop the header comment that says how the file is maintained.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

from ..errors import UnknownModel
from ..options import models_lock
from .ref import PAIR, LockEntry, ModelRef, conventional_repo, entry_ref

LOCK_NAME = "models.lock"


def lock_path() -> Path | None:
    """TK_MODELS_LOCK, else ./models.lock, else the one beside the package (source checkout)."""
    for candidate in (models_lock(), LOCK_NAME, Path(__file__).resolve().parents[2] / LOCK_NAME):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def load_lock(path: Path | None = None) -> dict[str, LockEntry]:
    path = path or lock_path()
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UnknownModel(f"{path}: not valid TOML ({err})") from None
    entries = {}
    for name, item in data.get("models", {}).items():
        if "repo" not in item and "path" not in item:
            raise UnknownModel(f"{path}: [models.{name}] needs repo = \"org/name\" or path = \"folder\"")
        folder = str((path.parent / Path(item["path"]).expanduser()).resolve()) if "path" in item else None
        entries[name] = LockEntry(
            name=name,
            repo=item.get("repo", folder),
            revision=item.get("revision", "main"),
            task=item.get("task", "translation"),
            commit=item.get("commit"),
            files=item.get("files", {}),
            path=folder,
            tier=item.get("tier") or entry_tier(name, item.get("task", "translation")),
            scores=item.get("scores", {}),
            license=item.get("license"),
        )
    return entries


def entry_tier(name: str, task: str = "translation") -> str | None:
    """A pair entry's tier from its name: "fr-en" is the base tier, "fr-en.big" the big one;
    None for a role (summarizer) or any other name."""
    pair, _, tier = name.partition(".")
    return (tier or "base") if PAIR.fullmatch(pair) and task == "translation" else None



def pair_ref(src: str, tgt: str, lock: dict, tier: str = "base") -> ModelRef:
    """A pair's model in the lock, by name alone (models.pick_model also looks at what is here): the
    tier's entry ("fr-en.big"), else the base entry ("fr-en"), else the conventional repo id."""
    entry = lock.get(tier_name(src, tgt, tier)) or lock.get(f"{src}-{tgt}")
    if entry:
        return entry_ref(entry)
    return ModelRef(conventional_repo(src, tgt), "main", tier="base")


def tier_name(src: str, tgt: str, tier: str = "base") -> str:
    """The lock entry name of a pair's tier: "fr-en" (base), "fr-en.big"."""
    return f"{src}-{tgt}" if tier == "base" else f"{src}-{tgt}.{tier}"


def select_entries(names: list[str] | None, lock: dict | None = None) -> list[LockEntry]:
    """Lock entries by name (all when none given). A pair not in the lock ("de-fr") stands for its
    conventional repo, and a repo id ("org/name[@rev]") for itself, so they can be pulled or locked too."""
    lock = load_lock() if lock is None else lock
    if not names:
        return list(lock.values())
    entries = []
    for name in dict.fromkeys(names):
        if name in lock:
            entries.append(lock[name])
        elif PAIR.fullmatch(name):
            entries.append(LockEntry(name, conventional_repo(*PAIR.fullmatch(name).groups()), tier="base"))
        else:
            ref = model_from_name(name, lock)  # a repo id or a local folder, else UnknownModel
            entries.append(LockEntry(name, ref.repo, ref.revision, path=ref.repo if ref.local else None))
    return entries



def model_from_name(name: str, lock: dict | None = None) -> ModelRef:
    """A lock entry name, a local directory, or a repo id ('org/name')."""
    lock = load_lock() if lock is None else lock
    if name in lock:
        return entry_ref(lock[name])
    path = Path(name).expanduser()
    if path.is_dir():
        return ModelRef(str(path.resolve()), "local", local=True)
    if name.count("/") == 1 and not name.startswith((".", "/")):
        repo, _, revision = name.partition("@")
        return ModelRef(repo, revision or "main")
    known = ", ".join(sorted(lock)) or "none"
    raise UnknownModel(f"unknown model '{name}'; known: {known} (or give a repo id 'org/name' or a local directory)")



# --- writing the lock ----------------------------------------------------------------------


def update_lock(path: Path, updates: dict[str, dict]) -> None:
    """Merge {name: {key: value}} into the lock at `path`, keeping its header comment and other entries."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    data = tomllib.loads(text) if text else {}
    entries = data.get("models", {})
    for name, values in updates.items():
        entries[name] = {**entries.get(name, {}), **values}
    _atomic_write(path, render_lock(lock_header(text), entries))


def lock_header(text: str) -> str:
    """The comment block at the top of a lock file (everything before the first table)."""
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith("["):
            break
        lines.append(line)
    return "\n".join(lines).strip("\n") or "# translate_kit model lock: maintained with `tk models lock`; see docs/usage.md."


def render_lock(header: str, entries: dict[str, dict]) -> str:
    """TOML for the lock's fixed shape: [models.NAME] scalars, then [models.NAME.files] inline tables."""
    out = [header, ""]
    for name, item in entries.items():
        out.append(f"[models.{_toml_key(name)}]")
        out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items() if not isinstance(v, dict)]
        for key, table in ((k, v) for k, v in item.items() if isinstance(v, dict)):
            out += ["", f"[models.{_toml_key(name)}.{_toml_key(key)}]"]
            out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in sorted(table.items())]
        out.append("")
    return "\n".join(out)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):  # a JSON string is a valid TOML basic string, once DEL is escaped too
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to models.lock")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

