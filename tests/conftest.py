import os
import tempfile
from pathlib import Path

import pytest

# Keep test runs away from the user's cache, but share one home across the session so the
# embedded model's HF export is made once per test run.
os.environ.setdefault("MEDO1_HOME", tempfile.mkdtemp(prefix="medo1-test-home-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Pipelines run inside the test process train in it too: a fresh (spawned) training process, `medo1 run`'s default,
# costs ~10 s of imports per training stage on the tiny models. The tests of that default path (the killed runs, the
# demo, `in_fresh_process` itself) run without it; `default_path_env()` is their environment.
IN_PROCESS_ENV = "MEDO1_TRAIN_IN_PROCESS"
os.environ.setdefault(IN_PROCESS_ENV, "1")


def default_path_env(**extra: str) -> dict[str, str]:
    """The environment of a `medo1` subprocess that trains the way `medo1 run` does for users."""
    return {k: v for k, v in os.environ.items() if k != IN_PROCESS_ENV} | extra


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama checkpoint (2 layers, hidden 64) with a ChatML tokenizer."""
    from tests.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def embedded_checkpoint() -> Path:
    """The embedded SmolLM2-135M-Instruct as a plain HF checkpoint (exported once per test run, ~25 s)."""
    from medo1.embedded import embedded_hf_checkpoint

    return embedded_hf_checkpoint()


@pytest.fixture
def openai_server():
    """A real OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py); script it via `.handler`/`.script()`."""
    from tests.openai_server import OpenAIServer

    with OpenAIServer() as server:
        yield server


@pytest.fixture
def cpu_of_kind(monkeypatch):
    """Makes this CPU measure as one with slow ("emulated") or fast ("native") bf16 (the documented override);
    native needs a CPU that reports AVX512-BF16 or AMX."""
    from medo1.precision import FORCE_ENV, choose_bf16

    def force(kind: str) -> None:
        monkeypatch.setenv(FORCE_ENV, "bf16=0.1,fp32=0.0003" if kind == "emulated" else "bf16=0.0001,fp32=0.0003")
        choose_bf16.cache_clear()

    yield force
    choose_bf16.cache_clear()


@pytest.fixture(scope="session")
def bundled_report():
    """`bundled_report("match")`: a rule verifier ("match" or "match:strict") scored by `evaluate_verifier` on every
    row of the bundled labelled set, once per test session (some 18,000 verdicts, about half a minute each)."""
    import asyncio
    import functools

    from medo1.data import VERIFIER_LABELS
    from medo1.jsonl import read_jsonl
    from medo1.verify import LabeledVerdict, MatchVerifier, evaluate_verifier
    from medo1.verify.strict import StrictMatchVerifier

    @functools.cache
    def report(spec: str):
        verifier = {"match": MatchVerifier, "match:strict": StrictMatchVerifier}[spec]()
        return asyncio.run(evaluate_verifier(verifier, read_jsonl(VERIFIER_LABELS, LabeledVerdict)))

    return report
