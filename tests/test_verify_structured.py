"""A final response written as a JSON object is read as the "key: value" lines the rules read."""

from __future__ import annotations

import pytest

from medo1.verify import MatchVerifier
from medo1.verify.strict import StrictMatchVerifier
from medo1.verify.structured import as_lines, without_offer


def test_a_flat_object_becomes_key_value_lines_and_the_text_after_it_stays():
    final = '```json\n{"final_answer": "Ulnar nerve", "rejected": ["Median nerve", "Radial nerve"], "sure": true}\n```' \
            "\nClaw hand."
    assert as_lines(final) == ("final answer: Ulnar nerve\nrejected: Median nerve, Radial nerve\nsure: true\n\n"
                               "Claw hand.")


@pytest.mark.parametrize("final", ['{"answer": {"name": "Ulnar nerve"}}', '{"answer": "Ulnar nerve",}',
                                   'The answer is {"Ulnar nerve"}.', "{}", '["Ulnar nerve"]'])
def test_anything_but_one_flat_object_is_left_as_it_is(final):
    assert as_lines(final) == final


@pytest.mark.parametrize("response, paid", [
    ('{"answer": "Ulnar nerve", "rejected": ["Median nerve"], "reason": "Froment sign"}', True),
    ('{"answer": "Median nerve", "rejected": ["Ulnar nerve"]}', False),
    ('{"answer": ["Ulnar nerve", "Median nerve"]}', False),
    ('{"candidates": ["Ulnar nerve", "Median nerve"]}', False),
    ('{"answer": "Ulnar nerve", "alternatives": ["Median nerve"]}', False),
    ('{"answer": "Ulnar nerve", "confidence": 0.4}', False),
])
def test_both_verifiers_judge_the_object_as_they_judge_the_lines(response, paid):
    assert MatchVerifier().check(response, "Ulnar nerve") is paid
    assert StrictMatchVerifier().check(response, "Ulnar nerve") is paid


@pytest.mark.parametrize("response", [
    "Answer: Ulnar nerve\n\nWant me to walk through the Froment sign?",
    "## Answer\n**Ulnar nerve**\n\n## Why\nClaw hand and a positive Froment sign.\n\nLet me know if you'd like the "
    "hand muscles explained.",
    "Ulnar nerve — claw hand, Froment sign.\n\nWould a table of the hand's nerves help your revision?",
    "## 答案\n尺神经\n\n需要的话，我可以再帮你整理一下手部肌肉的神经支配。",
])
def test_a_closing_offer_of_help_is_no_doubt_of_the_answer(response):
    assert without_offer(response) != response
    assert MatchVerifier().check(response, "尺神经" if "答案" in response else "Ulnar nerve") is True


@pytest.mark.parametrize("response", [
    "Answer: Ulnar nerve\n\nWant me to explain why the median nerve is also possible?",
    "Ulnar nerve\n\nShall I list the other nerves that could do this too?",
    "Answer: Ulnar nerve\n\nLet me know if you'd like me to consider the median nerve instead.",
    "Answer: Ulnar nerve\n\nWould you like me to go over whether that's the right answer?",
    "答案：尺神经\n\n需要的话，我可以再讲讲正中神经也可能的原因。",
    "Answer: Ulnar nerve\n\nWant me to explain? The median nerve fits equally.",  # nothing may follow the offer
    "Answer: Ulnar nerve. Let me know if you'd like more. The median nerve works just as well.",
])
def test_an_offer_that_doubts_or_widens_the_answer_is_kept_and_earns_nothing(response):
    assert without_offer(response) == response
    assert MatchVerifier().check(response, "尺神经" if "答案" in response else "Ulnar nerve") is False
