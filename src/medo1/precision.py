"""Which precision to compute in: bf16 only where it is native *and* not slower than fp32.

CPUs of one cloud instance type differ: with AVX512-BF16 or AMX a bf16 matmul runs several times
faster than fp32 (measured: ~600 vs ~120 GFLOP/s on 2 shared cores); without them PyTorch emulates
bf16 at a few hundred MFLOP/s, hundreds of times slower than fp32. A CPU can also report the flags and
still be slow (a hypervisor that hides AMX state, an old oneDNN). So the choice is measured, once per
process: a small bf16 and fp32 matmul, interleaved, best of a few (tens of milliseconds; a slow bf16
side stops the measurement early). GPUs report their capability (`torch.cuda.is_bf16_supported()`).

Every path that picks a dtype by itself (SFT, PPO, GRPO/RLOO/DPO, the `hf` backend, the benchmarks)
asks `choose_bf16()` and prints its one-line reason once. To see what a machine of the other kind
would do, force the measurement: `MEDO1_MATMUL_SECONDS="bf16=0.1,fp32=0.0003"` (seconds per matmul).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

# The measured matmul: (M x K) @ (K x N), about a small model's projection on a short sequence. It runs on
# one thread: the instruction set is a property of each core, and on cores shared with other processes
# a multi-threaded matmul measures the scheduler (seen: 30 ms for what takes 0.1 ms alone).
SHAPE = (128, 256, 256)
FORCE_ENV = "MEDO1_MATMUL_SECONDS"
TOLERANCE = 1.05  # bf16 counts as "not slower" within 5% of fp32 (timing noise on shared cores)


@dataclass(frozen=True)
class Precision:
    bf16: bool
    reason: str  # one line: what was found and why this choice

    @property
    def dtype(self) -> str:
        return "bfloat16" if self.bf16 else "float32"

    def line(self) -> str:
        return f"precision: {'bf16' if self.bf16 else 'fp32'} ({self.reason})"


def cpu_reports_native_bf16() -> bool:
    """AVX512-BF16 or AMX, as PyTorch (or, failing that, /proc/cpuinfo) reports them."""
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        if fn is not None and bool(fn()):
            return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def forced_seconds() -> tuple[float, float] | None:
    """(bf16, fp32) seconds per matmul from MEDO1_MATMUL_SECONDS, or None when unset."""
    value = os.environ.get(FORCE_ENV)
    if not value:
        return None
    try:
        parts = dict(p.split("=", 1) for p in value.replace(" ", "").split(","))
        return float(parts["bf16"]), float(parts["fp32"])
    except (ValueError, KeyError):
        from medo1.errors import Medo1Error

        raise Medo1Error(f"{FORCE_ENV}={value!r}: expected 'bf16=SECONDS,fp32=SECONDS'") from None


def measure_matmul(shape: tuple[int, int, int] = SHAPE, repeats: int = 5, budget_s: float = 0.1) -> tuple[float, float]:
    """Best seconds of one bf16 and one fp32 matmul of `shape` on one CPU thread, interleaved so that load
    from other processes hits both alike. Stops early once the time budget is spent (a slow bf16 side)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure(shape, repeats, budget_s)
    finally:
        torch.set_num_threads(threads)


def _measure(shape: tuple[int, int, int], repeats: int, budget_s: float) -> tuple[float, float]:
    m, k, n = shape
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(m, k, generator=gen), torch.randn(k, n, generator=gen)
    pairs = {torch.float32: (a, b), torch.bfloat16: (a.bfloat16(), b.bfloat16())}
    best = {dtype: float("inf") for dtype in pairs}
    started = time.perf_counter()
    with torch.no_grad():
        for dtype, (x, y) in pairs.items():  # warm-up: the first call picks and builds the kernel
            x @ y
        for _ in range(repeats):
            for dtype, (x, y) in pairs.items():
                t0 = time.perf_counter()
                x @ y
                best[dtype] = min(best[dtype], time.perf_counter() - t0)
            if time.perf_counter() - started > budget_s:
                break
    return best[torch.bfloat16], best[torch.float32]


def decide(supported: bool, bf16_s: float | None, fp32_s: float | None, *, what: str = "CPU") -> Precision:
    """bf16 when the hardware reports it native and, where measured, it is not slower than fp32."""
    if not supported:
        return Precision(False, f"the {what} reports no native bf16 (AVX512-BF16 / AMX)")
    if bf16_s is None or fp32_s is None:
        return Precision(True, f"the {what} reports native bf16")
    ratio = fp32_s / bf16_s if bf16_s > 0 else float("inf")
    timing = f"bf16 {bf16_s * 1e3:.3f} ms vs fp32 {fp32_s * 1e3:.3f} ms per {'x'.join(map(str, SHAPE))} matmul"
    if bf16_s <= fp32_s * TOLERANCE:
        return Precision(True, f"native bf16 measured {ratio:.1f}x the speed of fp32: {timing}")
    return Precision(False, f"the {what} reports native bf16 but it measured {1 / ratio:.1f}x slower than fp32: {timing}")


@functools.cache
def choose_bf16(device: str = "cpu") -> Precision:
    """The precision for `device` ("cpu", "cuda", "cuda:1", "mps"), decided once per process."""
    if device.startswith("cuda"):
        supported = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return Precision(supported, "the GPU reports " + ("native bf16" if supported else "no native bf16"))
    if device != "cpu":
        return Precision(False, f"{device}: fp32 (bf16 is not measured on this device)")
    supported = cpu_reports_native_bf16()
    forced = forced_seconds()
    if forced is not None:
        choice = decide(supported, *forced)
        return Precision(choice.bf16, choice.reason + f" [forced by {FORCE_ENV}]")
    return decide(supported, *(measure_matmul() if supported else (None, None)))


def training_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


_said: set[str] = set()


def say_precision(device: str = "cpu", *, who: str = "") -> Precision:
    """`choose_bf16(device)`, printed (once per process and device) as one line on stderr."""
    choice = choose_bf16(device)
    if device not in _said and os.environ.get("RANK", "0") == "0":
        _said.add(device)
        print(f"{who + ' ' if who else ''}{choice.line()}", file=sys.stderr, flush=True)
    return choice
