"""The precision choice: bf16 only where the hardware reports it native and it measures not slower
than fp32; every path that picks a dtype (SFT, PPO, TRL RL, the hf backend) follows it and says so."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import pytest

from medo1.errors import Medo1Error
from medo1.precision import FORCE_ENV, choose_bf16, cpu_reports_native_bf16, decide, measure_matmul

SLOW_BF16 = "bf16=0.05,fp32=0.0001"  # an AVX2-only CPU: bf16 emulated, 500x slower than fp32
FAST_BF16 = "bf16=0.0001,fp32=0.0003"  # AMX / AVX512-BF16: 3x faster


@pytest.fixture
def forced(monkeypatch):
    """Set the measured matmul times for this process (the choice is cached: cleared around the test)."""
    def force(value: str) -> None:
        monkeypatch.setenv(FORCE_ENV, value)
        choose_bf16.cache_clear()

    yield force
    choose_bf16.cache_clear()


def test_decision_needs_native_support_and_a_bf16_that_is_not_slower():
    assert not decide(False, None, None).bf16  # no AVX512-BF16 / AMX: never measured, never bf16
    assert not decide(False, 0.0001, 0.001).bf16
    fast = decide(True, 0.0001, 0.0003)
    assert fast.bf16 and "3.0x" in fast.reason
    slow = decide(True, 0.05, 0.0001)  # reports the flags, runs slowly (e.g. AMX state hidden by a hypervisor)
    assert not slow.bf16 and "500.0x slower" in slow.reason
    assert decide(True, 0.000102, 0.0001).bf16  # a tie within timing noise counts as "not slower"
    assert decide(True, None, None).bf16  # reported native and not measured (a GPU)


def test_measurement_is_real_and_cheap():
    started = time.perf_counter()
    bf16_s, fp32_s = measure_matmul()
    assert time.perf_counter() - started < 1.0
    assert all(0 < s < 1 and math.isfinite(s) for s in (bf16_s, fp32_s))


def test_forced_numbers_drive_the_choice_of_every_path(forced):
    from medo1.llm.hf import resolve_dtype
    from medo1.train.common import bf16_supported

    forced(SLOW_BF16)
    assert not choose_bf16("cpu").bf16 and "forced" in choose_bf16("cpu").reason
    assert not bf16_supported() and resolve_dtype("auto", "cpu") == "float32"
    assert resolve_dtype("bfloat16", "cpu") == "bfloat16"  # an explicit choice is kept
    forced(FAST_BF16)
    assert bf16_supported() == cpu_reports_native_bf16()
    assert resolve_dtype("auto", "cpu") == ("bfloat16" if cpu_reports_native_bf16() else "float32")
    forced("bf16=fast")
    with pytest.raises(Medo1Error, match=FORCE_ENV):
        choose_bf16("cpu")


@pytest.mark.skipif(not cpu_reports_native_bf16(), reason="needs a CPU that reports native bf16")
def test_sft_on_a_cpu_whose_bf16_is_slow_trains_in_fp32_and_says_why(tiny_model_dir, tmp_path):
    """In a fresh process, as `medo1 sft` runs: the one-line reason on stderr, fp32 in the summary."""
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"Question": f"Which drug {i}?", "Complex_CoT": "Hmm, aspirin.\nYes.",
                                        "Response": "The answer is A."}) + "\n" for i in range(4)))
    runs = {}
    for name, value in (("slow", SLOW_BF16), ("fast", FAST_BF16)):
        out = tmp_path / name
        result = subprocess.run(
            [sys.executable, "-m", "medo1", "sft", "--data", str(data), "--model", str(tiny_model_dir), "--out", str(out),
             "--batch-size", "2", "--micro-batch-size", "2", "--max-steps", "1"],
            capture_output=True, text=True, timeout=300, env={**_env(), FORCE_ENV: value})
        assert result.returncode == 0, result.stderr[-2000:]
        runs[name] = (json.loads((out / "medo1_sft.json").read_text())["bf16"], result.stderr)
    assert runs["slow"][0] is False and runs["fast"][0] is True
    [line] = [l for l in runs["slow"][1].splitlines() if "precision:" in l]
    assert "precision: fp32" in line and "slower than fp32" in line
    assert "precision: bf16" in runs["fast"][1]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != FORCE_ENV}
