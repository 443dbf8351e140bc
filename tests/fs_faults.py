"""A real full disk and a real read-only file system for tests, without root: a small tmpfs mounted
in a user and mount namespace (`unshare -rm`). Skipped, with the reason, where the machine does
not allow one (no unshare, user namespaces disabled)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def in_namespace(script: str, size: str = "1m") -> dict:
    """Run `script` (Python; MNT is the tmpfs) in a mount namespace; its last stdout line is JSON."""
    if not shutil.which("unshare"):
        pytest.skip("no unshare(1) here: cannot mount a small tmpfs to fill")
    mnt = Path(os.environ.get("TMPDIR", "/tmp")) / f"tk-mnt-{os.getpid()}"
    mnt.mkdir(exist_ok=True)
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {mnt}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        mnt.rmdir()
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {probe.stderr.strip()}")
    code = f"MNT = {str(mnt)!r}\n" + textwrap.dedent(script)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run(["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs {mnt} && exec "$0" -c "$1"',
                               sys.executable, code], capture_output=True, text=True, env=env, timeout=300)
    finally:
        mnt.rmdir()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
