"""A sqlite request cache: the same request to the same model is answered from disk.

The key is a hash of the backend identity (backend, base URL, model), the messages,
every sampling parameter, the seed and the JSON schema. Errors are never cached, and
sampled requests without a seed are not cached either (each call must be a new sample).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from medo1.llm.base import ChatModel, Completion, Message
from medo1.records import Usage


def default_cache_path() -> Path:
    return Path(os.environ.get("MEDO1_HOME", Path.home() / ".cache" / "medo1")) / "requests.sqlite"


def request_key(identity: dict[str, Any], messages: list[Message], params: dict[str, Any]) -> str:
    blob = json.dumps([identity, messages, params], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT, finish_reason TEXT, "
            "prompt_tokens INTEGER, completion_tokens INTEGER)"
        )

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT text, finish_reason, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        text, finish_reason, pt, ct = row
        return Completion(text, Usage(prompt_tokens=pt, completion_tokens=ct), finish_reason, cached=True)

    def put(self, key: str, completion: Completion) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                (key, completion.text, completion.finish_reason, completion.usage.prompt_tokens,
                 completion.usage.completion_tokens),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedChatModel:
    """Wraps any ChatModel; answers repeated requests from a ResponseCache."""

    def __init__(self, inner: ChatModel, cache: ResponseCache):
        self.inner, self.cache = inner, cache
        self.name, self.meter = inner.name, inner.meter

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    async def chat(self, messages, *, max_tokens=1024, temperature=0.0, seed=None, json_schema=None, tag="chat"):
        params = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed, "json_schema": json_schema}
        cacheable = temperature == 0 or seed is not None
        key = request_key(self.identity(), messages, params) if cacheable else None
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.meter.hit(tag)
                return hit
        completion = await self.inner.chat(
            messages, max_tokens=max_tokens, temperature=temperature, seed=seed, json_schema=json_schema, tag=tag
        )
        if key is not None:
            self.cache.put(key, completion)
        return completion

    async def aclose(self) -> None:
        await self.inner.aclose()
