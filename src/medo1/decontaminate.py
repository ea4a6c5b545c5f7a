"""Drop training items that overlap an evaluation set (the Med-PaLM 2 rule).

An item is contaminated when it shares any span of 64 consecutive characters with any
item of the evaluation files, after lower-casing and collapsing white space. All text
fields of a record take part (question, options, context, reasoning, ...), joined in
field order; ids and reasons do not. Works on any JSONL/JSON records: MCQs, problems,
traces or SFT examples; kept records are written unchanged.

Every 64-character window of the evaluation text is hashed into one sorted array, so
a large input is checked with a binary search per window and little memory; a hit is
confirmed on the actual text before an item is dropped.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from medo1.errors import Medo1Error
from medo1.jsonl import iter_json_values

SPAN = 64


@dataclass
class DecontaminateConfig:
    enabled: bool = field(default=True, metadata={"help": "Drop training items that overlap an evaluation item."})
    span: int = field(default=SPAN, metadata={
        "help": "Characters a shared span must have to drop an item (the Med-PaLM 2 rule: 64)."})


_SKIP_KEYS = {"id", "reason", "mcq_id", "problem_id", "source", "source_id", "split", "bench", "variant", "tag"}


def record_text(value: Any) -> str:
    """The text of a record: its string fields (recursively, in order), normalised."""
    parts: list[str] = []

    def walk(v: Any, key: str | None = None) -> None:
        if key in _SKIP_KEYS:
            return
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(item, str(k))
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return normalize(" ".join(parts))


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _windows(text: str, n: int) -> list[str]:
    return [text[i:i + n] for i in range(len(text) - n + 1)]


@dataclass
class EvalIndex:
    """Hashes of every n-character window of the evaluation texts."""

    texts: list[str]
    names: list[str]  # "file:line (id)" per text
    hashes: np.ndarray
    owners: np.ndarray  # index into texts, per hash
    n: int = SPAN

    @classmethod
    def build(cls, paths: Iterable[str | os.PathLike], n: int = SPAN) -> "EvalIndex":
        texts, names, hashes, owners = [], [], [], []
        for path in paths:
            for line, raw in iter_json_values(path):
                text = record_text(raw)
                if len(text) < n:
                    continue
                rid = raw.get("id") if isinstance(raw, dict) else None
                names.append(f"{path}:{line}" + (f" ({rid})" if rid else ""))
                window_hashes = {hash(w) for w in _windows(text, n)}
                hashes.extend(window_hashes)
                owners.extend([len(texts)] * len(window_hashes))
                texts.append(text)
        if not texts:
            raise Medo1Error(f"decontaminate: the evaluation files hold no text of {n} characters or more")
        order = np.argsort(np.asarray(hashes, dtype=np.int64), kind="stable")
        return cls(texts, names, np.asarray(hashes, dtype=np.int64)[order], np.asarray(owners)[order], n)

    def find(self, text: str) -> tuple[int, str] | None:
        """(evaluation text index, the shared span) of the first overlap, or None."""
        if len(text) < self.n:
            return None
        windows = _windows(text, self.n)
        probe = np.fromiter((hash(w) for w in windows), dtype=np.int64, count=len(windows))
        pos = np.searchsorted(self.hashes, probe)
        pos[pos == len(self.hashes)] = 0
        for i in np.nonzero(self.hashes[pos] == probe)[0]:
            h, start = probe[i], pos[i]
            while start < len(self.hashes) and self.hashes[start] == h:
                owner = int(self.owners[start])
                if windows[i] in self.texts[owner]:  # not a hash collision
                    return owner, windows[i]
                start += 1
        return None


@dataclass
class DecontaminationReport:
    input: int = 0
    kept: int = 0
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"input": self.input, "kept": self.kept, "dropped": len(self.dropped), "items": self.dropped}


def dropped_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.stem
    return out.with_name(f"{stem}.contaminated.jsonl")


def decontaminate_file(
    input: str | os.PathLike,
    out: str | os.PathLike,
    against: Iterable[str | os.PathLike],
    *,
    n: int = SPAN,
) -> DecontaminationReport:
    """Copy `input` to `out` without the items overlapping `against`; the dropped ones, with the
    evaluation item and the shared span, go to `<out>.contaminated.jsonl`."""
    against = list(against)
    if not against:
        raise Medo1Error("decontaminate: give at least one evaluation file with --against")
    if Path(out).resolve() == Path(input).resolve():
        raise Medo1Error(f"{out}: the output must not be the input file")
    index = EvalIndex.build(against, n)
    report = DecontaminationReport()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out, tmp_drop = out.with_name(out.name + ".tmp"), dropped_path(out).with_name(dropped_path(out).name + ".tmp")
    with open(tmp_out, "w", encoding="utf-8") as kept, open(tmp_drop, "w", encoding="utf-8") as dropped:
        for line, raw in iter_json_values(input):
            report.input += 1
            hit = index.find(record_text(raw))
            if hit is None:
                kept.write(json.dumps(raw, ensure_ascii=False) + "\n")
                report.kept += 1
                continue
            owner, span = hit
            rid = raw.get("id") if isinstance(raw, dict) else None
            item = {"id": rid if rid is not None else f"{input}:{line}", "line": line,
                    "reason": f"shares a {n}-character span with {index.names[owner]}",
                    "eval_item": index.names[owner], "span": span}
            report.dropped.append(item)
            dropped.write(json.dumps({**item, "record": raw}, ensure_ascii=False) + "\n")
    tmp_out.replace(out)
    tmp_drop.replace(dropped_path(out))
    return report
