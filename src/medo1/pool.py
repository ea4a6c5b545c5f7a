"""Running many items through models at once: one shared call pool, live progress, usage files.

A stage runs one asyncio task per item (a small state machine that makes its own model
calls). All tasks share a `CallPool`: at most `limit` model calls are in flight, and a
free slot goes to the waiting call of the item that has made the most calls so far (ties:
the earliest item). Items already under way therefore finish first and are written
early (a killed run loses little), long chains of calls are never stuck behind fresh
items (the run does not end in a long tail), the pool stays full, and no item waits for
a whole batch.

    pool = CallPool(64)
    teacher = pool.wrap(load_model(...))           # every chat() now takes a pool slot
    await run_items(problems, solve_one, window=256)  # solve_one(index, problem)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from medo1.llm.base import ChatModel, UsageMeter

T = TypeVar("T")



class ItemTurn:
    """The scheduling state of the item a task works on: its index and the calls it made."""

    __slots__ = ("index", "calls")

    def __init__(self, index: int):
        self.index, self.calls = index, 0

    def next_priority(self) -> tuple[int, int]:
        """Lower is served first: more calls made, then an earlier item."""
        self.calls += 1
        return (self.calls, self.index)


CURRENT_ITEM: contextvars.ContextVar[ItemTurn | None] = contextvars.ContextVar("medo1_item", default=None)


class CallPool:
    """At most `limit` calls in flight; waiting calls are served lowest priority first."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError("the call pool needs a limit of at least 1")
        self.limit = limit
        self.in_flight = 0
        self._waiting: list[tuple[Any, int, asyncio.Future]] = []
        self._order = itertools.count()

    async def acquire(self, priority: Any = (0, 0)) -> None:
        if self.in_flight < self.limit and not self._waiting:
            self.in_flight += 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed to us just before the cancel
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # hand the slot over; in_flight is unchanged
                return
        self.in_flight -= 1

    def wrap(self, model: ChatModel) -> "PooledModel":
        return PooledModel(model, self)


class PooledModel:
    """A ChatModel whose calls each take a slot of a shared CallPool."""

    def __init__(self, inner: ChatModel, pool: CallPool):
        self.inner, self.pool = inner, pool
        self.name, self.meter = inner.name, inner.meter

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    async def chat(self, messages, **kwargs):
        item = CURRENT_ITEM.get()
        await self.pool.acquire(item.next_priority() if item is not None else (0, 0))
        try:
            return await self.inner.chat(messages, **kwargs)
        finally:
            self.pool.release()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def run_items(
    items: Iterable[T], work: Callable[[int, T], Awaitable[None]], *, window: int
) -> None:
    """Run `work(index, item)` for every item, at most `window` at once, started in order.

    `work` handles its own expected failures (it records them); anything it raises is a
    bug: the other tasks are cancelled and the error propagates.
    """
    slots = asyncio.Semaphore(window)
    active: set[asyncio.Task] = set()
    errors: list[BaseException] = []

    async def one(index: int, item: T) -> None:
        CURRENT_ITEM.set(ItemTurn(index))
        await work(index, item)

    def finished(task: asyncio.Task) -> None:
        active.discard(task)
        slots.release()
        if not task.cancelled() and task.exception() is not None:
            errors.append(task.exception())

    try:
        for index, item in enumerate(items):
            await slots.acquire()
            if errors:
                break
            task = asyncio.create_task(one(index, item))
            active.add(task)
            task.add_done_callback(finished)
        while active and not errors:
            await asyncio.wait(set(active), return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in list(active):
            task.cancel()
        if active:
            await asyncio.gather(*active, return_exceptions=True)
    if errors:
        raise errors[0]


# ---------------------------------------------------------------- usage accounting per stage


def _unique_meters(models: Iterable[Any]) -> list[UsageMeter]:
    meters: dict[int, UsageMeter] = {}
    for model in models:
        meter = getattr(model, "meter", None)
        if meter is not None:
            meters[id(meter)] = meter
    return list(meters.values())


class StageUsage:
    """Calls and tokens that this stage's models spent, per tag, since it started.

    In-process models are shared between stages of one process, so this counts the
    difference from a snapshot rather than the meters' totals.
    """

    def __init__(self, models: Iterable[Any]):
        self.meters = _unique_meters(models)
        self._start = [m.as_dict() for m in self.meters]

    def by_tag(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for meter, start in zip(self.meters, self._start):
            for tag, now in meter.as_dict().items():
                before = start.get(tag, {})
                row = out.setdefault(tag, {k: 0 for k in now})
                for key, value in now.items():
                    row[key] += value - before.get(key, 0)
        return {tag: row for tag, row in sorted(out.items()) if any(row.values())}

    def totals(self) -> tuple[int, int]:
        """(calls, tokens) so far: the progress bar's figures."""
        calls = tokens = 0
        for meter, start in zip(self.meters, self._start):
            for tag, t in meter.by_tag.items():
                before = start.get(tag, {})
                calls += t.calls - before.get("calls", 0)
                tokens += (t.prompt_tokens + t.completion_tokens
                           - before.get("prompt_tokens", 0) - before.get("completion_tokens", 0))
        return calls, tokens

    @contextlib.contextmanager
    def recorded(self, out: str | os.PathLike, stage: str, summary: Any):
        """Write the usage file when the block ends, also when the run is killed or fails."""
        try:
            yield self
        finally:
            self.write(out, stage, **summary.as_dict())

    def write(self, out: str | os.PathLike, stage: str, **counts: Any) -> Path:
        """Add this run's usage to `<out>.usage.json` (a resumed run adds to the earlier one)."""
        path = usage_path(out)
        previous: dict[str, Any] = {}
        if path.exists():
            try:
                previous = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                previous = {}
        by_tag = previous.get("by_tag", {}) if previous.get("stage") == stage else {}
        for tag, row in self.by_tag().items():
            old = by_tag.setdefault(tag, {})
            for key, value in row.items():
                old[key] = round(old.get(key, 0) + value, 6)
        runs = previous.get("runs", 0) + 1 if previous.get("stage") == stage else 1
        total = {}
        for row in by_tag.values():
            for key, value in row.items():
                total[key] = round(total.get(key, 0) + value, 6)
        summary = {"stage": stage, "runs": runs, "by_tag": by_tag, "total": total, "last_run": counts}
        path.write_text(json.dumps(summary, indent=2) + "\n")
        return path


def usage_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.stem
    return out.with_name(f"{stem}.usage.json")


# ---------------------------------------------------------------- progress


class StageProgress:
    """A rich progress bar: done / total, named counters, calls/s, tokens and ETA.

    Counters are plain attributes updated by the stage (`progress.count("found")`);
    a ticker refreshes the call figures twice a second from the stage's usage.
    """

    def __init__(self, description: str, total: int, counters: Iterable[str], usage: StageUsage | None = None,
                 *, enabled: bool = True):
        self.description, self.total = description, total
        self.counts = {name: 0 for name in counters}
        self.usage = usage
        self.enabled = enabled
        self._progress = None
        self._task = None
        self._ticker: asyncio.Task | None = None
        self._start = time.perf_counter()

    def __enter__(self) -> "StageProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(bar_width=16), MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"), TextColumn("{task.fields[calls]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total, counts="", calls="")
            self._refresh()
            try:
                self._ticker = asyncio.get_running_loop().create_task(self._tick())
            except RuntimeError:
                self._ticker = None
        return self

    def count(self, name: str, n: int = 1, *, advance: bool = True) -> None:
        self.counts[name] = self.counts.get(name, 0) + n
        if self._progress is not None:
            if advance:
                self._progress.advance(self._task, n)
            self._refresh()

    def _refresh(self) -> None:
        counts = " ".join(f"{name} {value}" for name, value in self.counts.items())
        calls_text = ""
        if self.usage is not None:
            calls, tokens = self.usage.totals()
            rate = calls / max(time.perf_counter() - self._start, 1e-9)
            calls_text = f"{calls} calls {rate:.1f}/s {tokens:,} tok"
        self._progress.update(self._task, counts=counts, calls=calls_text)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self._refresh()

    def __exit__(self, *exc) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._progress is not None:
            self._refresh()
            self._progress.stop()
