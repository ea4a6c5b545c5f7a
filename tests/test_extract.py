import pytest

from medo1.verify.extract import METHODS, Extraction, extract_answer
from medo1.thinking import final_answer_text

DRUGS = {"A": "Aspirin", "B": "Heparin", "C": "Metformin", "D": "Insulin"}
YES_NO = {"A": "yes", "B": "no", "C": "maybe"}
ZH = {"A": "阿司匹林", "B": "二甲双胍", "C": "胰岛素", "D": "肝素"}
TEN = {letter: f"choice number {i}" for i, letter in enumerate("ABCDEFGHIJ")}
DX = {"A": "Sarcoidosis", "B": "Tuberculosis", "C": "Lymphoma", "D": "Histoplasmosis"}

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
    # two letters mentioned: an answer statement beats other mentions; a marked change of mind keeps the later one
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
    ("The answer is A. The answer is B.", DRUGS, None, "ambiguous"),  # see AMBIGUOUS
    ("", DRUGS, None, "none"),
    ("## Thinking\n\nLet me think.\n\n## Final Response\n\n", DRUGS, None, "none"),
]


# How models state a choice while rejecting other options: a rejected option is never the answer.
REJECTIONS = [
    # a negated answer statement turns to the option it does not reject
    ("The answer is not metformin but insulin.", DRUGS, "D", "answer_is"),
    ("The answer isn't metformin, it's insulin.", DRUGS, "D", "answer_is"),
    ("The answer is not C but D.", DRUGS, "D", "answer_is"),
    ("The answer is not C, it's D.", DRUGS, "D", "answer_is"),
    ("The answer is not C.", DRUGS, None, "none"),
    ("The answer is C not A.", DRUGS, "C", "answer_is"),
    ("I would not choose C; I'd choose D.", DRUGS, "D", "answer_is"),
    ("I would not choose C.", DRUGS, None, "none"),
    # the option's text first, then that it is the answer; later rejections do not override it
    ("Insulin is the answer. Metformin is contraindicated.", DRUGS, "D", "answer_is"),
    ("Insulin would be my choice.", DRUGS, "D", "answer_is"),
    ("Sarcoidosis is correct.", DX, "A", "answer_is"),
    ("Sarcoidosis is the most likely diagnosis; tuberculosis is less likely given the negative culture.", DX, "A",
     "answer_is"),
    ("The most likely diagnosis is sarcoidosis. Tuberculosis would also present with cough.", DX, "A", "answer_is"),
    ("Metformin is the drug of choice in type 2 diabetes, but in this patient insulin is the best option.", DRUGS, "D",
     "answer_is"),
    ("Lymphoma cannot be excluded, but sarcoidosis is the best answer.", DX, "A", "answer_is"),
    # the rejecting predicate after an option
    ("Metformin is not appropriate; insulin is.", DRUGS, "D", "option_text"),
    ("Metformin is not appropriate, insulin is.", DRUGS, "D", "option_text"),
    ("Give insulin. Metformin is ruled out by the renal failure.", DRUGS, "D", "option_text"),
    ("Insulin. Metformin isn't safe here.", DRUGS, "D", "option_text"),
    ("Insulin. Metformin would not be safe with this creatinine.", DRUGS, "D", "option_text"),
    ("Insulin; metformin, which is contraindicated in renal failure, is out.", DRUGS, "D", "option_text"),
    ("Given the ketoacidosis, insulin is required; metformin has no role.", DRUGS, "D", "option_text"),
    ("Sarcoidosis. Histoplasmosis doesn't explain the hypercalcemia.", DX, "A", "option_text"),
    ("Sarcoidosis. Histoplasmosis - incorrect, no travel history.", DX, "A", "option_text"),
    ("Insulin fits, but heparin: incorrect, metformin: incorrect.", DRUGS, "D", "option_text"),
    ("Metformin is contraindicated.", DRUGS, None, "none"),
    # a negation or rejection before an option
    ("Rather than metformin, insulin.", DRUGS, "D", "option_text"),
    ("Start insulin rather than metformin.", DRUGS, "D", "option_text"),
    ("I'd go with insulin instead of metformin.", DRUGS, "D", "option_text"),
    ("Insulin, not metformin.", DRUGS, "D", "option_text"),
    ("Insulin fits; we can rule out metformin.", DRUGS, "D", "option_text"),
    ("Use insulin and avoid metformin.", DRUGS, "D", "option_text"),
    ("Stop metformin and start insulin.", DRUGS, "D", "option_text"),
    ("The answer cannot be metformin; it is insulin.", DRUGS, "D", "option_text"),
    ("It is not tuberculosis; it is sarcoidosis.", DX, "A", "option_text"),
    ("Sarcoidosis (not tuberculosis, which causes caseating granulomas).", DX, "A", "option_text"),
    # one rejection for a whole list
    ("Insulin is needed; neither aspirin nor heparin helps.", DRUGS, "D", "option_text"),
    ("Insulin. Not aspirin, heparin or metformin.", DRUGS, "D", "option_text"),
    ("Sarcoidosis fits the non-caseating granulomas; tuberculosis and lymphoma are unlikely.", DX, "A",
     "option_text"),
    ("Insulin; aspirin, heparin and metformin are all inappropriate.", DRUGS, "D", "option_text"),
    # one option preferred over another
    ("I would prefer insulin over metformin.", DRUGS, "D", "option_text"),
    ("Insulin is better than metformin here.", DRUGS, "D", "option_text"),
    ("Although lymphoma is possible, sarcoidosis is more likely than lymphoma.", DX, "A", "option_text"),
    # not rejections: double negatives, set phrases, comparisons that favour the later option
    ("Insulin fits; we cannot rule out metformin though.", DRUGS, "C", "option_text"),
    ("There is no doubt this is sarcoidosis.", DX, "A", "option_text"),
    ("There is no contraindication to metformin.", DRUGS, "C", "option_text"),
    ("Metformin is less effective than insulin here.", DRUGS, "D", "option_text"),
    ("Switch from metformin to insulin.", DRUGS, "D", "option_text"),
    ("While tuberculosis is common, sarcoidosis explains the findings.", DX, "A", "option_text"),
    ("No, the intervention did not reduce mortality.", YES_NO, "B", "option_text"),
    ("The answer is not yes but maybe.", YES_NO, "C", "answer_is"),
    # letters that are rejected
    ("(D) fits; (C) is ruled out.", DRUGS, "D", "letter"),
    ("Option D, not option C.", DRUGS, "D", "letter"),
    # option-by-option analyses
    ("A. Aspirin - incorrect\nB. Heparin - incorrect\nC. Metformin - incorrect, contraindicated\nD. Insulin - correct",
     DRUGS, "D", "answer_is"),
    ("This is diabetic ketoacidosis. Insulin corrects it. Metformin is contraindicated because of the acidosis, and "
     "aspirin and heparin do not treat hyperglycemia.", DRUGS, "D", "option_text"),
    ("Insulin (D). Metformin (C) is contraindicated in DKA.", DRUGS, "D", "letter"),
    ("The most appropriate pharmacotherapy for this patient is insulin; metformin would worsen the acidosis.", DRUGS,
     "D", "answer_is"),
    # Chinese
    ("答案不是二甲双胍，而是胰岛素。", ZH, "C", "option_text"),
    ("胰岛素。二甲双胍禁忌。", ZH, "C", "option_text"),
    ("排除二甲双胍，选择胰岛素。", ZH, "C", "option_text"),
    ("二甲双胍是错误的，胰岛素是正确答案。", ZH, "C", "answer_is"),
]

FIVE = {"A": "Aspirin", "B": "Heparin", "C": "Metformin", "D": "Insulin", "E": "Warfarin"}
FUNGI = {"A": "Toxoplasma gondii", "B": "Candida albicans", "C": "Histoplasma capsulatum",
         "D": "Cryptococcus neoformans", "E": "JC virus"}
HEP = {"A": "Primary biliary cholangitis", "B": "Primary sclerosing cholangitis", "C": "Autoimmune hepatitis",
       "D": "Hepatitis B", "E": "Chronic hepatitis C"}
# Several different answers stated: no answer (neither the first nor the last one). The same answer stated again
# is one answer; one change of mind the response marks keeps the later answer.
AMBIGUOUS = [
    # a looping model lists every option as "the answer"
    ("The answer is: 1. A.\nThe answer is: 2. B.\nThe answer is: 3. C.\nThe answer is: 4. D.\nThe answer is: 5. E.",
     FIVE, None, "ambiguous"),
    ("## Thinking\n\nDKA, so insulin.\n\n## Final Response\n\nThe answer is: A. Aspirin\nThe answer is: B. Heparin\n"
     "The answer is: C. Metformin\nThe answer is: D. Insulin\nThe answer is: E. Warfarin", FIVE, None, "ambiguous"),
    ("The answer is A. The answer is C. The answer is A.", DRUGS, None, "ambiguous"),  # first = last, still two answers
    ("The answer is C. Hmm, the answer is D.", DRUGS, None, "ambiguous"),  # a change it does not mark
    ("The answer is B. Wait, no, the answer is C. Actually, the answer is D.", DRUGS, None, "ambiguous"),  # twice
    ("Insulin is the answer. Metformin is the answer.", DRUGS, None, "ambiguous"),  # option texts
    # a real output of the demo's base model (15 of its lines): statements on the line after "is:"
    ("A. Toxoplasma gondii\n\nThe correct answer is:\nA. Toxoplasma gondii\n\nThe other options are incorrect because "
     "they do not fit the given information. The correct answer is:\nB. Candida albicans\n\nThe correct answer is:\n"
     "C. Histoplasma capsulatum\n\nThe correct answer is:\nE. JC virus\n\nThe correct answer is:\n"
     "D. Cryptococcus neoformans\n\nThe correct answer is:\nD. Cryptococcus neoformans", FUNGI, None, "ambiguous"),
    # ... and of the SFT model: a diagnosis, then another letter
    ("The most likely diagnosis is E. Chronic hepatitis C.\n\nThe answer is:\nC.\n\nThe answer is:\nC.", HEP, None,
     "ambiguous"),
    ("答案是A。答案是B。答案是C。", DRUGS, None, "ambiguous"),
    ("答案：A\n答案：D", DRUGS, None, "ambiguous"),
    ("答案是：阿司匹林。答案是：胰岛素。", ZH, None, "ambiguous"),
    # one answer, stated again and again, is one answer
    ("The answer is: C. Metformin\n\nThe answer is: C. Metformin\n\nThe answer is: C. Metformin", DRUGS, "C",
     "answer_is"),
    ("The answer is indeed A.\n\nThe answer is indeed A.\n\nThe answer is indeed A.", DRUGS, "A", "answer_is"),
    ("The answer is (C). Metformin is the answer. Final answer: C", DRUGS, "C", "answer_is"),
    ("The answer is: 1. A. Aspirin", FIVE, "A", "answer_is"),
    ("The correct answer is:\n\nD. Insulin", DRUGS, "D", "answer_is"),
    ("答案是C。综上，答案为C。", DRUGS, "C", "answer_is"),
    # other answers in the thinking, one in the final response: only the final response is read
    ("## Thinking\n\nThe answer is A. No wait, the answer is B. Or the answer is C.\n\n## Final Response\n\n"
     "The answer is D.", DRUGS, "D", "answer_is"),
    ("## Thinking\n\n答案是A？不，答案是B。\n\n## Final Response\n\n答案是D。", DRUGS, "D", "answer_is"),
    # one marked change of mind
    ("The answer is A. On second thought, the answer is D.", DRUGS, "D", "answer_is"),
    ("The answer is A. Actually the answer is D. The answer is D.", DRUGS, "D", "answer_is"),
    ("答案是A。不对，答案应该是C。", DRUGS, "C", "answer_is"),
    ("答案是A，但是正确答案为B。", DRUGS, "B", "answer_is"),
]

# Outputs in a thinking format that never reached their answer: nothing is read from the thinking.
UNFINISHED = [
    ("## Thinking\n\nThe answer is C, metformin. Wait, let me check the renal function", DRUGS, None, "none"),
    ("## Thinking\n\nMetformin is first line.", DRUGS, None, "none"),
    ("## Thinking\n\nThe answer is C.\n\n## Final Response\n\n", DRUGS, None, "none"),
    ("<think>The answer is C, metformin", DRUGS, None, "none"),
    ("<think>The answer is C.</think>\n\nThe answer is D.", DRUGS, "D", "answer_is"),
    ("</think>\n\nInsulin.", DRUGS, "D", "option_text"),  # the template opened <think> in the prompt
]


@pytest.mark.parametrize("response,options,letter,method", CASES + REJECTIONS + AMBIGUOUS + UNFINISHED)
def test_extract_answer(response, options, letter, method):
    assert extract_answer(response, options) == Extraction(letter, method)


def test_what_is_read_from_an_output():
    assert final_answer_text("## Thinking\n\nhmm\n\n## Final Response\n\nThe answer is C.") == "The answer is C."
    assert final_answer_text("## Thinking\n\nThe answer is C, but") is None  # cut off: no answer
    assert final_answer_text("## Thinking\n\nhmm\n\n## Final Response\n") == ""
    assert final_answer_text("The answer is C.") == "The answer is C."  # a plain answer is read whole
    assert final_answer_text("<think>C?</think> D") == "D" and final_answer_text("<think>C?") is None


def test_methods_are_the_documented_ones():
    seen = {extract_answer(response, options).method for response, options, _, _ in CASES}
    assert seen == set(METHODS)


def test_option_keys_may_be_lower_case():
    assert extract_answer("The answer is b.", {"a": "x", "b": "y"}) == Extraction("B", "answer_is")


def test_longer_option_text_wins_over_the_text_it_contains():
    options = {"A": "Aspirin", "B": "Aspirin and heparin"}
    assert extract_answer("Give aspirin and heparin now.", options) == Extraction("B", "option_text")
    assert extract_answer("Give aspirin now.", options) == Extraction("A", "option_text")
