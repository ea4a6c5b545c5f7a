"""The official HuatuoGPT-o1 scorer's semantics beside medo1's extraction, and the statistics of evaluation."""

import math

import pytest

from medo1.verify.extract import extract_answer
from medo1.evaluate.official import official_letters, official_score
from medo1.evaluate.stats import (majority, mcnemar_exact, paired_bootstrap, paired_test, sampled_figures,
                                  wilson_interval)

OPTIONS = {"A": "Metformin", "B": "Insulin", "C": "Aspirin", "D": "Vitamin C supplementation"}

# (output, medo1's letter, medo1's method, official first, official last, official kind)
SAME_OUTPUTS = [
    ("## Thinking\n\nHyperglycaemia...\n\n## Final Response\n\nThe answer is B.", "B", "answer_is", "B", "B", "answer_is"),
    # we read insulin (B); the official scorer reads the "C" of "Vitamin C" as the letter C (aspirin)
    ("Vitamin C and insulin", "B", "option_text", "C", "C", "letter"),
    # a refusal: wrong for us; the official scorer falls back to the most similar option text (metformin)
    ("I cannot determine.", None, "none", "A", "A", "similarity"),
    # nothing at all: every option is equally (not) similar, and the last one wins
    ("", None, "none", "D", "D", "similarity"),
    # a hedge: we find no answer; the official scorer skips the article-like "A " and reads B
    ("A or B", None, "none", "B", "B", "letter"),
    # a marked change of mind: we take the later answer; the official scorer has C first and A last
    ("The answer is C. Wait, no: the answer is A.", "A", "answer_is", "C", "A", "answer_is"),
    # an option's text after "answer is": the official pattern reads its capital as a letter (I, no option)
    ("The answer is Insulin.", "B", "answer_is", "I", "I", "answer_is"),
    # cut off in its thinking: we read nothing; the official scorer reads the whole text
    ("## Thinking\n\nMetformin first? The answer is A", None, "none", "A", "A", "answer_is"),
    # an option's text alone: both read insulin
    ("Start insulin now.", "B", "option_text", "B", "B", "option_text"),
]


@pytest.mark.parametrize("output, ours, method, first, last, kind", SAME_OUTPUTS)
def test_the_same_outputs_under_both_scorers(output, ours, method, first, last, kind):
    found = extract_answer(output, OPTIONS)
    assert (found.letter, found.method) == (ours, method)
    match = official_letters(output, OPTIONS)
    assert (match.first, match.last, match.kind) == (first, last, kind)


def test_official_details_final_response_split_and_option_text_positions():
    # only the text after the last "## Final Response\n\n" counts ("(A)" in the thinking is never read)
    assert official_letters("## Thinking\n\n(A)?\n\n## Final Response\n\nGive (D).", OPTIONS).first == "D"
    # without the blank line the whole output is read
    assert official_letters("## Thinking\n\n(A)?\n## Final Response\nGive (D).", OPTIONS).first == "A"
    # letters beyond the options do not stand apart (E with four options), lower case never
    assert official_letters("e) or (E)", OPTIONS).kind == "similarity"
    # option texts as substrings: the last reading is the latest last mention; the "first" reading is the
    # option whose first mention comes latest (the official code sorts first positions latest-first)
    text = "aspirin, then metformin, then aspirin again"
    match = official_letters(text, OPTIONS)
    assert (match.first, match.last, match.kind) == ("A", "C", "option_text")
    # non-overlapping letters: the character after C is used up, so D is not read
    match = official_letters("C.D", OPTIONS)
    assert (match.first, match.last) == ("C", "C")


def test_official_score_is_the_better_of_first_and_last_per_source():
    rows = [{"answer": "A", "official_first": "A", "official_last": "B"},
            {"answer": "B", "official_first": "C", "official_last": "B"},
            {"answer": "C", "official_first": "D", "official_last": "C"},
            {"answer": "D", "official_first": "D", "official_last": "D"}]
    assert official_score(rows) == {"accuracy": 0.75, "first": 0.5, "last": 0.75}
    assert official_score([{"answer": "A"}]) is None  # no official readings recorded


# ---------------------------------------------------------------- statistics


def test_mcnemar_exact_by_hand():
    # 9 vs 2 discordant: 2 * P(X <= 2), X ~ Bin(11, 1/2) = 2 * (1 + 11 + 55) / 2048
    assert math.isclose(mcnemar_exact(9, 2), 134 / 2048) and mcnemar_exact(2, 9) == mcnemar_exact(9, 2)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(3, 3) == 1.0
    assert math.isclose(mcnemar_exact(0, 6), 2 / 64)


def test_majority_vote_unparsed_never_wins_and_a_tie_goes_to_the_first_answer():
    assert majority([(None, False), (None, False), ("Insulin", True)])  # two unparsed do not outvote one answer
    assert not majority([(None, False)] * 3)
    assert not majority([("Aspirin", False), ("Insulin", True), ("Aspirin", False), ("Insulin", True)])  # tie: first
    assert majority([("Insulin", True), ("Aspirin", False), ("Aspirin", False), ("Insulin", True), ("Insulin", True)])


def test_sampled_figures_by_hand():
    by_question = {
        "q1": [("C", True), ("C", True), ("A", False), (None, False)],  # 2/4 right; majority C: right
        "q2": [("A", False), ("B", False), ("A", False), ("D", True)],  # 1/4; majority A: wrong
        "q3": [("D", True)] * 4,  # 4/4; right
    }
    f = sampled_figures(by_question)
    assert math.isclose(f["avg_at_k"], (0.5 + 0.25 + 1.0) / 3) and math.isclose(f["maj_at_k"], 2 / 3)
    # Avg@K's interval is over the 3 questions, not the 12 answers
    assert (f["avg_ci_low"], f["avg_ci_high"]) == wilson_interval(f["avg_at_k"] * 3, 3)
    assert (f["maj_ci_low"], f["maj_ci_high"]) == wilson_interval(2, 3)


def test_paired_test_picks_mcnemar_for_one_answer_and_bootstrap_for_several():
    before = {f"q{i}": [i < 50] for i in range(100)}  # right on the first 50
    after = {f"q{i}": [i < 50 or i >= 80] for i in range(100)}  # and on 20 more
    t = paired_test(before, after)
    assert t.test == "McNemar exact" and t.discordant == (0, 20) and t.n == 100
    assert math.isclose(t.difference, 0.2) and t.significant and t.p == mcnemar_exact(0, 20)
    assert t.line("SFT → RL", detail=False) == "SFT → RL: +20.0 points, p < 0.001"
    same = paired_test(before, {q: list(v) for q, v in before.items()})
    assert same.p == 1.0 and not same.significant and "not significant" in same.line("base → SFT")

    several = paired_test({q: v * 4 for q, v in before.items()}, {q: v * 4 for q, v in after.items()})
    assert several.test == "paired bootstrap" and several.p < 0.001 and several.ci[0] > 0.1
    assert paired_test({"a": [True]}, {"b": [True]}) is None  # no shared question


def test_paired_bootstrap_is_seeded_and_sees_no_difference_in_noise():
    before = [0.5, 0.25, 1.0, 0.0, 0.75, 0.5] * 10
    after = [0.25, 0.5, 1.0, 0.0, 0.5, 0.75] * 10  # the same mean, shuffled between questions
    p, (low, high) = paired_bootstrap(before, after)
    assert p == 1.0 and low < 0 < high
    assert paired_bootstrap(before, [a + 0.02 for a in after]) == paired_bootstrap(before, [a + 0.02 for a in after])
    p, _ = paired_bootstrap(before, [a + 0.02 for a in after])
    assert p > 0.05  # two points on 60 noisy questions: not significant
