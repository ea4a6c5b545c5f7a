"""The eval run's progress: one bar per benchmark with done / total, accuracy so far, items/s and ETA."""

from __future__ import annotations

import time
from typing import Any, Iterable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class EvalProgress:
    """`benches`: (name, run items, their StageOutput) for each benchmark; items already done start the bar."""

    def __init__(self, benches: Iterable[tuple[str, list, Any]], *, enabled: bool):
        self.benches = list(benches)
        self.enabled = enabled
        self.stats: dict[str, list[int]] = {name: [0, 0, 0] for name, _, _ in self.benches}  # correct, answered, done
        self.tasks: dict[str, Any] = {}
        self.bar: Progress | None = None
        self.start = time.perf_counter()

    def __enter__(self) -> "EvalProgress":
        if not self.enabled:
            return self
        self.bar = Progress(
            TextColumn("[bold]{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.bar.start()
        for name, items, out in self.benches:
            done = sum(1 for ri in items if out.done(ri.id))
            self.tasks[name] = self.bar.add_task(name, total=len(items), completed=done, stats="")
        self.start = time.perf_counter()
        return self

    def advance(self, bench: str, correct: bool | None) -> None:
        """One question finished: `correct` True / False, or None when its call failed."""
        stats = self.stats[bench]
        stats[2] += 1
        if correct is not None:
            stats[0] += int(correct)
            stats[1] += 1
        if self.bar is not None:
            rate = stats[2] / max(time.perf_counter() - self.start, 1e-9)  # this run's items, not resumed ones
            accuracy = f"acc {stats[0] / stats[1]:.3f}" if stats[1] else "acc -"
            self.bar.update(self.tasks[bench], advance=1, stats=f"{accuracy}  {rate:.2f} items/s")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
