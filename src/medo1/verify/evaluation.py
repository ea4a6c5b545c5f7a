"""Agreement of a verifier with human labels: the confusion matrix and the figures read from it
(accuracy, precision, recall, F1, Cohen's kappa), per `kind` too, and the verifier's throughput.
Rows whose id starts with one of `HELD_OUT` (written after the rules, never tuned on) are also counted apart,
and the kinds of the bundled set (`medo1.data.VERIFIER_LABELS`) are summed into the groups that
matter for an RL reward (`GROUPS`). Running it from files, several verifiers side by side and judge
costs: `medo1.verify.compare`."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import Field, field_validator

from medo1.errors import ModelError
from medo1.records import Record
from medo1.verify.base import Verifier

# The kinds of the bundled labelled set, summed into what an RL reward must get right: answer shapes
# that do not commit to one answer, near misses (every row of both is wrong: how many are accepted),
# and correct answers, short or long free text (how many are recalled).
GROUPS = {
    "uncommitted": ("list", "zh_list", "chain", "zh_chain", "question", "zh_question", "hedge", "hedge_word",
                    "zh_hedge", "negation", "zh_negation", "rejection", "strikethrough", "yes_no", "no_answer",
                    "long_uncommitted"),
    "near miss": ("near_miss", "direction", "entity", "mention", "wrong"),
    "short correct": ("correct", "paraphrase", "synonym", "differential", "committed", "zh_correct"),
    "long correct": ("long_commit",),
}
# id prefixes of the rows written after the current rules (earlier rounds were tuned on)
HELD_OUT = ("held11", "held21", "held22", "held24", "held26", "held28", "held30", "held32", "held34",
            "held36", "held38", "held40", "held42", "held44", "held46", "held48", "held50", "held52",
            "held54", "held56", "held58", "held60", "held62", "held64", "held66", "held68", "held70",
            "held72", "held74", "held76", "held78", "held80", "held82", "held84", "held86", "held88", "held90",
            "held92", "held94", "held96", "held98", "held100", "held102", "held104", "held106")
_TRUE = {"true", "1", "yes", "correct", "y", "t"}
_FALSE = {"false", "0", "no", "incorrect", "wrong", "n", "f"}


class LabeledVerdict(Record):
    """A human judgement: is `response` a correct answer given `reference`?

    `kind` names the case the row tests (e.g. hedge, rejection, near_miss, synonym); when a
    file has it, `medo1 verifier-eval` also reports the figures per kind.
    """

    id: str | None = None
    response: str
    reference: str
    label: bool
    kind: str | None = None
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
class Agreement:
    """A confusion matrix of verdicts against labels, and the figures read from it."""

    n: int = 0
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    errors: int = 0  # items where the verifier reached no verdict

    @property
    def judged(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.judged if self.judged else math.nan

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

    @property
    def kappa(self) -> float:
        """Cohen's kappa: agreement with the labels beyond what chance agreement at the same rates gives."""
        n = self.judged
        if not n:
            return math.nan
        chance = ((self.tp + self.fp) * (self.tp + self.fn) + (self.fn + self.tn) * (self.fp + self.tn)) / n ** 2
        return (self.accuracy - chance) / (1 - chance) if chance < 1 else math.nan

    @property
    def accept_rate(self) -> float:
        """How often the verifier said True (for a kind whose rows are all wrong: how often it was fooled)."""
        return (self.tp + self.fp) / self.judged if self.judged else math.nan

    def __add__(self, other: Agreement) -> Agreement:
        return Agreement(*(getattr(self, f) + getattr(other, f) for f in ("n", "tp", "fp", "tn", "fn", "errors")))

    def __sub__(self, other: Agreement) -> Agreement:
        return Agreement(*(getattr(self, f) - getattr(other, f) for f in ("n", "tp", "fp", "tn", "fn", "errors")))

    def add(self, said: bool, label: bool) -> None:
        if said and label:
            self.tp += 1
        elif said:
            self.fp += 1
        elif label:
            self.fn += 1
        else:
            self.tn += 1

    def figures(self) -> dict[str, Any]:
        return {"n": self.n, "tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn, "errors": self.errors,
                "accuracy": self.accuracy, "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "kappa": self.kappa, "accept_rate": self.accept_rate}


@dataclass
class VerifierReport(Agreement):
    verifier: str = ""
    by_kind: dict[str, Agreement] = field(default_factory=dict)  # empty when no row has a kind
    heldout_by_kind: dict[str, Agreement] = field(default_factory=dict)  # the rows whose id starts with HELD_OUT
    mistakes: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # wall time of all verdicts (concurrent calls overlap)
    cost_per_1k: float | None = None  # USD per 1,000 verdicts (judges with a price), else None
    cache_hits: int = 0  # judge calls the request cache answered (they make throughput look better)
    threshold: float | None = None  # a classifier's (alone or as a part of a join): the one it used

    @property
    def verdicts_per_second(self) -> float:
        return self.judged / self.seconds if self.seconds > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {"verifier": self.verifier, **self.figures(), "seconds": self.seconds,
                "verdicts_per_second": self.verdicts_per_second, "cost_per_1k": self.cost_per_1k,
                "cache_hits": self.cache_hits, "threshold": self.threshold,
                "by_kind": {kind: counts.figures() for kind, counts in self.by_kind.items()},
                "heldout_by_kind": {kind: counts.figures() for kind, counts in self.heldout_by_kind.items()},
                "groups": {part: {name: counts.figures() for name, counts in groups.items()}
                           for part, groups in self.groups().items()},
                "mistakes": self.mistakes}

    def groups(self) -> dict[str, dict[str, Agreement]]:
        """The kinds of `GROUPS` summed, for the rows tuned on ("tuned") and the held-out rows ("held-out");
        only the groups whose kinds the file has."""
        held = self.heldout_by_kind
        tuned = {kind: counts - held[kind] if kind in held else counts for kind, counts in self.by_kind.items()}
        out: dict[str, dict[str, Agreement]] = {}
        for part, by_kind in (("tuned", tuned), ("held-out", held)):
            sums = {name: sum((by_kind[k] for k in kinds if k in by_kind), Agreement())
                    for name, kinds in GROUPS.items()}
            sums = {name: counts for name, counts in sums.items() if counts.n}
            if sums:
                out[part] = sums
        return out

    def lines(self) -> list[str]:
        """The report as `medo1 verifier-eval` prints it: figures, confusion matrix, a row per kind."""
        threshold = f", the classifier at P(correct) > {self.threshold:.4f}" if self.threshold is not None else ""
        out = [f"verifier {self.verifier} on {self.n} labelled items ({self.errors} without a verdict){threshold}",
               f"  accuracy {self.accuracy:.3f}  precision {self.precision:.3f}  recall {self.recall:.3f}"
               f"  f1 {self.f1:.3f}  kappa {self.kappa:.3f}",
               f"  {self.verdicts_per_second:.1f} verdicts/s"
               + (f" ({self.cache_hits} answered by the request cache)" if self.cache_hits else "")
               + (f"  ${self.cost_per_1k:.4f} per 1,000 verdicts" if self.cost_per_1k is not None else ""),
               "                 label True  label False",
               f"  said True      {self.tp:10d}  {self.fp:11d}",
               f"  said False     {self.fn:10d}  {self.tn:11d}"]
        if self.by_kind:
            width = max(len("kind"), *(len(kind) for kind in self.by_kind))
            out.append(f"  {'kind':<{width}}  {'n':>4}  accuracy  precision  accepted  errors")
            out += [_kind_row(kind, counts, width) for kind, counts in sorted(self.by_kind.items())]
        if self.heldout_by_kind:
            out.append(f"  held-out rows (ids {'…, '.join(HELD_OUT)}…, written after the rules):")
            out += [_kind_row(kind, counts, width) for kind, counts in sorted(self.heldout_by_kind.items())]
        return out + self.group_lines()

    def group_lines(self) -> list[str]:
        """The groups that matter for an RL reward, tuned-on rows and held-out rows apart."""
        parts = self.groups()
        if not parts:
            return []
        out = ["  " + " " * 14 + "".join(f"{part:>28}" for part in parts)]
        for name in GROUPS:
            cells = []
            for part in parts:
                counts = parts[part].get(name)
                if counts is None:
                    cells.append(f"{'-':>28}")
                elif name in ("uncommitted", "near miss"):
                    cells.append(f"{'accepted ' + _pct(counts.accept_rate) + f' of {counts.judged}':>28}")
                else:
                    cells.append(f"{'recall ' + _pct(counts.recall) + f' of {counts.judged}':>28}")
            out.append(f"  {name:<14}" + "".join(cells))
        precision = [sum(parts[part].values(), Agreement()).precision for part in parts]
        out.append(f"  {'precision':<14}" + "".join(f"{_pct(p):>28}" for p in precision))
        if self.verifier == "match":
            out.append("  match decides by rules: a correct answer it cannot read (long free text, other words, "
                       "another language) counts as wrong; where such answers decide the reward, use a judge or a "
                       "trained classifier")
        return out


def _kind_row(kind: str, counts: Agreement, width: int) -> str:
    figures = [f"{x:.3f}" if x == x else "-"  # NaN: undefined (no row said True)
               for x in (counts.accuracy, counts.precision, counts.accept_rate)]
    return (f"  {kind:<{width}}  {counts.n:4d}  {figures[0]:>8}  {figures[1]:>9}  {figures[2]:>8}"
            f"  {counts.errors:6d}")


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}%"


async def evaluate_verifier(verifier: Verifier, items: Iterable[LabeledVerdict], *,
                            concurrency: int = 32) -> VerifierReport:
    """Agreement of a verifier with human labels: accuracy, precision, recall, confusion matrix,
    overall and per `kind` (rows without a kind are counted as kind "-" when others have one)."""
    items = list(items)
    report = VerifierReport(verifier=verifier.name, n=len(items))
    if any(item.kind for item in items):
        for item in items:
            report.by_kind.setdefault(item.kind or "-", Agreement()).n += 1
            if (item.id or "").startswith(HELD_OUT):
                report.heldout_by_kind.setdefault(item.kind or "-", Agreement()).n += 1
    slots = asyncio.Semaphore(concurrency)

    async def judge(index: int, item: LabeledVerdict) -> None:
        kind = report.by_kind.get(item.kind or "-")
        held = report.heldout_by_kind.get(item.kind or "-") if (item.id or "").startswith(HELD_OUT) else None
        async with slots:
            try:
                said = await verifier.verify(item.response, item.reference)
            except Exception as err:  # one row never ends the run: counted as an error, with its reason
                for counts in (report, kind, held):
                    if counts is not None:
                        counts.errors += 1
                reason = str(err) if isinstance(err, ModelError) else f"{type(err).__name__}: {err}"
                report.mistakes.append({"index": index, "id": item.id, "kind": item.kind, "label": item.label,
                                        "error": reason})
                return
        for counts in (report, kind, held):
            if counts is not None:
                counts.add(said, item.label)
        if said != item.label:
            report.mistakes.append({"index": index, "id": item.id, "kind": item.kind, "label": item.label,
                                    "verdict": said, "response": item.response, "reference": item.reference})

    started = time.perf_counter()
    await asyncio.gather(*(judge(i, item) for i, item in enumerate(items)))
    report.seconds = time.perf_counter() - started
    report.mistakes.sort(key=lambda m: m["index"])
    return report


def _no_nan(value: Any) -> Any:
    """An undefined figure (precision with no positive verdict) as null: the report stays valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value

