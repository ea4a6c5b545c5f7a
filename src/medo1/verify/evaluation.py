"""`medo1 verifier-eval`: agreement of a verifier with human labels."""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from pydantic import Field, field_validator

from medo1.errors import ModelError
from medo1.records import Record
from medo1.verify.base import Verifier

_TRUE = {"true", "1", "yes", "correct", "y", "t"}
_FALSE = {"false", "0", "no", "incorrect", "wrong", "n", "f"}


class LabeledVerdict(Record):
    """A human judgement: is `response` a correct answer given `reference`?"""

    id: str | None = None
    response: str
    reference: str
    label: bool
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("expected true/false (or 1/0, correct/incorrect)")


@dataclass
class VerifierReport:
    verifier: str
    n: int = 0
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    errors: int = 0  # items where the verifier reached no verdict
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        judged = self.tp + self.fp + self.tn + self.fn
        return (self.tp + self.tn) / judged if judged else math.nan

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else math.nan

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(accuracy=self.accuracy, precision=self.precision, recall=self.recall, f1=self.f1)
        return out


async def evaluate_verifier(verifier: Verifier, items: Iterable[LabeledVerdict], *,
                            concurrency: int = 32) -> VerifierReport:
    """Agreement of a verifier with human labels: accuracy, precision, recall, confusion matrix."""
    items = list(items)
    report = VerifierReport(verifier=verifier.name, n=len(items))
    slots = asyncio.Semaphore(concurrency)

    async def judge(index: int, item: LabeledVerdict) -> None:
        async with slots:
            try:
                said = await verifier.verify(item.response, item.reference)
            except ModelError as err:
                report.errors += 1
                report.mistakes.append({"index": index, "id": item.id, "label": item.label, "error": str(err)})
                return
        if said and item.label:
            report.tp += 1
        elif said:
            report.fp += 1
        elif item.label:
            report.fn += 1
        else:
            report.tn += 1
        if said != item.label:
            report.mistakes.append({"index": index, "id": item.id, "label": item.label, "verdict": said,
                                    "response": item.response, "reference": item.reference})

    await asyncio.gather(*(judge(i, item) for i, item in enumerate(items)))
    report.mistakes.sort(key=lambda m: m["index"])
    return report


def evaluate_verifier_file(
    labeled: str | os.PathLike,
    spec: str = "match",
    *,
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    threshold: float = 0.5,
    lang: str = "en",
    prompts: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> VerifierReport:
    """`medo1 verifier-eval`: read labelled verdicts, run the verifier, optionally write the report as JSON."""
    import json
    from pathlib import Path

    from medo1.records import read_jsonl
    from medo1.verify import load_verifier, verifier_model

    items = read_jsonl(labeled, LabeledVerdict)
    verifier = load_verifier(spec, concurrency=concurrency, cache=cache, lang=lang, prompts=prompts,
                             threshold=threshold)

    async def main() -> VerifierReport:
        try:
            return await evaluate_verifier(verifier, items, concurrency=concurrency)
        finally:
            model = verifier_model(verifier)
            if model is not None:
                await model.aclose()

    report = asyncio.run(main())
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    return report
