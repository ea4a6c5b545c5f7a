"""The bundled sample bank is valid, balanced, and shaped for the demo funnel."""

import json
import re
from collections import Counter

import pytest

from medo1.data import SAMPLE_MCQ, load_sample
from medo1.errors import Medo1Error
from medo1.jsonl import read_jsonl
from medo1.records import MCQ

NEGATED = re.compile(r"\b(EXCEPT|NOT)\b")
NEGATION_WORD = re.compile(r"\b(not|except|incorrect|false|least|untrue)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def bank() -> list[MCQ]:
    return read_jsonl(SAMPLE_MCQ, MCQ)


def _rule_filtered(q: MCQ) -> bool:
    return q.meta.get("expect") == "rule_filtered"


def test_file_is_plain_jsonl_in_our_format():
    lines = SAMPLE_MCQ.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 60
    for number, line in enumerate(lines, start=1):
        raw = json.loads(line)
        assert "id" not in raw, f"line {number}: id is computed from content, leave it out"
        assert raw["source"] == "medo1-sample"
        assert raw["source_id"] == f"sample-{number:03d}"
        assert set(raw) <= {"question", "options", "answer", "source", "source_id", "split", "subject", "meta"}


def test_counts_and_splits(bank):
    assert len(bank) == 60
    assert Counter(q.split for q in bank) == {"train": 40, "eval": 20}
    assert len(load_sample()) == 60
    assert len(load_sample("train")) == 40
    eval_split = load_sample("eval")
    assert len(eval_split) == 20 and all(q.split == "eval" for q in eval_split)


def test_unknown_split_is_a_clear_error():
    with pytest.raises(Medo1Error, match="unknown sample split 'test'"):
        load_sample("test")


def test_ids_and_questions_are_unique(bank):
    assert len({q.id for q in bank}) == len(bank)
    assert len({q.question.strip().lower() for q in bank}) == len(bank)
    assert len({q.source_id for q in bank}) == len(bank)


def test_options_and_answers(bank):
    for q in bank:
        assert list(q.options) in (list("ABCD"), list("ABCDE")), q.source_id
        assert q.answer in q.options, q.source_id
        texts = [t.strip().lower() for t in q.options.values()]
        assert len(set(texts)) == len(texts) and all(texts), q.source_id
        # short answers, so curation can turn them into open-ended problems
        assert len(q.answer_text) <= 60, q.source_id


def test_answer_letters_are_spread(bank):
    counts = Counter(q.answer for q in bank)
    assert max(counts.values()) <= 0.35 * len(bank), counts
    assert set(counts) == set("ABCDE"), counts


def test_rule_filtered_questions_are_marked(bank):
    marked = [q for q in bank if _rule_filtered(q)]
    assert len(marked) == 4
    assert all(q.split == "train" for q in marked)
    negated = [q for q in marked if NEGATED.search(q.question)]
    short = [q for q in marked if len(q.question) < 60]
    assert len(negated) == 2 and len(short) == 2
    assert not set(q.id for q in negated) & set(q.id for q in short)


def test_other_questions_are_full_vignettes(bank):
    for q in bank:
        if _rule_filtered(q):
            continue
        assert len(q.question) >= 150, q.source_id
        asked = re.split(r"(?<=[.!])\s+", q.question.strip())[-1]  # the sentence that asks
        assert not NEGATION_WORD.search(asked), (q.source_id, asked)
        assert q.question.rstrip().endswith("?"), q.source_id


def test_subjects_are_varied(bank):
    subjects = Counter(q.subject for q in bank)
    assert None not in subjects
    assert len(subjects) >= 10
    assert max(subjects.values()) <= 10
    assert len({q.subject for q in bank if q.split == "eval"}) >= 8
