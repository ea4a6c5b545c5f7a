"""One timed phase of benchmarks/gpu/smoke.sh: runs a medo1 entry point (a training module's `main`, or the
`medo1` CLI) with its arguments and writes the wall seconds and this process's peak GPU memory to a JSON
file (rank 0 under `accelerate launch`).

    python benchmarks/gpu/phase.py RESULT.json sft|ppo|cli ARGS..."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    result, entry, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    try:
        if entry == "cli":
            from medo1.cli import app

            app(argv, standalone_mode=False)
        else:
            from importlib import import_module

            import_module(f"medo1.train.{entry}").main(argv)
    finally:
        if os.environ.get("RANK", "0") == "0":
            gpu = torch.cuda.is_available()
            result.write_text(json.dumps({
                "phase": entry,
                "seconds": round(time.perf_counter() - started, 1),
                "peak_allocated_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if gpu else None,
                "peak_reserved_gb": round(torch.cuda.max_memory_reserved() / 2**30, 2) if gpu else None,
            }))


if __name__ == "__main__":
    main()
