"""OpenAI-compatible chat backend (OpenAI, DeepSeek, vLLM, SGLang, ...) on the official `openai` client.

    model = OpenAIChatModel("gpt-4o", concurrency=32)                       # the OpenAI API
    model = OpenAIChatModel("Qwen2.5-7B", base_url="http://127.0.0.1:8000/v1")  # any compatible server
    completion = await model.chat(messages, max_tokens=512, tag="verify")

What it adds to `openai.AsyncOpenAI`:
- at most `concurrency` requests in flight (a semaphore), over a connection pool of that size;
- its own retries (the SDK's are off): exponential backoff with full jitter on 429, 408, 5xx,
  connection errors, timeouts and unparseable bodies, honouring `Retry-After` /
  `retry-after-ms`; any other 4xx fails at once with a one-line ModelError;
- usage per call tag in a UsageMeter, and the tag sent as header `X-Medo1-Tag`;
- the API key never appears in a message, log line or repr.

The hot path is lean on purpose (a benchmark drives ~640 requests/s through it on 2 cores):
the request goes through `client.post(..., cast_to=httpx2.Response)`, which skips the SDK's
per-call parameter transformation and response model building, over the SDK's aiohttp
transport, and the JSON reply is read directly.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import json
import logging
import math
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx2
import openai

from medo1.errors import Medo1Error, ModelError
from medo1.llm.base import Completion, Message, ModelSpec, UsageMeter
from medo1.records import Usage

log = logging.getLogger(__name__)

OFFICIAL_BASE_URL = "https://api.openai.com/v1"
# Sent to servers that need no key (a local vLLM/SGLang); the SDK refuses to run without one.
PLACEHOLDER_KEY = "EMPTY"
RETRYABLE_STATUS = {408, 429}  # plus every 5xx
# The SDK's telemetry headers: no server needs them, and header handling is a large share
# of the per-request CPU cost, so they are left out.
_NO_TELEMETRY = {
    name: openai.Omit()
    for name in ("X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch",
                 "X-Stainless-Runtime", "X-Stainless-Runtime-Version", "X-Stainless-Async",
                 "X-Stainless-Retry-Count", "X-Stainless-Read-Timeout")
}


@dataclass
class RetryPolicy:
    """How failed attempts are retried: exponential backoff with full jitter.

    Attempt n (0-based) sleeps uniform(0, min(max_delay, initial_delay * 2**n)) seconds, or
    exactly what the server asked for in `Retry-After` / `retry-after-ms` (capped at
    `max_retry_after`). Tests use tiny delays.
    """

    max_retries: int = 6  # retries after the first attempt
    initial_delay: float = 0.5  # seconds: the backoff before the first retry
    max_delay: float = 30.0  # seconds: the backoff never grows past this
    jitter: bool = True  # full jitter (uniform in [0, backoff]); False sleeps the backoff itself
    max_retry_after: float = 300.0  # seconds: the longest server-asked wait we honour

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.max_delay, self.initial_delay * 2**attempt)
        return random.uniform(0, backoff) if self.jitter else backoff


@dataclass
class _Failure:
    """One failed attempt: why, whether another try may fix it, and how long the server asked us to wait."""

    reason: str
    retryable: bool = True
    retry_after: float | None = None


class OpenAIChatModel:
    """A ChatModel on any OpenAI-compatible `/chat/completions` endpoint.

    Key: `api_key`, else env OPENAI_API_KEY (a server that needs none gets a placeholder).
    Base URL: `base_url`, else env OPENAI_BASE_URL, else the OpenAI API. `timeout` bounds
    each attempt; `retry` (or just `max_retries`) says how failed attempts are retried.
    Call `await model.aclose()` before the event loop it ran in ends.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 32,
        timeout: float = 600.0,
        max_retries: int = 6,
        retry: RetryPolicy | None = None,
        meter: UsageMeter | None = None,
    ):
        if concurrency < 1:
            raise Medo1Error(f"openai:{model}: concurrency must be at least 1, got {concurrency}")
        self.model = model
        self.name = str(ModelSpec("openai", model, base_url))
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or OFFICIAL_BASE_URL).rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY") or ""
        if not key and self.base_url == OFFICIAL_BASE_URL:
            raise Medo1Error(
                f"openai:{model}: no API key; set OPENAI_API_KEY, or use 'openai:{model}@<base_url>' "
                "for a server that needs none"
            )
        self._key = key or PLACEHOLDER_KEY
        self._secret = key  # what to redact from error text ("" when there is none)
        self.concurrency = concurrency
        self.timeout = timeout
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self.meter = meter or UsageMeter()
        # The client, its aiohttp session and the semaphore belong to one event loop; a call
        # from another loop (a second asyncio.run) gets fresh ones.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._slots: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"OpenAIChatModel(model={self.model!r}, base_url={self.base_url!r}, concurrency={self.concurrency})"

    def identity(self) -> dict[str, Any]:
        return {"backend": "openai", "base_url": self.base_url, "model": self.model}

    # ------------------------------------------------------------ client per event loop

    def _bind(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            limits = httpx2.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            self._client = openai.AsyncOpenAI(
                api_key=self._key,
                base_url=self.base_url,
                max_retries=0,  # ours are the only retries
                timeout=httpx2.Timeout(self.timeout, connect=min(self.timeout, 30.0)),
                http_client=openai.DefaultAioHttpClient(limits=limits),
            )
            self._slots = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        return self._client, self._slots

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.close()

    # ------------------------------------------------------------ the call

    async def chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
        json_schema: dict | None = None,
        tag: str = "chat",
    ) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if seed is not None:
            body["seed"] = seed
        if json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": _schema_name(json_schema), "schema": json_schema, "strict": True},
            }
        options = {"headers": {**_NO_TELEMETRY, "X-Medo1-Tag": tag}}
        client, slots = self._bind()
        async with slots:  # held through the backoff too: a struggling server gets no extra load
            for attempt in range(self.retry.max_retries + 1):
                start = time.perf_counter()
                outcome = await self._attempt(client, body, options)
                if isinstance(outcome, Completion):
                    self.meter.record(tag, outcome.usage, time.perf_counter() - start)
                    return outcome
                self.meter.error(tag)
                if not outcome.retryable:
                    raise self._error(tag, outcome.reason)
                if attempt < self.retry.max_retries:
                    wait = self.retry.delay(attempt, outcome.retry_after)
                    log.debug("%s", self._redact(f"{self.name} [{tag}]: {outcome.reason}; retry in {wait:.2f}s"))
                    await asyncio.sleep(wait)
        raise self._error(tag, f"failed {attempt + 1} times, last: {outcome.reason}")

    async def _attempt(self, client: openai.AsyncOpenAI, body: dict, options: dict) -> Completion | _Failure:
        """One HTTP request. Failures are returned, not raised, so the final error carries no
        exception context that could hold the key (e.g. a server echoing it in its error body)."""
        try:
            response = await client.post("/chat/completions", cast_to=httpx2.Response, body=body, options=options)
        except openai.APIStatusError as e:
            status = e.status_code
            retryable = status in RETRYABLE_STATUS or status >= 500
            return _Failure(f"HTTP {status}: {_server_message(e)}", retryable, _retry_after(e.response.headers))
        except openai.APIConnectionError as e:  # includes timeouts
            root = _root_cause(e)
            if isinstance(root, (TimeoutError, httpx2.TimeoutException)):
                return _Failure(f"no reply within {self.timeout:g}s")
            return _Failure(f"connection failed: {_describe(root)}")
        try:
            data = json.loads(response.content)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""  # None: e.g. a refusal
            if not isinstance(text, str):
                raise TypeError(f"content is {type(text).__name__}")
            usage = data.get("usage") or {}
            return Completion(
                text,
                Usage(prompt_tokens=usage.get("prompt_tokens") or 0,
                      completion_tokens=usage.get("completion_tokens") or 0),
                choice.get("finish_reason") or "stop",
            )
        except (ValueError, LookupError, TypeError, AttributeError) as e:
            return _Failure(f"unreadable response body ({_describe(e)})")

    # ------------------------------------------------------------ errors

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _error(self, tag: str, reason: str) -> ModelError:
        return ModelError(self._redact(f"{self.name} [{tag}]: {reason}"))


def _schema_name(schema: dict) -> str:
    """The `json_schema.name` OpenAI requires (^[a-zA-Z0-9_-]{1,64}$), from the schema's title."""
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", str(schema.get("title") or "response")).strip("_")
    return name[:64] or "response"


def _server_message(e: openai.APIStatusError) -> str:
    """The server's own error message, on one line."""
    body = e.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    else:
        message = body
    if not message:
        try:
            message = e.response.text
        except Exception:
            message = ""
    message = " ".join(str(message or e.response.reason_phrase or "").split())
    return message[:500] + ("..." if len(message) > 500 else "")


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if math.isfinite(seconds):
                return max(0.0, seconds)
    value = headers.get("retry-after")
    try:
        when = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # HTTP dates are always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _root_cause(e: BaseException) -> BaseException:
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def _describe(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split()) if str(e) else type(e).__name__
