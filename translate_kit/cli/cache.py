"""`tk cache stats|clear|check|merge`: the translation cache, inspected, cleared, checked, merged."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import CacheFileError
from ..options import RunOptions
from .common import EXIT_FAILED, CacheDirOpt, JsonOpt, echo_json, options_or_exit, say
from .help import App

cache_app = App(help="Inspect, clear or merge the translation cache.", no_args_is_help=True)


@contextmanager
def cache_or_exit(cache_dir: Path | None):
    """The cache of a `tk cache` command; whatever stops it is one line and exit 1 (2 for usage)."""
    from ..cache import Cache  # sqlite3 and the store: only when a cache command runs (`tk --help` stays light)

    with options_or_exit():
        cache = Cache(cache_dir or RunOptions.from_env().cache_dir)
        try:
            yield cache
        finally:
            cache.close()


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None, as_json: JsonOpt = False) -> None:
    """Entries, size on disk, and entries per model."""
    with cache_or_exit(cache_dir) as cache:
        stats = cache.stats()
    if as_json:
        echo_json(stats, ensure_ascii=True)
        return
    typer.echo(f"{stats['path']}: {stats['entries']} entries, {stats['bytes'] / 1e6:.1f} MB; "
               f"{stats['reviews']} imported review(s) in {Path(stats['reviews_path']).name}")
    for m in stats["models"]:
        typer.echo(f"  {m['model']:<48} {m['task']:<10} {m['entries']:>7}")
    for name in stats["damaged_files"]:
        typer.echo(f"  set aside as damaged (kept, safe to delete once you no longer need it): {name}")


@cache_app.command("clear")
def cache_clear(
    model: Annotated[Optional[str], typer.Option("--model", metavar="REPO", help="Only this model's entries (repo id).")] = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove cached results (all, or one model's). Imported reviews are kept."""
    with cache_or_exit(cache_dir) as cache:
        removed = cache.clear(model)
    say(f"removed {removed} cache entries")


@cache_app.command("check")
def cache_check(
    repair: Annotated[bool, typer.Option("--repair", help="Recover what can be read from a damaged file into a new one (the damaged file is kept aside).")] = False,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask SQLite whether the cache files are sound (PRAGMA quick_check); changes nothing unless --repair."""
    from ..cache import check  # as above

    with options_or_exit():
        folder = cache_dir or RunOptions.from_env().cache_dir
        rows = check(folder, repair)
    if as_json:
        echo_json(rows, ensure_ascii=True)
    for row in rows if not as_json else []:
        if not row["exists"]:
            typer.echo(f"{row['path']}: not there (nothing cached yet)")
        elif not row["damage"]:
            typer.echo(f"{row['path']}: ok")
        elif "repair" in row:
            r = row["repair"]
            typer.echo(f"{row['path']}: was damaged ({row['damage']}); recovered "
                       f"{', '.join(f'{n} {t}' for t, n in r['recovered'].items()) or 'nothing'}; "
                       f"the damaged file is kept as {Path(r['kept_as']).name}")
        else:
            typer.echo(f"{row['path']}: damaged ({row['damage']}); `tk cache check --repair` recovers what can be "
                       "read (the next tk run that uses the cache does too)")
    if any(row["damage"] and "repair" not in row for row in rows):
        raise typer.Exit(EXIT_FAILED)


@cache_app.command("merge")
def cache_merge(
    others: Annotated[list[Path], typer.Argument(metavar="OTHER", help="Other caches: folders (e.g. a node's cache copied back) or their translations.sqlite3 / reviews.sqlite3 files.")],
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add the entries, detected languages and reviews of other caches that this one lacks.

    Keys are by content, so merging is a union; where both have an entry with different text,
    this cache's is kept and the difference counted."""
    from ..cache import Merged, cache_files, merge_file  # as above

    rows = []

    def refused(name, err: CacheFileError) -> None:  # this file only: the others are still merged
        rows.append({"file": str(name), "error": str(err)})
        say(str(err))

    with cache_or_exit(cache_dir) as cache:  # this cache's own trouble (busy, full) ends it: one line
        for other in others:
            try:
                paths = cache_files(other)
            except CacheFileError as err:
                refused(other, err)
                continue
            merged: dict = {}  # a folder's files (translations, reviews) said in one line
            for path in paths:
                try:
                    for table, counts in merge_file(cache, path).items():
                        merged.setdefault(table, Merged())
                        merged[table] += counts
                except CacheFileError as err:
                    refused(path, err)
            if merged:  # at least one of its files was merged
                rows.append({"file": str(other), "error": None, **{t: m.as_dict() for t, m in merged.items()}})
                if not as_json:
                    say(f"{other}: {merged_line(merged)}")
    failed = any(row["error"] for row in rows)
    if as_json:
        echo_json({"files": rows, "ok": not failed}, ensure_ascii=True)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def merged_line(merged: dict) -> str:
    """"12 entries added, 3 already here; 1 language added" and what differed or was malformed."""
    names = {"entries": ("entry", "entries"), "languages": ("language", "languages"), "overrides": ("review", "reviews")}
    said = []
    for table, m in merged.items():
        if not any(m.as_dict().values()):
            continue
        one, many = names[table]
        text = f"{m.added} {one if m.added == 1 else many} added, {m.present} already here"
        if m.conflicts:
            text += f", {m.conflicts} different from this cache's (this cache's kept)"
        if m.skipped:
            text += f", {m.skipped} malformed row(s) skipped"
        said.append(text)
    return "; ".join(said) or "nothing in it to merge"
