"""The one place that decides `--device`, counts usable cores and sets threads.

`choose_device` answers what `auto` (or a named device) stands for on this machine. When
CTranslate2 may run (backend auto or ct2) and the answer is a CPU, it is found without importing
torch: importing torch takes 2-3 s, most of a re-run whose segments are all cached.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from ..errors import ModelUnavailable

# Workers x threads on a CPU (CTranslate2). On 2 cores (issue 7's reference run) 1 worker x 2 threads
# and 2 x 1 were equal at greedy, and 2 x 1 was 1.9x faster at beam 4 (small matrices do not split
# well over threads; whole batches do). On our busy shared machines 2 x 1 was also 1.5x faster at
# greedy (tuning runs for benchmarks/bench_translate.py): a single-threaded worker never waits for a
# descheduled sibling thread. So: one worker per core, up to MAX_WORKERS (each holds its own
# decoder states), and the remaining cores as threads per worker.
MAX_WORKERS = 4


def choose_device(requested: str = "auto", backend: str = "torch") -> str:
    """The device `requested` (auto included) stands for, importing torch only when it must."""
    if backend != "torch" and importlib.util.find_spec("ctranslate2") is not None:
        if requested == "cpu" or (requested == "auto" and _no_gpu_driver()):
            return "cpu"  # not even ctranslate2 imported (0.1-0.3 s): a warm re-run is mostly start-up
        import ctranslate2  # heavy (0.1-0.3 s): only when a GPU driver may be there

        if requested == "auto" and sys.platform != "darwin" and ctranslate2.get_cuda_device_count() == 0:
            return "cpu"
    return _torch_device(requested)


def _torch_device(requested: str) -> str:
    import torch  # heavy (2-3 s): only when the device cannot be told without it

    mps = getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "mps" if mps else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(f"device '{requested}' asked for, but torch sees no CUDA device")
    if requested == "mps" and not mps:
        raise ModelUnavailable("device 'mps' asked for, but torch sees no MPS device")
    return requested


def _no_gpu_driver() -> bool:
    """A Linux machine with neither an NVIDIA driver nor WSL's GPU device has no CUDA device."""
    return sys.platform.startswith("linux") and not any(
        os.path.exists(p) for p in ("/proc/driver/nvidia", "/dev/nvidia0", "/dev/dxg"))


def device_index(device: str) -> int:
    return int(device.split(":")[1]) if ":" in device else 0


def cores() -> int:
    """CPU cores this process may use (its affinity where the OS says, else all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def torch_threads(threads: int | None) -> int:
    """--threads / TK_THREADS, else OMP_NUM_THREADS if the user set it, else every core we may use."""
    omp = os.environ.get("OMP_NUM_THREADS", "")
    return threads or (int(omp) if omp.isdigit() and int(omp) > 0 else cores())


def cpu_layout(threads: int | None) -> tuple[int, int]:
    """(workers, threads per worker) for a CPU with `threads` cores to use (see MAX_WORKERS)."""
    total = threads or cores()
    workers = max(1, min(MAX_WORKERS, total))
    return workers, max(1, total // workers)
