"""The one contract every model backend implements, usage accounting, and model specs.

    completion = await model.chat(messages, max_tokens=512, temperature=0.0,
                                  seed=None, json_schema=None, tag="search.init")

Model specs (one string everywhere):
    embedded                      the bundled SmolLM2-135M-Instruct GGUF (llama.cpp)
    gguf:<path>                   any local GGUF file (llama.cpp)
    hf:<path-or-repo>             a transformers checkpoint (dynamic batching)
    openai:<model>                the OpenAI API (env OPENAI_API_KEY, optional OPENAI_BASE_URL)
    openai:<model>@<base_url>     any OpenAI-compatible server (DeepSeek, vLLM, SGLang, ...)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from medo1.errors import Medo1Error
from medo1.records import Usage

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"  # "stop" | "length" | whatever the backend reports
    cached: bool = False


@runtime_checkable
class ChatModel(Protocol):
    """An async chat model. Backends: llm/openai.py, llm/llamacpp.py, llm/hf.py."""

    name: str  # the model spec it was made from
    meter: "UsageMeter"

    async def chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
        json_schema: dict | None = None,
        tag: str = "chat",
    ) -> Completion: ...

    def identity(self) -> dict[str, Any]:
        """What makes this model's answers what they are (backend, base URL, model): part of the cache key."""
        ...

    async def aclose(self) -> None: ...


# ---------------------------------------------------------------- usage accounting


@dataclass
class TagUsage:
    calls: int = 0  # requests that reached the model and returned
    errors: int = 0  # failed attempts (each retry counts)
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # summed wall time of successful calls


class UsageMeter:
    """Calls, errors, cache hits and tokens per call tag (`search.init`, `verify`, ...)."""

    def __init__(self) -> None:
        self.by_tag: dict[str, TagUsage] = {}

    def _get(self, tag: str) -> TagUsage:
        return self.by_tag.setdefault(tag, TagUsage())

    def record(self, tag: str, usage: Usage, seconds: float = 0.0) -> None:
        t = self._get(tag)
        t.calls += 1
        t.prompt_tokens += usage.prompt_tokens
        t.completion_tokens += usage.completion_tokens
        t.seconds += seconds

    def error(self, tag: str) -> None:
        self._get(tag).errors += 1

    def hit(self, tag: str) -> None:
        self._get(tag).cache_hits += 1

    def total(self) -> TagUsage:
        out = TagUsage()
        for t in self.by_tag.values():
            for k, v in asdict(t).items():
                setattr(out, k, getattr(out, k) + v)
        return out

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {tag: asdict(t) for tag, t in sorted(self.by_tag.items())}

    def merge(self, other: "UsageMeter") -> None:
        for tag, t in other.by_tag.items():
            mine = self._get(tag)
            for k, v in asdict(t).items():
                setattr(mine, k, getattr(mine, k) + v)


class Timer:
    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


# ---------------------------------------------------------------- model specs


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # "embedded" | "gguf" | "hf" | "openai"
    model: str  # path, repo id or API model name
    base_url: str | None = None

    @classmethod
    def parse(cls, spec: str) -> "ModelSpec":
        spec = (spec or "").strip()
        if spec == "embedded":
            return cls("embedded", "SmolLM2-135M-Instruct")
        kind, sep, rest = spec.partition(":")
        if not sep or not rest:
            raise Medo1Error(
                f"model spec {spec!r}: expected 'embedded', 'openai:<model>[@<base_url>]', "
                "'hf:<path-or-repo>' or 'gguf:<path>'"
            )
        if kind == "openai":
            model, at, base_url = rest.partition("@")
            if not model or (at and not base_url):
                raise Medo1Error(f"model spec {spec!r}: expected 'openai:<model>' or 'openai:<model>@<base_url>'")
            return cls("openai", model, base_url or None)
        if kind in ("hf", "gguf"):
            return cls(kind, rest)
        raise Medo1Error(f"model spec {spec!r}: unknown backend {kind!r} (use embedded, openai, hf or gguf)")

    def __str__(self) -> str:
        if self.kind == "embedded":
            return "embedded"
        if self.kind == "openai" and self.base_url:
            return f"openai:{self.model}@{self.base_url}"
        return f"{self.kind}:{self.model}"
