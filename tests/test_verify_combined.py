"""Verifiers joined by `+` (verify/combined.py): correct only when every part is, asked in order; a judge over
real HTTP (tests/openai_server.py) says what the rule alone cannot."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.integrations.verl_settings import is_api_judge
from medo1.report.story import verifier_note
from medo1.verify import MatchVerifier, load_verifier, verifier_model
from medo1.verify.combined import AllVerifiers, split_spec
from medo1.verify.compare import leave_out_seen
from medo1.verify.evaluation import LabeledVerdict
from medo1.verify.strict import StrictMatchVerifier
from tests.openai_server import last_user_message


def hedge_judge(body, headers) -> str:
    """A judge that reads what the rules do not: an answer taken back later in the response."""
    return "False" if "not one to bet the house on" in last_user_message(body).lower() else "True"


def test_split_spec_splits_only_before_a_verifier_kind():
    assert split_spec("match+classifier:out/commit") == ["match", "classifier:out/commit"]
    assert split_spec(" match:strict + judge:openai:gpt-4o ") == ["match:strict", "judge:openai:gpt-4o"]
    assert split_spec("option+match") == ["option", "match"]
    # a `+` inside a path or a model spec is not a join
    assert split_spec("classifier:/data/a+b/ckpt") == ["classifier:/data/a+b/ckpt"]
    assert split_spec("match+classifier:/runs/x+matching") == ["match", "classifier:/runs/x+matching"]
    assert split_spec("judge:openai:m@http://h/v1+match") == ["judge:openai:m@http://h/v1", "match"]


async def test_a_joined_verifier_pays_only_when_every_part_accepts(openai_server):
    openai_server.handler = hedge_judge
    verifier = load_verifier(f"match+judge:openai:judge@{openai_server.url}", cache=False)
    assert isinstance(verifier, AllVerifiers) and isinstance(verifier.parts[0], MatchVerifier)
    assert verifier.name == f"match+judge:openai:judge@{openai_server.url}"
    assert await verifier.verify("The answer is aspirin.", "Aspirin") is True
    # the rule accepts the line; the judge reads the hedge after it
    assert await MatchVerifier().verify("The answer is aspirin. Not one to bet the house on.", "Aspirin") is True
    assert await verifier.verify("The answer is aspirin. Not one to bet the house on.", "Aspirin") is False
    asked = openai_server.count
    # the rule rejects: the judge is never asked (the cheap part first saves the model's calls)
    assert await verifier.verify("Aspirin or ibuprofen.", "Aspirin") is False
    assert await verifier.verify("The answer is ibuprofen.", "Aspirin") is False
    assert openai_server.count == asked == 2
    assert verifier_model(verifier) is verifier.parts[1].model  # the pool and the usage meter see the judge
    await verifier_model(verifier).aclose()


def test_the_order_written_is_the_order_asked():
    verifier = load_verifier("match:strict+match")
    assert [type(part) for part in verifier.parts] == [StrictMatchVerifier, MatchVerifier]
    assert verifier_model(verifier) is None


def test_bad_joined_specs_name_the_part():
    for bad, part in (("match+regex", "match+regex"), ("match+judge:", "judge:"), ("match+", "match+"),
                      ("match+classifier:", "classifier:")):
        with pytest.raises(Medo1Error, match=re.escape(f"verifier spec '{part}'")):
            load_verifier(bad)


def test_verifier_eval_measures_a_joined_verifier(openai_server, tmp_path):
    openai_server.handler = hedge_judge
    labeled = tmp_path / "labels.jsonl"
    rows = [("The answer is aspirin.", True), ("The answer is aspirin. Not one to bet the house on.", False),
            ("Aspirin or ibuprofen.", False), ("Ibuprofen.", False)]
    labeled.write_text("".join(json.dumps({"response": r, "reference": "Aspirin", "label": y}) + "\n"
                               for r, y in rows))
    out = tmp_path / "report.json"
    judge = f"openai:judge@{openai_server.url}"
    recipe = tmp_path / "prices.yaml"
    recipe.write_text(f"report:\n  prices:\n    \"{judge}\": [2.5, 10.0]\n")
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--compare",
                                      f"match,match+judge:{judge}", "--recipe", str(recipe), "--out", str(out),
                                      "--no-cache"])
    assert result.exit_code == 0, result.output
    match, joined = json.loads(out.read_text())
    assert (match["fp"], joined["fp"]) == (1, 0) and joined["tp"] == 1 and joined["errors"] == 0
    assert openai_server.count == 2  # asked about the two responses `match` accepted
    # the judge's cost spread over all four verdicts (the server's usage is word counts)
    usage = [(len(" ".join(m["content"] for m in r.json["messages"]).split()), 1) for r in openai_server.requests]
    assert joined["cost_per_1k"] == pytest.approx(1000 * sum(p * 2.5 + c * 10.0 for p, c in usage) / 1e6 / 4)


def test_a_classifier_joined_to_a_rule_is_measured_on_rows_it_never_saw(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    seen_row = LabeledVerdict(response="The answer is aspirin.", reference="Aspirin", label=True)
    fresh_row = LabeledVerdict(response="The answer is heparin.", reference="Heparin", label=True)
    from medo1.verify.classifier import SEEN_FILE
    from medo1.verify.data import pair_id

    (ckpt / SEEN_FILE).write_text(json.dumps({"train": [pair_id(seen_row.response, seen_row.reference)],
                                              "calibration": []}))
    kept, left_out = leave_out_seen([seen_row, fresh_row], [f"match+classifier:{ckpt}"])
    assert kept == [fresh_row] and left_out == 1


def test_api_judges_and_the_report_see_every_part():
    assert is_api_judge("match+judge:openai:gpt-4o") and not is_api_judge("match+classifier:out/v")
    note = verifier_note({"models": {"verifier": "match", "reward": "match:strict+classifier:out/v"}})
    assert "the RL reward from `match:strict+classifier:out/v`" in note
    assert "only when each of `match:strict`, `classifier:out/v` accepts it" in note
