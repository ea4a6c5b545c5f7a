import pytest

from medo1.evaluate.extract import METHODS, Extraction, extract_answer

DRUGS = {"A": "Aspirin", "B": "Heparin", "C": "Metformin", "D": "Insulin"}
YES_NO = {"A": "yes", "B": "no", "C": "maybe"}
ZH = {"A": "阿司匹林", "B": "二甲双胍", "C": "胰岛素", "D": "肝素"}
TEN = {letter: f"choice number {i}" for i, letter in enumerate("ABCDEFGHIJ")}

CASES = [
    # strict style
    ("The answer is C.", DRUGS, "C", "answer_is"),
    ("Therefore, the answer is (C).", DRUGS, "C", "answer_is"),
    ("the answer is c", DRUGS, "C", "answer_is"),
    ("The answer is (c) metformin.", DRUGS, "C", "answer_is"),
    ("Answer: B", DRUGS, "B", "answer_is"),
    ("**Answer: (B) Heparin**", DRUGS, "B", "answer_is"),
    ("The correct answer is: **D**", DRUGS, "D", "answer_is"),
    ("The correct option is D - insulin.", DRUGS, "D", "answer_is"),
    ("I would choose B because it acts fastest.", DRUGS, "B", "answer_is"),
    ("Option B is correct.", DRUGS, "B", "answer_is"),
    ("C is the best answer here.", DRUGS, "C", "answer_is"),
    ("So the final answer is $\\boxed{A}$.", DRUGS, "A", "answer_is"),
    ("ＴＨＥ ＡＮＳＷＥＲ ＩＳ Ｃ", DRUGS, "C", "answer_is"),  # full-width
    ("The answer is J.", TEN, "J", "answer_is"),  # MMLU-Pro has up to ten options
    # thinking format: only the final response counts
    ("## Thinking\n\nAt first the answer is A, hmm.\n\n## Final Response\n\nThe answer is D.", DRUGS, "D", "answer_is"),
    ("## Thinking\n\nThe answer is A.\n\n## Final Response\n\nMetformin is the first-line drug.", DRUGS, "C",
     "option_text"),
    # two letters mentioned: an answer statement beats other mentions; the final statement wins
    ("A looks tempting, but the answer is C, not A.", DRUGS, "C", "answer_is"),
    ("The answer is B. Wait, no: the answer is D.", DRUGS, "D", "answer_is"),
    ("(A) fits the history, but (D) fits the labs better.", DRUGS, "D", "letter"),
    # standalone letters
    ("C", DRUGS, "C", "letter"),
    ("(c).", DRUGS, "C", "letter"),
    ("C. Metformin", DRUGS, "C", "letter"),
    ("A. Aspirin\nC. Metformin\nC fits best.", DRUGS, "C", "letter"),
    ("Options:\nA. Aspirin\nB. Heparin\nC. Metformin\nD. Insulin", DRUGS, None, "none"),  # the list repeated
    ("A. Aspirin\nB. Heparin\nC. Metformin\nD. Insulin\n\nI pick metformin.", DRUGS, "C", "option_text"),
    ("A. Aspirin\nB. Heparin\nC. Metformin\nD. Insulin\nThe answer is B.", DRUGS, "B", "answer_is"),
    ("Looking at the labs, I think it's B.", DRUGS, "B", "letter"),
    ("Option D, since the patient is type 1.", DRUGS, "D", "letter"),
    # option text only (the last option mentioned wins)
    ("Metformin is first line for this patient.", DRUGS, "C", "option_text"),
    ("Start with insulin rather than heparin... on reflection, metformin.", DRUGS, "C", "option_text"),
    ("The answer is metformin, not insulin.", DRUGS, "C", "answer_is"),
    ("Yes, the intervention reduced mortality.", YES_NO, "A", "option_text"),
    ("There is no clear evidence either way; the answer is maybe.", YES_NO, "C", "answer_is"),
    # Chinese
    ("答案是 C", DRUGS, "C", "answer_is"),
    ("答案：C", DRUGS, "C", "answer_is"),
    ("综合分析，正确答案为B。", DRUGS, "B", "answer_is"),
    ("选C", DRUGS, "C", "answer_is"),
    ("故选 D。", DRUGS, "D", "answer_is"),
    ("C项正确。", DRUGS, "C", "answer_is"),
    ("答案是：二甲双胍", ZH, "B", "answer_is"),
    ("患者应首选胰岛素治疗。", ZH, "C", "option_text"),
    # nothing usable
    ("The answer is a benign process.", DRUGS, None, "none"),  # article, not option A
    ("Vitamin C deficiency explains the bleeding gums.", DRUGS, None, "none"),  # a name, not option C
    ("The answer is E.", DRUGS, None, "none"),  # not an option
    ("I am not sure.", DRUGS, None, "none"),
    ("", DRUGS, None, "none"),
    ("## Thinking\n\nLet me think.\n\n## Final Response\n\n", DRUGS, None, "none"),
]


@pytest.mark.parametrize("response,options,letter,method", CASES)
def test_extract_answer(response, options, letter, method):
    assert extract_answer(response, options) == Extraction(letter, method)


def test_methods_are_the_documented_ones():
    seen = {extract_answer(response, options).method for response, options, _, _ in CASES}
    assert seen == set(METHODS)


def test_option_keys_may_be_lower_case():
    assert extract_answer("The answer is b.", {"a": "x", "b": "y"}) == Extraction("B", "answer_is")


def test_longer_option_text_wins_over_the_text_it_contains():
    options = {"A": "Aspirin", "B": "Aspirin and heparin"}
    assert extract_answer("Give aspirin and heparin now.", options) == Extraction("B", "option_text")
    assert extract_answer("Give aspirin now.", options) == Extraction("A", "option_text")
