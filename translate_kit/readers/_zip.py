"""Zip containers (DOCX, EPUB, any zip-based format; `tk serve`'s uploads too) checked before
anything unpacks them: a zip bomb is refused while it inflates, never after.

`check_archive()` streams every member through the decompressor in blocks of BLOCK bytes,
counting what really comes out, and stops at the first of LIMITS passed or a member it cannot
read; memory stays at one block. The limits and their reasons: docs/design.md#readers
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import DocumentError

BLOCK = 1 << 16
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
           zipfile.ZIP_LZMA: "lzma"}


@dataclass(frozen=True)
class Limits:
    """What one container may expand to."""

    total: int = 200_000_000  # bytes out of all members together
    member: int = 64_000_000  # bytes out of one member
    members: int = 10_000
    ratio: int = 100  # bytes out per compressed byte, for a member past `grace`
    grace: int = 1_000_000  # a small member may compress as well as it likes


LIMITS = Limits()


class ArchiveTooLarge(DocumentError):
    """A container that expands past its Limits (too many parts, too many bytes, too high a ratio):
    not damaged, only too much (`tk serve` answers 413 for it, 400 for a damaged one)."""


def open_archive(data: bytes | Path, name: str, kind: str, limits: Limits = LIMITS) -> zipfile.ZipFile:
    """The archive in `data`, every member checked (check_archive); its bytes are held in memory,
    so what was checked is what is read. Raises DocumentError naming `name`."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    check_archive(raw, name, kind, limits)
    return zipfile.ZipFile(io.BytesIO(raw))


def check_archive(data: bytes, name: str, kind: str = "zip", limits: Limits = LIMITS) -> None:
    """Refuse (DocumentError, one line) an archive that expands past `limits`, holds an
    encrypted member or one compressed in a method zipfile cannot read, or is damaged."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise DocumentError(name, f"damaged {kind} (not a readable zip archive)") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise ArchiveTooLarge(name, f"{kind} refused: {len(members)} parts in its zip archive (the limit is {limits.members})")
        total = 0
        for info in members:
            total += _inflate(archive, info, name, kind, limits, limits.total - total)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, kind: str, limits: Limits, room: int) -> int:
    """Bytes that member `info` inflates to, counted block by block; stops past `room` or the ratio."""
    part = repr(info.filename)
    if info.flag_bits & 0x1:
        raise DocumentError(name, f"{kind} refused: part {part} is encrypted (a password-protected zip member)")
    if info.compress_type not in METHODS:
        raise DocumentError(name, f"{kind} refused: part {part} uses zip compression method {info.compress_type}, "
                                  "which cannot be read (stored, deflate, bzip2 and lzma can)")
    out = 0
    try:
        with archive.open(info) as member:
            while block := member.read(BLOCK):
                out += len(block)
                if out > room:
                    raise ArchiveTooLarge(name, f"{kind} refused: it expands to over {limits.total / 1e6:g} MB "
                                              "(a zip bomb?)")
                if out > limits.member:
                    raise ArchiveTooLarge(name, f"{kind} refused: part {part} expands to over {limits.member / 1e6:g} MB")
                if out > limits.grace and out > limits.ratio * max(info.compress_size, 1):
                    raise ArchiveTooLarge(name, f"{kind} refused: part {part} expands over {limits.ratio} times its "
                                              "compressed size (a zip bomb?)")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as err:
        raise DocumentError(name, f"damaged {kind} (part {part} cannot be unpacked: {_line(err)})") from None
    return out


def _line(err: BaseException) -> str:
    return " ".join(str(err).split())[:120] or type(err).__name__
