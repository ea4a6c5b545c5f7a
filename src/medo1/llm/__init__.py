"""Model backends behind one async contract; `load_model(spec)` picks one by its spec."""

from __future__ import annotations

import os
from pathlib import Path

from medo1.llm.base import ChatModel, Completion, Message, ModelSpec, UsageMeter

__all__ = ["ChatModel", "Completion", "Message", "ModelSpec", "UsageMeter", "load_model"]

# In-process models are heavy: one instance per spec per process, shared by every stage.
_LOCAL_MODELS: dict[str, ChatModel] = {}


def load_model(
    spec: str,
    *,
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    timeout: float = 600.0,
    max_retries: int = 6,
) -> ChatModel:
    """A ChatModel for `spec`, wrapped in the request cache unless `cache=False`.

    `cache` may also be the path of the sqlite file (default: $MEDO1_HOME/requests.sqlite).
    `concurrency` bounds requests in flight (HTTP) or the batch size (hf).
    """
    parsed = ModelSpec.parse(spec)
    if parsed.kind == "openai":
        from medo1.llm.openai import OpenAIChatModel

        model: ChatModel = OpenAIChatModel(
            parsed.model, base_url=parsed.base_url, concurrency=concurrency, timeout=timeout, max_retries=max_retries
        )
    else:
        key = f"{parsed}|{concurrency}"
        if key not in _LOCAL_MODELS:
            _LOCAL_MODELS[key] = _load_local(parsed, concurrency)
        model = _LOCAL_MODELS[key]
    if cache is False:
        return model
    from medo1.llm.cache import CachedChatModel, ResponseCache

    return CachedChatModel(model, ResponseCache(None if cache is True else Path(cache)))


def _load_local(parsed: ModelSpec, concurrency: int) -> ChatModel:
    if parsed.kind in ("embedded", "gguf"):
        from medo1.llm.llamacpp import LlamaCppChatModel

        if parsed.kind == "embedded":
            from medo1.embedded import embedded_gguf_path

            return LlamaCppChatModel(embedded_gguf_path(), name="embedded")
        return LlamaCppChatModel(parsed.model, name=str(parsed))
    if parsed.kind == "hf":
        from medo1.llm.hf import HFChatModel

        return HFChatModel(parsed.model, max_batch_size=concurrency, name=str(parsed))
    raise AssertionError(parsed.kind)
