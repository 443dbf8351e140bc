"""`tk models list|pull|lock|verify` and `tk doctor`: the models this tool uses, and the machine it runs on.

Registered on the main app in cli/__init__.py, with common.py's conventions: one line `tk: ...` on
stderr per problem, exit 1 when something failed; torch and transformers are imported only by `tk doctor`.
The work itself is in models/ (local: list, verify) and models/hub.py (network: pull, lock).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import TkError
from .common import EXIT_FAILED, JsonOpt, echo_json, fail, options_or_exit, say
from .help import App

models_app = App(help="List, download, lock and verify the models named in models.lock.", no_args_is_help=True)

NamesArg = Annotated[Optional[list[str]], typer.Argument(metavar="NAME", help="Lock entry names (fr-en, summarizer), pairs, repo ids or folders (default: every entry).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size else "-"


# --- tk models ------------------------------------------------------------------------------


@models_app.command("list")
def list_models(as_json: JsonOpt = False) -> None:
    """Per pair its tiers (base, big) with their published scores, then every other entry: present in the
    local cache, size, locked (commit and file hashes recorded), files checked, and which tier
    `--quality auto` picks on this machine."""
    from ..models import load_lock  # reads models.lock: only when it runs

    with options_or_exit():  # a TK_* setting that does not parse: exit 2, as for a run
        machine = machine_tiers()
        rows, pairs = listing(load_lock(), machine)
    if as_json:
        echo_json({**machine, "pairs": pairs, "models": rows})
        return
    typer.echo(_machine_line(machine))
    typer.echo(f"{'name':<12} {'tier':<5} {'model':<44} {'present':<8} {'size':>9}  {'locked':<7} {'files':<8} auto")
    for row in rows:
        where = row["repo"] if row["local"] else f"{row['repo']}@{(row['commit'] or row['revision'])[:12]}"
        files = row["lock"] if row["lock"] in ("ok", "mismatch", "unchecked") else "-"
        typer.echo(f"{row['name']:<12} {row['tier'] or '-':<5} {where:<44} {'yes' if row['present'] else 'no':<8} "
                   f"{megabytes(row['size']):>9}  {'yes' if row['locked'] else 'no':<7} {files:<8} "
                   f"{'yes' if row['auto'] else '-'}")
        details = [scores_text(row["scores"])] if row["scores"] else []
        details += [f"licence {row['license']}"] if row["license"] else []
        details += [] if row["in_lock"] else ["not in models.lock: the pair's conventional repo"]
        if details:
            typer.echo(f"{'':<12} {'; '.join(details)}")
        for problem in row["problems"]:
            typer.echo(f"{'':<12} {problem}")


def machine_tiers() -> dict:
    """The device a run would use here (runtime.resolve, the run's own decision) and the tier that
    --quality auto, and the quality set (TK_QUALITY, else auto), pick on it."""
    from .. import models, runtime
    from ..options import DecodeOptions, RunOptions

    decode, run = DecodeOptions(), RunOptions.from_env()
    try:
        device, problem = runtime.resolve(decode.backend, run.device, "auto").device, None
    except TkError as err:  # e.g. TK_DEVICE=cuda on a machine without one: said, and a CPU assumed
        device, problem = "cpu", str(err)
    return {"device": device, "device_error": problem, "auto_tier": models.auto_tier(device),
            "quality": decode.quality, "quality_tier": models.wanted_tier(decode.quality, device)}


def _machine_line(machine: dict) -> str:
    line = (f"device {machine['device']}: --quality auto picks the {machine['auto_tier']} tier here "
            f"(big on CUDA, base on a CPU)")
    if machine["quality"] != "auto":
        line += f"; TK_QUALITY={machine['quality']} picks the {machine['quality_tier']} tier"
    return line + (f" ({machine['device_error']})" if machine["device_error"] else "")


def listing(lock: dict, machine: dict) -> tuple[list[dict], list[dict]]:
    """Rows for `tk models list`: each pair's tiers in order (a pair with only a big entry gets its
    conventional base as a row not in the lock), then every other entry; and per pair its tiers and
    the one --quality auto picks here (models.pick_model: a wanted tier missing locally gives the other)."""
    from .. import models

    rows, pairs, seen = [], [], set()
    tiers_of = models.pair_tiers(lock)
    for entry in lock.values():
        if entry.pair is None:  # the summarizer, a folder of one's own: no tiers
            rows.append(_row(entry, True, False))
            continue
        if entry.pair in seen:
            continue
        seen.add(entry.pair)
        tiers = tiers_of[entry.pair]
        picked = models.pick_model(*entry.pair.split("-"), lock=lock, tier=machine["auto_tier"])
        pairs.append({"pair": entry.pair, "tiers": list(tiers), "auto": picked.tier, "auto_model": picked.label,
                      "auto_instead_of": picked.instead_of})
        rows += [_row(member, member.name in lock, member.tier == picked.tier) for member in tiers.values()]
    return rows, pairs


def _row(entry, in_lock: bool, auto: bool) -> dict:
    from ..models import model_status

    status = vars(model_status(entry))
    return {**status, "pair": entry.pair, "tier": entry.tier, "scores": entry.scores, "license": entry.license,
            "in_lock": in_lock, "auto": auto}


def scores_text(scores: dict) -> str:
    """Published figures as `tk models list` shows them: 'flores200-devtest BLEU 46.0 chrF 69.35 COMET 81.1, ...'."""
    names = {"bleu": "BLEU", "chrf": "chrF", "comet": "COMET"}
    parts = [f"{bench} " + " ".join(f"{names.get(k, k)} {v}" for k, v in figures.items())
             for bench, figures in scores.items() if isinstance(figures, dict)]
    return ", ".join(parts)


@models_app.command("verify")
def verify(
    names: NamesArg = None,
    allow_unlocked: Annotated[bool, typer.Option("--allow-unlocked", help="Exit 0 even when some entries are not locked (nothing to check them against).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check the local files of each locked entry against the lock's sha256 and size.

    Exit 1 on a mismatch, and when an entry is not locked (the lock records no commit and file
    hashes for it, so nothing could be verified) unless --allow-unlocked."""
    from ..models import model_status, select_entries  # as above

    try:
        statuses = [model_status(entry) for entry in select_entries(names)]
    except TkError as err:
        raise fail(err)
    bad = [s for s in statuses if s.lock == "mismatch"]
    unlocked = [s for s in statuses if not s.locked]
    ok = not bad and (allow_unlocked or not unlocked)
    if as_json:
        echo_json({"models": [vars(s) for s in statuses], "verified": [s.name for s in statuses if s.lock == "ok"],
                   "not_locked": [s.name for s in unlocked], "ok": ok})
    else:
        for s in statuses:
            _say_verified(s)
        if unlocked:
            _say_unlocked(statuses, unlocked, allow_unlocked)
    if not ok:
        raise typer.Exit(EXIT_FAILED)


def _say_unlocked(statuses: list, unlocked: list, allowed: bool) -> None:
    """One line for every entry that is not locked: nothing could be checked, and why."""
    verified = sum(1 for s in statuses if s.lock == "ok")
    what = f"{verified} of {len(statuses)} entries" if verified else "nothing"
    names = " ".join(s.name for s in unlocked)
    say(f"verified {what}: not locked: {', '.join(s.name for s in unlocked)} (models.lock records no commit and "
        f"file hashes to check against; `tk models lock {names}` records them)"
        + ("" if allowed else "; pass --allow-unlocked to accept that"))


def _say_verified(s) -> None:
    if s.lock == "mismatch":
        for problem in s.problems:
            say(f"{s.name}: {s.path}/{problem}")
    elif s.lock == "ok":
        say(f"{s.name}: ok, every file matches the lock")
    elif s.lock == "absent" and s.locked:
        say(f"{s.name}: not downloaded (`tk models pull {s.name}`)")
    # an entry that is not locked: said once for all of them (_say_unlocked)


@models_app.command("pull")
def pull(names: NamesArg = None, quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Download the locked revisions (configs, tokenizer, one weight format) into the Hugging Face cache.

    With no NAME: each pair's tier that --quality (TK_QUALITY, else auto) picks on this machine, and
    every entry that is no pair (the summarizer); a big tier (~600 MB) only when named (fr-en.big)."""
    from ..models.hub import pull as run_pull  # huggingface_hub: only when it runs

    if not names:
        with options_or_exit():
            names, line = default_pulls()
        say(line)
    try:
        outcomes = run_pull(names, progress=not quiet and not as_json)
    except TkError as err:
        raise fail(err)
    _report(outcomes, as_json, lambda o: f"{o.entry.name}: {o.note or 'files'} in {o.path}")


def default_pulls() -> tuple[list[str], str]:
    """What `tk models pull` with no names fetches, and the line that says so."""
    from .. import models

    machine, lock = machine_tiers(), models.load_lock()
    tier, skipped, pairs = machine["quality_tier"], [], []
    for tiers in models.pair_tiers(lock).values():
        pairs.append(tiers[tier].name if tier in tiers else tiers[models.BASE].name)
        skipped += [entry.name for entry in tiers.values() if entry.name not in pairs]
    others = [name for name, entry in lock.items() if entry.pair is None]
    line = (f"pulling {', '.join(pairs) or 'no pair'} (the {tier} tier: what --quality {machine['quality']} "
            f"uses on this machine, device {machine['device']})" + (f" and {', '.join(others)}" if others else ""))
    if skipped:
        size = ", ~600 MB each" if tier == models.BASE else ""
        line += f"; not the other tiers (`tk models pull {' '.join(skipped)}` fetches them{size})"
    return pairs + others, line


@models_app.command("lock")
def lock(names: NamesArg = None, as_json: JsonOpt = False) -> None:
    """Resolve revisions to commit hashes and record each needed file's sha256 and size in models.lock."""
    from ..models.hub import lock as run_lock  # as above

    try:
        outcomes = run_lock(names)
    except TkError as err:
        raise fail(err)
    _report(outcomes, as_json, _locked_line)


def _locked_line(o) -> str:
    commit = o.values.get("commit")
    files = len(o.values.get("files", {}))
    return f"{o.entry.name}: {'commit ' + commit if commit else o.entry.path}, {files} files locked"


def _report(outcomes, as_json: bool, line) -> None:
    """One line per entry (errors too), or one JSON report; exit 1 when any entry failed."""
    failed = [o for o in outcomes if o.error]
    if as_json:
        echo_json({"models": [{"name": o.entry.name, "repo": o.entry.repo, "path": str(o.path) if o.path else None,
                               "values": o.values, "note": o.note, "error": o.error} for o in outcomes],
                   "ok": not failed})
    else:
        for o in outcomes:
            say(o.error if o.error else line(o))
    if failed:
        raise typer.Exit(EXIT_FAILED)


# --- tk doctor ------------------------------------------------------------------------------


def doctor(as_json: JsonOpt = False) -> None:
    """Versions, devices, the device and precision `auto` picks, threads, caches, offline switch, models present."""
    with options_or_exit():  # a TK_* setting that does not parse: the same line and status as for a run
        report = doctor_report()
    broken = [f for f in report["formats"] if not f["available"]]
    if as_json:
        echo_json(report)
    else:
        _print_report(report)
    for f in broken:  # said on stderr too, one line each, whatever the output form
        typer.echo(f"tk: {f['kind']} format {f['format']} is unavailable ({'; '.join(f['problems'].values())}); "
                   f"fix: {f['fix']}", err=True)
    if broken:
        raise typer.Exit(1)


def _print_report(report: dict) -> None:
    for key, value in report.items():
        if key == "formats":
            shown = [f"{f['format']}" if f["available"] else f"{f['format']} (UNAVAILABLE)" for f in value]
            typer.echo("formats: " + ", ".join(dict.fromkeys(shown)))
        elif key == "models":
            typer.echo("models:")
            for m in value:
                typer.echo(f"  {m['name']:<12} {m['repo']:<44} {'present' if m['present'] else 'absent':<8} {megabytes(m['size'])}")
        elif isinstance(value, dict):
            typer.echo(f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
        else:
            typer.echo(f"{key}: {value}")


def doctor_report() -> dict:
    """Everything a bug report needs about this machine. Reads only; downloads and creates nothing."""
    import platform

    import huggingface_hub  # heavy (torch, transformers): `tk doctor` reports their versions and devices
    import torch
    import transformers

    from .. import __version__, models
    from ..options import RunOptions

    run = RunOptions.from_env()
    return {
        "translate_kit": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "huggingface_hub": huggingface_hub.__version__,
        **(devices := _devices(torch, run.device)),
        "quality": _quality(devices["auto"].get("device", "cpu")),
        "threads": _threads(run.threads),
        "cache": _folder(run.cache_dir),
        "hf_hub_cache": _folder(models.hub_cache_dir()),
        "offline": {"HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", ""),
                    "TRANSFORMERS_OFFLINE": os.environ.get("TRANSFORMERS_OFFLINE", ""), "active": models.offline()},
        "hf_endpoint": os.environ.get("HF_ENDPOINT") or "https://huggingface.co",
        "models_lock": str(models.lock_path().resolve()) if models.lock_path() else None,
        "models": _models_present(models),
        "formats": formats(),
    }


def _devices(torch, requested: str) -> dict:
    """CUDA devices with their memory, MPS, and what `--device auto` / `--precision auto` would use."""
    cuda = [{"index": i, "name": torch.cuda.get_device_name(i),
             "memory_gb": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1)}
            for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    chosen = _resolved(requested)
    return {"cuda_build": torch.version.cuda, "cuda_devices": cuda, "mps": mps,
            "auto": {"requested": requested, **chosen}}


def _resolved(device: str) -> dict:
    """What `--backend auto --precision auto` really runs here, from the same runtime.resolve
    (a frozen Plan) that a run's engine and cache signature read."""
    from .. import runtime  # decides as a run would: only when `tk doctor` runs
    from ..options import DecodeOptions

    try:
        requested = DecodeOptions().backend  # TK_BACKEND, else auto
        return {"backend_requested": requested, **runtime.resolve(requested, device, "auto").describe()}
    except TkError as err:
        return {"device": device, "error": str(err)}


def _quality(device: str) -> dict:
    """The tier --quality auto picks on the device a run would use (the same runtime.resolve), and the
    one the quality set here (TK_QUALITY, else auto) picks."""
    from .. import models
    from ..options import DecodeOptions, env

    quality = DecodeOptions().quality
    return {"TK_QUALITY": env("QUALITY") or "", "requested": quality, "auto_picks": models.auto_tier(device),
            "picks": models.wanted_tier(quality, device)}


def _threads(requested: int | None) -> dict:
    from ..options import env
    from ..runtime.devices import cores as usable_cores

    cores = usable_cores()
    return {"cores": cores, "used": requested or cores, "TK_THREADS": env("THREADS") or ""}


def _folder(path: Path) -> dict:
    from ..models import folder_size

    path = Path(path)
    return {"path": str(path.resolve()), "exists": path.is_dir(), "bytes": folder_size(path) if path.is_dir() else 0}


def _models_present(models) -> list[dict]:
    try:
        entries = models.load_lock().values()
    except TkError as err:
        return [{"name": "?", "repo": str(err), "present": False, "size": 0}]
    return [{k: v for k, v in vars(models.model_status(e, check=False)).items() if k != "problems"} for e in entries]


def formats() -> list[dict]:
    """Every reader and writer with the libraries it needs and whether they import here; for one
    that fails, the pip command that brings what is missing (`tk doctor`)."""
    from ..readers import available as readers
    from ..registry import unavailable
    from ..writers import available as writers

    rows = []
    for kind, found in (("input", readers()), ("output", writers())):
        for name, fmt in found.items():
            problems = unavailable(fmt.libraries)
            fix = " ".join(f'"{fmt.libraries[m]}"' for m in problems)
            rows.append({"format": name, "kind": kind, "libraries": sorted(set(fmt.libraries.values())),
                         "available": not problems, "problems": problems,
                         "fix": f"pip install --force-reinstall {fix}" if problems else None})
    return rows
