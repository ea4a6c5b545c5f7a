"""Bundled data: the sample question bank, and the hand-labelled verifier answers.

The sample question bank: 60 original medical multiple-choice questions.

40 are in the `train` split and 20 in the `eval` split. Four train questions are
written to be dropped by the curation rule filters (two negated stems, two very short
ones) and carry `meta.expect == "rule_filtered"`, so a demo run shows the funnel.

    from medo1.data import SAMPLE_MCQ, load_sample
    load_sample("eval")   # -> list[MCQ]

`VERIFIER_LABELS` (verifier_labels.jsonl): final responses with a reference answer and a human
label (is it correct?), each with a `kind` naming the case it tests. The rows came in rounds: each
round's rows ("held-", "held2-" … "held10-"; held9 on are red-team rounds, written to game the
verifier; held12 against `match:strict`'s answer-line format) were written blind, after the `match`
rules of the day, measured, and only then tuned on; three rounds ("held11a-", "held11b-", and
"held21…" and "held22…", half of their wrong rows opening with a correct answer line) never were, so
`medo1 verifier-eval` reports them apart as the held-out rows. The run report measures `match` on it.
"""

from __future__ import annotations

from pathlib import Path

from medo1.errors import Medo1Error
from medo1.jsonl import read_jsonl
from medo1.records import MCQ

SAMPLE_MCQ: Path = Path(__file__).with_name("sample_mcq.jsonl")
VERIFIER_LABELS: Path = Path(__file__).with_name("verifier_labels.jsonl")
SPLITS = ("train", "eval")


def load_sample(split: str | None = None) -> list[MCQ]:
    """The sample questions, all of them or only one split ("train" or "eval")."""
    if split is not None and split not in SPLITS:
        raise Medo1Error(f"unknown sample split {split!r}; expected one of {', '.join(SPLITS)}")
    questions = read_jsonl(SAMPLE_MCQ, MCQ)
    return [q for q in questions if split is None or q.split == split]
