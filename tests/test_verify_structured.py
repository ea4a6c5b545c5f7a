"""A final response written as a JSON object is read as the "key: value" lines the rules read."""

from __future__ import annotations

import pytest

from medo1.verify import MatchVerifier
from medo1.verify.strict import StrictMatchVerifier
from medo1.verify.structured import as_lines


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
