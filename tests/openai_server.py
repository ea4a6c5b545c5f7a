"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It serves `POST /v1/chat/completions` and `GET /v1/models` (plus `GET /_stats`) with
aiohttp on an ephemeral port. Every reply is decided by a *handler* you write:

    handler(request_json: dict, headers: dict) -> Reply | str

`request_json` is the request body as sent by the client (`model`, `messages`,
`max_tokens`, `temperature`, `seed`, `response_format`, ...); `headers` has lower-case
names (`x-medo1-tag`, `authorization`, ...). Return a plain string for a normal answer,
or a `Reply` for anything else:

    Reply(text="", status=200, latency=0.0, retry_after=None, drop=False,
          malformed=False, error_message=None, finish_reason="stop", usage=None)

    text            the assistant message content (status 200)
    status          HTTP status; >= 400 sends an OpenAI-style error body
    latency         seconds to wait before replying (a slow model, or a timeout)
    retry_after     `Retry-After` header: seconds (number) or an HTTP date (str)
    drop            close the connection without sending any response
    malformed       send status 200 with a truncated, unparseable JSON body
    error_message   the `error.message` of an error reply
    finish_reason   "stop", "length", ...
    usage           {"prompt_tokens": p, "completion_tokens": c}; default: word counts
    retry_after_ms  `retry-after-ms` header, in milliseconds
    headers         extra response headers (dict)
    raw             send exactly this body (JSON content type, `status`) instead of a completion

The handler may also be `async`. If it raises, the server answers 500 with the
exception text and keeps it in `server.errors`. Helpers make scripting short:

    replies(["a", Reply(status=429, retry_after=0.1), "b"])   # a queue, in order
    by_last_user(lambda text: "B" if "fever" in text else "A")  # a function of the prompt
    by_tag({"verify": judge, "search.init": teacher}, default=echo)  # route by X-Medo1-Tag
    fixed("ok", latency=0.1)                                   # the same reply every time

Examples: a judge that answers True when the prompt holds the reference answer B,

    def judge(body, headers):
        prompt = last_user_message(body)
        return "True" if "Answer: B" in prompt else "False"

and a teacher that answers the search-stage JSON:

    teacher = by_last_user(lambda text: json.dumps({"CoT": [...]}))

Use it (a) in a background thread, as a context manager or the `openai_server`
pytest fixture (tests/conftest.py), where every request is recorded:

    with OpenAIServer(handler) as server:
        model = load_model(f"openai:test-model@{server.url}", cache=False)
        ...
        assert server.tags() == ["verify"] and server.max_in_flight <= 8

The thread server exposes `url` (ends in /v1), `handler` (replaceable at any time),
`script(*replies)` (sets a queue), `requests` (each a `Request` with `.json`, `.headers`,
`.time`, `.tag`), `count`, `max_in_flight`, `errors` and `reset()`.

or (b) in a separate process (`OpenAIServerProcess`, same arguments, the handler must
be picklable, e.g. `fixed(...)`), so a benchmark's client does not share its GIL; the
counters are then read over HTTP with `.stats()`.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import multiprocessing
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from aiohttp import web

__all__ = [
    "Reply",
    "Request",
    "OpenAIServer",
    "OpenAIServerProcess",
    "replies",
    "by_last_user",
    "by_tag",
    "fixed",
    "echo",
    "last_user_message",
]


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    latency: float = 0.0
    retry_after: float | str | None = None
    drop: bool = False
    malformed: bool = False
    error_message: str | None = None
    finish_reason: str = "stop"
    usage: dict[str, int] | None = None
    retry_after_ms: float | None = None
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    raw: str | None = None  # send exactly this body (with `status`) instead of a chat completion


@dataclass
class Request:
    """One request as the server saw it."""

    json: dict[str, Any]
    headers: dict[str, str]  # lower-case names
    time: float  # time.monotonic() at arrival

    @property
    def tag(self) -> str | None:
        return self.headers.get("x-medo1-tag")


Handler = Callable[[dict, dict], "Reply | str"]


# ---------------------------------------------------------------- handler helpers


def last_user_message(body: dict) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def echo(body: dict, headers: dict) -> str:
    """Answers with the last user message."""
    return last_user_message(body)


class fixed:
    """The same reply to every request (picklable, so it also works in a server process)."""

    def __init__(self, reply: Reply | str = "ok", *, latency: float = 0.0):
        reply = Reply(text=reply) if isinstance(reply, str) else reply
        self.reply = replace(reply, latency=latency) if latency else reply

    def __call__(self, body: dict, headers: dict) -> Reply:
        return self.reply


class replies:
    """A queue of replies, one per request, in order; then `default` (a handler) or a 500."""

    def __init__(self, items: Iterable[Reply | str], *, default: Handler | None = None):
        self.items = deque(items)
        self.default = default
        self._lock = threading.Lock()

    def __call__(self, body: dict, headers: dict) -> Reply | str:
        with self._lock:
            if self.items:
                return self.items.popleft()
        if self.default is not None:
            return self.default(body, headers)
        return Reply(status=500, error_message="test server: the scripted reply queue is empty")

    def __len__(self) -> int:
        return len(self.items)


def by_last_user(fn: Callable[[str], Reply | str]) -> Handler:
    """A handler from a function of the last user message."""
    return lambda body, headers: fn(last_user_message(body))


def by_tag(routes: dict[str, Handler], *, default: Handler | None = None) -> Handler:
    """Routes each request by its `X-Medo1-Tag` header (the call kind: `verify`, `search.init`, ...)."""

    def handler(body: dict, headers: dict) -> Reply | str:
        route = routes.get(headers.get("x-medo1-tag", ""), default)
        if route is None:
            return Reply(status=500, error_message=f"test server: no route for tag {headers.get('x-medo1-tag')!r}")
        return route(body, headers)

    return handler


# ---------------------------------------------------------------- the aiohttp app


class _App:
    """The request handling shared by the thread and the process server."""

    def __init__(self, handler: Handler | None, models: Iterable[str], record: bool):
        self.handler = handler or echo
        self.models = list(models)
        self.record = record
        self.requests: list[Request] = []
        self.errors: list[str] = []
        self.count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count()

    def reset(self) -> None:
        self.requests.clear()
        self.errors.clear()
        self.count = self.max_in_flight = 0

    def build(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_get("/_stats", self.stats)
        return app

    async def list_models(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "medo1-test"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.count, "max_in_flight": self.max_in_flight,
                                  "in_flight": self.in_flight, "cpu_seconds": time.process_time()})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        self.count += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "request body is not valid JSON")
            headers = {k.lower(): v for k, v in request.headers.items()}
            if self.record:
                self.requests.append(Request(body, headers, time.monotonic()))
            try:
                reply = self.handler(body, headers)
                if inspect.isawaitable(reply):
                    reply = await reply
            except Exception as e:  # a broken script shows up as a 500 and in server.errors
                self.errors.append(f"{type(e).__name__}: {e}")
                return _error(500, f"test server handler failed: {type(e).__name__}: {e}")
            if isinstance(reply, str):
                reply = Reply(text=reply)
            if reply.latency:
                await asyncio.sleep(reply.latency)
            return self._respond(request, body, reply)
        finally:
            self.in_flight -= 1

    def _respond(self, request: web.Request, body: dict, reply: Reply) -> web.StreamResponse:
        if reply.drop:
            # Reset the connection: the client gets no status line at all.
            request.transport.abort()
            raise asyncio.CancelledError
        headers = dict(reply.headers)
        if reply.retry_after is not None:
            headers["Retry-After"] = str(reply.retry_after)
        if reply.retry_after_ms is not None:
            headers["retry-after-ms"] = str(reply.retry_after_ms)
        if reply.raw is not None:
            return web.Response(status=reply.status, text=reply.raw, headers=headers, content_type="application/json")
        if reply.malformed:
            return web.Response(
                status=200, text='{"id": "chatcmpl-broken", "choices": [{"index": 0, "mess', headers=headers,
                content_type="application/json",
            )
        if reply.status >= 400:
            return _error(reply.status, reply.error_message or f"test server error {reply.status}", headers)
        usage = reply.usage or {
            "prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or []),
            "completion_tokens": len(reply.text.split()),
        }
        usage = {**usage, "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)}
        payload = {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": usage,
        }
        return web.Response(status=reply.status, text=json.dumps(payload), headers=headers,
                            content_type="application/json")


def _error(status: int, message: str, headers: dict | None = None) -> web.Response:
    kind = "rate_limit_error" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
    payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.Response(status=status, text=json.dumps(payload), headers=headers, content_type="application/json")


async def _start_site(app: _App, host: str, port: int) -> tuple[web.AppRunner, int]:
    # No access log: it would cost more than the rest of a request.
    runner = web.AppRunner(app.build(), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    return runner, runner.addresses[0][1]


# ---------------------------------------------------------------- (a) in a background thread


class OpenAIServer:
    """The server in a background thread with its own event loop. Use as a context manager.

    Attributes for tests: `url` (the base URL, ending in /v1), `requests` (every Request),
    `max_in_flight`, `errors` (handler exceptions); `handler` may be replaced at any time.
    """

    def __init__(self, handler: Handler | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = ("test-model",), record: bool = True):
        self._app = _App(handler, models, record)
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # --- scripting and inspection
    @property
    def handler(self) -> Handler:
        return self._app.handler

    @handler.setter
    def handler(self, handler: Handler) -> None:
        self._app.handler = handler

    def script(self, *items: Reply | str, default: Handler | None = None) -> replies:
        """Replace the handler by a queue of replies; returns the queue."""
        queue = replies(items, default=default)
        self._app.handler = queue
        return queue

    @property
    def requests(self) -> list[Request]:
        return self._app.requests

    @property
    def errors(self) -> list[str]:
        return self._app.errors

    @property
    def max_in_flight(self) -> int:
        return self._app.max_in_flight

    @property
    def count(self) -> int:
        return self._app.count

    def tags(self) -> list[str | None]:
        return [r.tag for r in self._app.requests]

    def reset(self) -> None:
        """Forget recorded requests, errors and the in-flight maximum."""
        self._app.reset()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # --- lifecycle
    def start(self) -> "OpenAIServer":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="openai-test-server", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(_start_site(self._app, self.host, self.port), self._loop)
        self._runner, self.port = future.result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._runner = None

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Handlers still sleeping (slow replies the client gave up on) end here, quietly.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> "OpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- (b) in a separate process


def _serve_forever(handler, host, port, models, conn) -> None:
    async def main():
        app = _App(handler, models, record=False)
        runner, bound = await _start_site(app, host, port)
        conn.send(bound)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


class OpenAIServerProcess:
    """The server in its own process (spawned), so its CPU work does not share the caller's GIL.

    Scripts that start it need the usual `if __name__ == "__main__":` guard (multiprocessing
    spawn re-imports the main module). The handler must be picklable (a module-level function or e.g. `fixed(...)`). Requests
    are not recorded; `stats()` returns {"requests", "max_in_flight", "in_flight", "cpu_seconds"}.
    """

    def __init__(self, handler: Handler | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = ("test-model",)):
        self.handler, self.host, self.port, self.models = handler, host, port, list(models)
        self._process: multiprocessing.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "OpenAIServerProcess":
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_serve_forever, args=(self.handler, self.host, self.port, self.models, child), daemon=True
        )
        self._process.start()
        deadline = time.monotonic() + 60
        while not parent.poll(0.05):
            if not self._process.is_alive() or time.monotonic() > deadline:
                code = self._process.exitcode
                self.stop()
                raise RuntimeError(f"test server process failed to start (exit code {code})")
        self.port = parent.recv()
        return self

    def stats(self) -> dict[str, int]:
        import urllib.request

        with urllib.request.urlopen(f"http://{self.host}:{self.port}/_stats", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process = None

    def __enter__(self) -> "OpenAIServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
