"""`medo1 verifier-data`: the training set of a verifier, from judge verdicts and human labels.

Inputs: run directories (their `verdicts.jsonl`, the judge verdict log of search and synthesis),
verdict-log files, and files of human labels (`response, reference, label`, as `verifier-eval`
reads). Output: one JSONL row per distinct (response, reference) pair,

    {"id", "response", "reference", "label", "source", "split": "train" | "calibration" | "test", ...}

- Deduplicated: the same pair logged twice (a resumed run) is one row. A human label wins over
  judge verdicts; judge verdicts that disagree on a pair are decided by majority, and a tie is
  dropped (counted as a conflict), never guessed.
- Three parts, seeded, whole reference answers to one part (verdicts on the same problem would
  otherwise leak between them): `train` (what the classifier learns from), `calibration` (early
  stopping and the decision threshold) and `test` (the figures reported, touched by nothing else),
  about `heldout` / 2 of the rows each, with both labels in each whenever the data has them. A
  threshold chosen and measured on the same rows meets its target by construction; on `test` it
  shows whether it holds.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from medo1.errors import Medo1Error
from medo1.jsonl import iter_json_values, parse_record
from medo1.records import Record
from medo1.verify.evaluation import LabeledVerdict
from medo1.verify.verdicts import public_name

VERDICT_LOG = "verdicts.jsonl"  # in a run directory
PARTS = ("train", "calibration", "test")


class LoggedVerdict(Record):
    """One line of the judge verdict log."""

    response: str
    reference: str
    verdict: bool
    source: str | None = None
    verifier: str | None = None
    time: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class VerifierExample(LabeledVerdict):
    """A row of `medo1 verifier-data` output: a labelled pair, where its label came from, its split."""

    source: str | None = None  # "human" or the judge that gave the verdict (e.g. judge:openai:gpt-4o)
    split: Literal["train", "calibration", "test"] | None = None


def pair_id(response: str, reference: str) -> str:
    return hashlib.sha256(f"{response.strip()}\x00{reference.strip()}".encode()).hexdigest()[:16]


@dataclass
class DataSummary:
    read: dict[str, int] = field(default_factory=dict)  # rows read per input file
    duplicates: int = 0  # rows that repeated a pair already read
    conflicts: int = 0  # pairs dropped: judge verdicts tied
    overruled: int = 0  # pairs whose judge verdicts a human label overruled
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # part -> {"true": n, "false": n}

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "duplicates": self.duplicates, "conflicts": self.conflicts,
                "overruled": self.overruled, "counts": self.counts}

    def lines(self) -> list[str]:
        out = [f"read {sum(self.read.values())} rows from {len(self.read)} files; {self.duplicates} duplicates, "
               f"{self.conflicts} pairs dropped for tied judge verdicts, {self.overruled} judge verdicts overruled "
               "by a human label"]
        for split in PARTS:
            c = self.counts.get(split, {"true": 0, "false": 0})
            n = c["true"] + c["false"]
            share = f"{100 * c['true'] / n:.1f}% correct" if n else "empty"
            out.append(f"  {split:<11} {n:6d} rows: {c['true']} correct, {c['false']} wrong ({share})")
        return out


def _inputs(paths: list[str | os.PathLike]) -> list[Path]:
    files = []
    for value in paths:
        path = Path(value)
        if path.is_dir():
            log = path / VERDICT_LOG
            if not log.is_file():
                raise Medo1Error(f"{path}: no {VERDICT_LOG} in this run directory (it records judge verdicts; a run "
                                 "whose verifier is `match` or a classifier has none)")
            files.append(log)
        elif path.is_file():
            files.append(path)
        else:
            raise Medo1Error(f"{path}: no such run directory or file")
    return files


def collect(sources: list[str | os.PathLike], labeled: list[str | os.PathLike] = (), *, heldout: float = 0.2,
            seed: int = 0) -> tuple[list[VerifierExample], DataSummary]:
    """Labelled pairs from verdict logs / run dirs (`sources`) and human-label files (`labeled`)."""
    if not 0.0 <= heldout < 1.0:
        raise Medo1Error(f"heldout must be in [0, 1), got {heldout}")
    summary = DataSummary()
    judged: dict[str, list[LoggedVerdict]] = defaultdict(list)
    human: dict[str, VerifierExample] = {}
    for path in _inputs(list(sources)):
        rows = 0
        for line, raw in iter_json_values(path):
            rows += 1
            is_log = isinstance(raw, dict) and "verdict" in raw and "label" not in raw
            if is_log:
                v = parse_record(LoggedVerdict, raw, path, line)
                judged[pair_id(v.response, v.reference)].append(v)
            else:
                _add_human(human, parse_record(LabeledVerdict, raw, path, line), summary)
        summary.read[str(path)] = rows
    for path in _inputs(list(labeled)):
        rows = 0
        for line, raw in iter_json_values(path):
            rows += 1
            _add_human(human, parse_record(LabeledVerdict, raw, path, line), summary)
        summary.read[str(path)] = rows
    examples = list(human.values())
    for key, verdicts in judged.items():
        summary.duplicates += len(verdicts) - 1
        if key in human:
            summary.overruled += any(v.verdict != human[key].label for v in verdicts)
            continue
        votes = Counter(v.verdict for v in verdicts)
        if votes[True] == votes[False]:
            summary.conflicts += 1
            continue
        first = verdicts[0]
        examples.append(VerifierExample(id=key, response=first.response, reference=first.reference,
                                        label=votes[True] > votes[False],
                                        source=public_name(first.verifier or "judge"),
                                        meta={"stage": first.source} if first.source else {}))
    examples.sort(key=lambda e: e.id)
    split_examples(examples, heldout, seed)
    for e in examples:
        c = summary.counts.setdefault(e.split, {"true": 0, "false": 0})
        c["true" if e.label else "false"] += 1
    return examples, summary


def _add_human(human: dict[str, VerifierExample], row: LabeledVerdict, summary: DataSummary) -> None:
    key = pair_id(row.response, row.reference)
    if key in human:
        summary.duplicates += 1
        if human[key].label != row.label:
            raise Medo1Error(f"human labels disagree on the pair {row.response[:40]!r} / {row.reference[:40]!r}")
        return
    meta = {**row.meta, **({"label_id": row.id} if row.id else {})}
    human[key] = VerifierExample(id=key, response=row.response, reference=row.reference, label=row.label,
                                 kind=row.kind, source="human", meta=meta)


def split_examples(examples: list[VerifierExample], heldout: float, seed: int) -> None:
    """Assign whole reference answers to train, calibration or test (seeded): about `heldout` / 2 of
    the rows to each held-out part, each with both labels when the data allows (a threshold needs
    both to be chosen, a test both to measure precision and recall), train keeping at least one
    reference."""
    groups: dict[str, list[VerifierExample]] = defaultdict(list)
    for e in examples:
        groups[" ".join(e.reference.lower().split())].append(e)
    free = sorted(groups)
    random.Random(seed).shuffle(free)
    target = round(heldout * len(examples) / 2)
    parts: dict[str, list[str]] = {"calibration": [], "test": []}
    for part in (parts if target else ()):
        size = 0
        while size < target and len(free) > 1:
            parts[part].append(free.pop(0))
            size += len(groups[parts[part][-1]])
        for label in (True, False):
            if not any(e.label == label for k in parts[part] for e in groups[k]):
                extra = next((k for k in free if any(e.label == label for e in groups[k])), None)
                if extra is not None and len(free) > 1:
                    free.remove(extra)
                    parts[part].append(extra)
    part_of = {k: part for part, keys in parts.items() for k in keys}
    for key, rows in groups.items():
        for e in rows:
            e.split = part_of.get(key, "train")


def write_examples(examples: list[VerifierExample], out: str | os.PathLike) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(e.model_dump_json(exclude_none=True) + "\n" for e in examples), encoding="utf-8")
    tmp.replace(out)


def verifier_data(sources: list[str | os.PathLike], out: str | os.PathLike, *,
                  labeled: list[str | os.PathLike] = (), heldout: float = 0.2, seed: int = 0) -> DataSummary:
    """`medo1 verifier-data`: collect, deduplicate, split into train / calibration / test, write `out`."""
    if not sources and not labeled:
        raise Medo1Error("verifier-data: give at least one run directory, verdict log or --labeled file")
    examples, summary = collect(sources, labeled, heldout=heldout, seed=seed)
    if not examples:
        raise Medo1Error("verifier-data: no labelled pairs in the inputs")
    write_examples(examples, out)
    return summary
