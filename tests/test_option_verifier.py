"""The `option` verifier (a reward without a judge, for problems that keep their options): the committed
option letter against the reference letter, exactly. Tested as a policy under RL would attack it: every
answer shape that does not commit to one letter earns nothing, and committed answers keep their 1.0."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.verify import OptionVerifier, committed_option, load_verifier, score_response

LABELS = Path(__file__).parent / "option_labels.jsonl"


def output(final: str) -> str:
    return f"## Thinking\n\nThe murmur is diastolic; A and B do not fit, C does.\n\n## Final Response\n\n{final}"


def reward(final: str, reference: str) -> float | None:
    return asyncio.run(score_response(output(final), reference, OptionVerifier())).score


COMMITTED = ["The answer is C.", "C", "(C)", "C. Aspirin", "C) Metformin", "Answer: C", "\\boxed{C}", "**C**",
             "I think the answer is C.", "I would choose C.", "Option C is correct.", "C is the best answer.",
             "The answer is C. A beta blocker would worsen it.", "C. Vitamin D deficiency", "C. Hepatitis B",
             "The answer is C, E. coli sepsis.", "The answer is C.\nThe answer is C.", "答案是C", "选C", "(c)"]


@pytest.mark.parametrize("final", COMMITTED)
def test_a_committed_letter_earns_the_reward(final):
    assert reward(final, "C") == 1.0
    assert reward(final, "D") == 0.1  # well formed, another letter: wrong


# Shapes a policy finds when a reward pays for a letter anywhere in the answer. For each, the reward is checked
# against every letter it names: none of them is paid.
UNCOMMITTED = [
    "The answer is A or C.", "A or C", "Either A or C.", "Both A and C.", "A and C are correct.",  # hedges, both
    "The answer is C, or possibly A.", "The answer is C (or A).", "Answer: C or maybe A", "C vs A", "C/A", "C&A",
    "The answer is C, but A is also reasonable.", "Final answer: C. Alternatively A.", "C, unless A",
    "A, B, C, D", "A B C D E", "A. B. C. D.", "- A\n- B\n- C", "C; A", "C+A", "The best answer is A, C.",  # lists
    "The answer is C. Thus A.", "Answer: C\nAnswer: A", "The answer is C. Wait, no: the answer is A.",  # chains
    "C. Wait, A. No, C.", "C → A", "C\n\nA", "C, then A",
    "Is it C?", "C?", "The answer is C? Or A?",  # questions
    "Maybe C.", "It could be C.", "C, possibly", "C (probably)",  # possibilities
    "Not C.", "The answer is not A but C.", "The answer is C: not A, not B.", "C (not A)",  # negations, rejections
    "The answer is ~~A~~ C.",  # struck through
    "答案是A或C", "选C还是A", "C 或 A",  # Chinese
    "", "I cannot decide between the options.", "The answer is aspirin.",  # no letter
]


@pytest.mark.parametrize("final", UNCOMMITTED)
def test_no_shape_that_fails_to_commit_to_one_letter_is_paid(final):
    for letter in "ABCD":
        assert reward(final, letter) != 1.0, (final, letter)
    assert committed_option(final) is None


def test_an_unclosed_think_or_a_missing_header_is_no_answer():
    assert asyncio.run(score_response("## Thinking\n\nC\n\n## Final Response\n\n<think>The answer is C",
                                      "C", OptionVerifier())).score == 0.0
    assert asyncio.run(score_response("The answer is C.", "C", OptionVerifier())).score == 0.0


def test_a_reference_that_is_no_letter_is_a_failed_verification_not_a_wrong_answer():
    result = asyncio.run(score_response(output("The answer is C."), "aspirin", OptionVerifier()))
    assert result.score is None and result.verify_failed and "not an option letter" in result.error
    assert reward("The answer is C.", "C. Aspirin") == 1.0  # the reference's own option text is fine


def test_the_spec_option_loads_it():
    assert isinstance(load_verifier("option"), OptionVerifier)
    with pytest.raises(Medo1Error, match="'option'"):
        load_verifier("option:strict")


def test_verifier_eval_on_labelled_rows_whose_reference_is_the_letter(tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(LABELS), "--verifier", "option",
                                      "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    # precision 1: nothing uncommitted is accepted; the one miss is "C, not A", correct for a reader, which the
    # rule refuses (a final response names one letter)
    assert (report["tp"], report["fp"], report["tn"], report["fn"], report["errors"]) == (5, 0, 9, 1, 0)
    assert [m["id"] for m in report["mistakes"]] == ["opt-15"]
