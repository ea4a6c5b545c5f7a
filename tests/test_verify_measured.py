"""The report's figures of `match`: measured on the labelled set, kept under a hash of the labels and of the rules,
read back while neither changes, measured afresh when one does (or when the kept file is damaged)."""

import json
import shutil
from pathlib import Path

import pytest

from medo1.data import VERIFIER_LABELS
from medo1.verify import measured
from medo1.verify.measured import FIELDS, fingerprint, measure, measured_match


@pytest.fixture
def labels(tmp_path, monkeypatch):
    """A small labelled file (every 40th bundled row) and an empty MEDO1_HOME."""
    monkeypatch.setenv("MEDO1_HOME", str(tmp_path / "home"))
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(VERIFIER_LABELS.read_text(encoding="utf-8").splitlines(keepends=True)[::40]),
                    encoding="utf-8")
    return path


def _kept(strict=False):
    """The kept files of one verifier ("match-<hash>.json" or "match-strict-<hash>.json")."""
    return sorted(p for p in measured.cache_dir().glob("match-*.json") if p.name.startswith("match-strict-") == strict)


def test_figures_are_measured_once_then_read_back(labels):
    first = measured_match(labels=labels)
    assert first == measure(labels, strict=False) and set(first) == set(FIELDS)
    assert first["n"] == len(labels.read_text().splitlines()) and 0.8 < first["precision"] <= 1.0
    [kept] = _kept()
    assert json.loads(kept.read_text()) == first
    kept.write_text(json.dumps(first | {"precision": 0.123}))  # what is kept is what is read
    assert measured_match(labels=labels)["precision"] == 0.123
    strict = measured_match(strict=True, labels=labels)  # the other verifier is kept apart
    assert strict == measure(labels, strict=True) and len(_kept(strict=True)) == 1


def test_a_changed_label_or_a_damaged_file_is_measured_afresh(labels):
    measured_match(labels=labels)
    [kept] = _kept()
    kept.write_text(json.dumps(json.loads(kept.read_text()) | {"precision": 0.123}))
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    rows[0]["label"] = not rows[0]["label"]
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    fresh = measured_match(labels=labels)
    assert fresh == measure(labels, strict=False) and fresh["precision"] != 0.123 and len(_kept()) == 2
    for damaged in ("{", "[]", json.dumps({"n": 3})):
        for path in _kept():
            path.write_text(damaged)
        assert measured_match(labels=labels) == fresh


def test_a_changed_rule_changes_the_hash(tmp_path):
    rules = tmp_path / "verify"
    shutil.copytree(Path(measured.__file__).parent, rules)
    before = fingerprint(VERIFIER_LABELS, rules, strict=False)
    assert before == fingerprint(VERIFIER_LABELS, rules, strict=False) != fingerprint(VERIFIER_LABELS, rules, True)
    cues = rules / "cues.py"
    cues.write_text(cues.read_text() + "\nEXTRA = 1\n")
    assert fingerprint(VERIFIER_LABELS, rules, strict=False) != before
