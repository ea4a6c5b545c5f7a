"""Which engine evaluates a checkpoint directory: transformers as it is, or llama.cpp on its cached GGUF
conversion (medo1.gguf_export) where that decodes faster (a CPU without native bf16)."""

from __future__ import annotations

import logging
from pathlib import Path

from medo1.errors import Medo1Error
from medo1.gguf_export import ExportError, cached_gguf

log = logging.getLogger(__name__)

BACKENDS = ("auto", "hf", "gguf")


def _llamacpp_is_faster() -> bool:
    """Whether llama.cpp evaluates a checkpoint faster here than transformers: on a CPU without native bf16.

    Measured with benchmarks/eval_throughput.py (SmolLM2-135M, 8 questions, 256 tokens, 2 cores): on an AVX2-only
    CPU transformers runs fp32 and llama.cpp was several times faster; on a CPU with AMX, transformers in bf16
    batching all questions did 0.58 items/s (139 tokens/s) against 0.38 (q8_0) and 0.23 (f16) on llama.cpp,
    whose replicas decode one sequence each. GPUs run transformers."""
    import torch

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        return False
    from medo1.precision import choose_bf16

    return not choose_bf16("cpu").bf16


def _check_loads(path: Path) -> None:
    """Fail here, not on every question, if this llama.cpp cannot read the file (its vocabulary: a fraction of a second)."""
    from llama_cpp import Llama

    from medo1.llm.llamacpp import _STREAMS_LOCK

    with _STREAMS_LOCK:
        Llama(model_path=str(path), vocab_only=True, verbose=False).close()


def eval_model_spec(spec: str, backend: str = "auto", outtype: str = "f16") -> str:
    """The model spec an evaluation loads for `spec`.

    backend "hf": `spec` as it is. "gguf": a checkpoint directory (`hf:<dir>`) runs on llama.cpp from
    its cached GGUF conversion (an error if it cannot be converted). "auto" (the default): "gguf" on a
    CPU without native bf16, where llama.cpp decodes several times faster than transformers in fp32
    (`_llamacpp_is_faster`); a checkpoint that cannot be converted stays on transformers, said in one
    logged line. Other specs
    (embedded, gguf:, openai:, hub repo ids) are returned unchanged."""
    from medo1.llm.base import ModelSpec

    if backend not in BACKENDS:
        raise Medo1Error(f"eval backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    parsed = ModelSpec.parse(spec)
    if parsed.kind != "hf" or backend == "hf" or (backend == "auto" and not _llamacpp_is_faster()):
        return spec
    directory = Path(parsed.model).expanduser()
    if not directory.is_dir():
        if backend == "gguf":
            raise ExportError(f"{spec}: the gguf eval backend needs a local checkpoint directory")
        return spec  # a hub repo id: transformers downloads and runs it
    try:
        path = cached_gguf(directory, outtype)
        _check_loads(path)
        return f"gguf:{path}"
    except Exception as err:  # noqa: BLE001 - any failure of the conversion leaves the slower, working path
        if backend == "gguf":
            raise ExportError(f"{spec}: cannot convert to GGUF: {err}") from None
        log.warning("eval: %s is evaluated with transformers (hf), not llama.cpp: GGUF conversion failed: %s",
                    spec, str(err).splitlines()[0] if str(err) else type(err).__name__)
        return spec
