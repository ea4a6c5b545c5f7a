"""The rule verifiers measured on the bundled labelled set, for the report to quote.

`measured_match()` scores `match` (or `match:strict`) on every row of `medo1.data.VERIFIER_LABELS`:
some 18,000 verdicts, about half a minute on two cores. The figures depend only on that file and on the
rules, so they are kept in `$MEDO1_HOME/measured/` under a hash of the labelled file and of every
module of `medo1.verify`: the next report (or the next process) reads them back, and a change to a rule
or to the labels scores afresh. A damaged cache file is scored afresh too, never trusted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

FIELDS = ("n", "precision", "uncommitted_accepted", "near_miss_accepted", "short_recall", "long_recall", "long_n",
          "heldout_n", "heldout_precision")


def cache_dir() -> Path:
    from medo1.embedded import medo1_home

    return medo1_home() / "measured"


def fingerprint(labels: Path, rules: Path, strict: bool) -> str:
    """A hash of what the figures depend on: the labelled file, the source of every module under `rules`, and
    which verifier."""
    h = hashlib.sha256(b"match:strict" if strict else b"match")
    for path in [labels, *sorted(rules.rglob("*.py"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def measure(labels: Path, strict: bool) -> dict[str, Any]:
    """Scores the verifier on every row of `labels` now (no cache)."""
    from medo1.jsonl import read_jsonl
    from medo1.verify.evaluation import GROUPS, Agreement, LabeledVerdict, evaluate_verifier
    from medo1.verify.match import MatchVerifier
    from medo1.verify.strict import StrictMatchVerifier

    verifier = StrictMatchVerifier() if strict else MatchVerifier()
    report = asyncio.run(evaluate_verifier(verifier, read_jsonl(labels, LabeledVerdict)))
    groups = {name: sum((report.by_kind[k] for k in kinds if k in report.by_kind), Agreement())
              for name, kinds in GROUPS.items()}
    held = sum(report.heldout_by_kind.values(), Agreement())
    return {"n": report.n, "precision": report.precision, "uncommitted_accepted": groups["uncommitted"].accept_rate,
            "near_miss_accepted": groups["near miss"].accept_rate, "short_recall": groups["short correct"].recall,
            "long_recall": groups["long correct"].recall, "long_n": groups["long correct"].n,
            "heldout_n": held.n, "heldout_precision": held.precision}


def measured_match(strict: bool = False, labels: Path | None = None) -> dict[str, Any]:
    """The `match` verifier (`match:strict` with `strict`) on the labelled set (the bundled one by default, every
    row, held-out ones included): n, precision, the share of uncommitted answers and of near misses it accepts,
    its recall of short and of long free-text correct answers; and its precision on the held-out rows alone
    (`HELD_OUT`: written after the rules, never tuned on). Read from the cache when neither changed."""
    from medo1.data import VERIFIER_LABELS

    labels = Path(labels or VERIFIER_LABELS)
    name = "match-strict" if strict else "match"
    path = cache_dir() / f"{name}-{fingerprint(labels, Path(__file__).parent, strict)}.json"
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(figures, dict) and set(figures) == set(FIELDS):
            return figures
    except (OSError, ValueError):
        pass
    figures = measure(labels, strict)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_text(json.dumps(figures), encoding="utf-8")
        os.replace(part, path)
    except OSError:  # a read-only home: the figures are still right, only not kept
        pass
    return figures
