"""A forced out-of-memory back-off, ending in a correct output (issue 26; run by gpu_check.sh).

    python benchmarks/gpu_oom.py --tier big --device cuda --backend torch --memory-fraction 0.01
    python benchmarks/gpu_oom.py --tier big --device cuda --backend ct2 --sentences 4096
    python benchmarks/gpu_oom.py --device cpu --backend torch --simulate 8 --sentences 24   # CPU smoke

One document of distinct seed sentences goes through translate_kit.translate() twice with the
full-size random model of a tier (benchmarks/full_model.py): once at an absurd batch budget
(--batch-tokens 10**9: every segment in one batch) and once at tk's default budget, as the
reference. The absurd batch cannot fit: on CUDA torch's share of GPU memory is capped
(torch.cuda.set_per_process_memory_fraction) or, for CTranslate2, which has its own allocator,
the batch is simply too big (thousands of long sentences at beam 4). tk's engine must halve the
batch and retry (runtime/engine.py _generate_backing_off) until it fits. --simulate N (CPU) makes the torch
model raise torch's OutOfMemoryError for batches of more than N segments instead, to run the same
path on a machine with no GPU.

Correct output: no error, every segment translated by the model, in order; the fraction equal
to the reference run is reported (not required: fp16 numerics change with the batch's shape).
Prints one JSON line; exit 1 when the output is not whole, 3 when no out-of-memory happened
(the check did not check anything: raise --sentences or lower --memory-fraction).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import full_model  # noqa: E402


class Counter(logging.Handler):
    """Counts tk's 'out of memory on a batch of N; retrying in halves' warnings."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.halvings = []

    def emit(self, record):
        if "out of memory" in record.getMessage():
            self.halvings.append(record.getMessage())


def document(folder: Path, count: int, repeat: int) -> Path:
    """`count` distinct sentences (seed sentences, numbered, each `repeat` times longer) in one file."""
    seeds = full_model.seed_sentences(64)
    lines = [" ".join([seeds[i % len(seeds)]] * repeat).rstrip(".") + f" ({i})." for i in range(count)]
    path = folder / "oom.txt"
    path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return path


def simulate(limit: int) -> None:
    """Torch's OutOfMemoryError for batches larger than `limit`, raised where generate() runs."""
    import torch
    from translate_kit.runtime.torch import TorchEngine as Engine

    original = Engine.generate

    def generate(self, texts, **overrides):
        if len(texts) > limit:
            raise torch.cuda.OutOfMemoryError(f"simulated: CUDA out of memory on a batch of {len(texts)}")
        return original(self, texts, **overrides)

    Engine.generate = generate


def run(path: Path, args, batch_tokens: int | None, cache: Path):
    from translate_kit import DecodeOptions, RunOptions, load_documents, translate

    decode = DecodeOptions(backend=args.backend, beams=args.beams, repetition_retry=False)
    run = RunOptions(device=args.device, batch_tokens=batch_tokens, cache_dir=cache)
    (result,) = translate(load_documents([str(path)], path.parent), "en", src="fr", decode=decode, run=run,
                          model=str(args.model or full_model.model_dir(args.tier)))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=full_model.TIERS, default="big")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--backend", choices=("torch", "ct2"), default="torch")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3, help="each sentence this many seed sentences long")
    parser.add_argument("--memory-fraction", type=float, default=None, help="torch on CUDA: cap its memory share")
    parser.add_argument("--model", type=Path, default=None, help="a model folder instead of the tier's full-size one")
    parser.add_argument("--simulate", type=int, default=None, metavar="N", help="CPU: fake OOM above N segments")
    args = parser.parse_args(argv)
    counter = Counter()
    logging.getLogger("translate_kit").addHandler(counter)
    work = Path(tempfile.mkdtemp(prefix="tk-oom-"))
    path = document(work, args.sentences, args.repeat)
    reference = run(path, args, None, work / "reference-cache")
    if args.simulate:
        simulate(args.simulate)
    if args.memory_fraction and args.device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(args.memory_fraction)
    started = time.perf_counter()
    forced = run(path, args, 10**9, work / "forced-cache")
    seconds = time.perf_counter() - started
    texts = [s for s in forced.segments if s.kind == "text"]
    wanted = [s for s in reference.segments if s.kind == "text"]
    whole = (forced.error is None and len(texts) == len(wanted) == args.sentences
             and all(s.origin == "model" and s.target for s in texts)
             and [s.text for s in texts] == [s.text for s in wanted])
    same = sum(a.target == b.target for a, b in zip(texts, wanted)) / max(1, len(wanted))
    print(json.dumps({"check": "oom-backoff", "tier": args.tier, "model": str(args.model or "full-size random"),
                      "device": args.device, "backend": args.backend,
                      "signature": forced.signature, "sentences": args.sentences, "beams": args.beams,
                      "simulated": bool(args.simulate), "memory_fraction": args.memory_fraction,
                      "halvings": len(counter.halvings), "first_halving": counter.halvings[:1],
                      "error": str(forced.error) if forced.error else None, "whole": whole,
                      "same_as_reference": round(same, 3), "seconds": round(seconds, 1)}))
    if not whole:
        return 1
    return 0 if counter.halvings else 3


if __name__ == "__main__":
    sys.exit(main())
