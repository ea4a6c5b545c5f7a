"""Verifiers: match (no model), LLM judge over real HTTP, classifier on a tiny real checkpoint,
the reward rule, and `medo1 verifier-eval`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import InputError, Medo1Error
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from medo1.jsonl import read_jsonl
from medo1.data import VERIFIER_LABELS
from medo1.verify import (ClassifierVerifier, JudgeVerifier, LabeledVerdict, MatchVerifier, VerifierError,
                          evaluate_verifier, load_verifier, normalize_tokens, option_letter, parse_verdict, reward,
                          uncommitted)
from medo1.verify.evaluation import GROUPS, HELD_OUT, Agreement

# ---------------------------------------------------------------- match


@pytest.mark.parametrize("response, reference, expected", [
    ("The most likely diagnosis is acute myocardial infarction.", "Myocardial infarction", True),
    ("Myocardial infarctions", "myocardial infarction", True),  # plural
    ("MI", "Myocardial infarction", True),  # abbreviation
    ("Beta-blockers", "β-blocker", True),  # punctuation, Greek letter, plural
    ("The Right Coronary Artery!", "right coronary artery", True),  # case, punctuation, article
    ("An inferior STEMI from right coronary artery occlusion", "Right coronary artery", True),
    ("Give 2.5 mg intravenously", "2.5 mg", True),  # decimals survive the sentence split
    ("B. Aspirin", "Aspirin", True),  # an option label before the text
    ("The answer is (C).", "C", True),  # option letters
    ("C", "(C)", True),
    ("The answer is C.", "B", False),
    ("Acute inferior myocardial infarction", "Acute myocardial infarction", True),  # a side the reference leaves open
    ("Myocardial infarction", "Acute myocardial infarction", True),  # token F1 0.8
    ("Acute myocardial infarction", "Acute inferior myocardial infarction", False),  # its side left out
    ("**Renal tubular acidosis**\n\nProximal (type 2): bicarbonate wasting.", "Distal renal tubular acidosis", False),
    ("It is not myocardial infarction; it is pneumonia.", "Myocardial infarction", False),  # negated
    ("Not pneumonia but myocardial infarction.", "Myocardial infarction", True),
    ("Myocardial infarction was ruled out.", "Myocardial infarction", False),
    ("There is no evidence of diabetes mellitus.", "Diabetes mellitus", False),
    ("Pneumonia", "Myocardial infarction", False),
    ("Left anterior descending artery", "Right coronary artery", False),
    ("Infarction", "Myocardial infarction", False),  # half of the answer is not the answer
    ("", "Aspirin", False),
    ("Aspirin", "", False),
])
def test_match_verifier(response, reference, expected):
    assert MatchVerifier().check(response, reference) is expected


def test_match_thresholds_are_options():
    loose = MatchVerifier(min_containment=0.5, min_f1=0.5)
    assert loose.check("Infarction", "Myocardial infarction")
    assert not MatchVerifier().check("Infarction", "Myocardial infarction")


def test_normalisation_and_letters():
    assert normalize_tokens("The Beta-Blockers") == ["beta", "blocker"]
    assert normalize_tokens("COPD") == normalize_tokens("chronic obstructive pulmonary disease")
    # plurals and adjective / noun endings share a stem; Roman numerals after a qualifier are numbers
    assert normalize_tokens("Myocardial infarctions") == normalize_tokens("myocardium infarction")
    assert normalize_tokens("Type II, grade III, stage IV") == ["type", "2", "grade", "3", "stage", "4"]
    assert normalize_tokens("IV heparin") == ["intraven", "heparin"]  # not a numeral here
    assert normalize_tokens("Addison's disease") == normalize_tokens("Addison disease")
    assert option_letter("(D)") == "D" and option_letter("E. coli") == "E"
    assert option_letter("Cardiac tamponade") is None
    assert option_letter("I would say the answer is option B") == "B"


# ---------------------------------------------------------------- match: the committed answer only

def _groups(report, part):
    return report.groups()[part]


def test_match_verifier_meets_the_targets_on_the_labelled_set(bundled_report):
    """The hand-labelled set, the rows the rules were written against: free-text clinical answers, answer
    shapes that do not commit (lists, hedges, chains, questions, negations, struck text, yes-and-no, in English
    and Chinese), near misses, synonyms, letters, and long free-text final responses."""
    items = read_jsonl(VERIFIER_LABELS, LabeledVerdict)
    assert len(items) >= 550 and all(item.kind for item in items)
    report = bundled_report("match")
    assert report.n == len(items) and report.errors == 0
    tuned = {kind: counts - report.heldout_by_kind.get(kind, Agreement()) for kind, counts in report.by_kind.items()}
    groups = _groups(report, "tuned")
    assert sum(groups.values(), Agreement()).precision >= 0.97
    for kind in GROUPS["uncommitted"] + GROUPS["near miss"]:  # every row of these is wrong: at most 5% accepted
        assert tuned[kind].n and tuned[kind].accept_rate <= 0.05, kind
    # and a verifier that rejects everything is not the goal: correct answers are recalled, short and long
    assert groups["short correct"].recall >= 0.90
    assert groups["long correct"].judged >= 30 and groups["long correct"].recall >= 0.70
    assert tuned["long_uncommitted"].n >= 20 and tuned["cross_language"].accept_rate == 0.0  # documented: not confirmed


# The held-out rows (rounds written blind after the current rules) measure what no tuning saw. Each earlier round
# was measured this way before it was tuned on; precision on a fresh round of ordinary answers stayed between
# 0.89 and 0.94, and on rounds written to game the verifier (held9 … held106; held11, held21, held22, held24,
# held26, held28, held30, held32, held34, held36, held38, held40, held42, held44, held46, held48, held50, held52,
# held54, held56, held58, held60, held62, held64, held66, held68, held70, held72, held74, held76, held78, held80,
# held82, held84, held86, held88, held90, held92, held94, held96, held98, held100, held102, held104 and held106 are
# held out) between 0.60 and 1.0 (README, "the match verifier"), short of the 0.99 the tuned rows reach: rules miss
# new phrasings of near misses and doubts. These floors are the figures measured on the held-out rows with the rules of the day (0.952, 2.7%, 6.5%, 88.7%, 78.9%;
# the long correct answers of held32 to held106, recalled 15 to 30 times of 32, brought the last one down from 90.5%,
# and held86's clinic letters to a GP the short ones, 36 of 60): a change that loses ground on text it never saw
# fails here. Per kind they are reported, not asserted (a few rows each).
HELD_OUT_TARGETS = {"precision": 0.952, "uncommitted": 0.027, "near miss": 0.066, "short correct": 0.887,
                    "long correct": 0.788}


def test_match_verifier_on_the_held_out_rows(bundled_report):
    """The rows written after the rules (ids starting with HELD_OUT), never tuned on, measured apart."""
    report = bundled_report("match")
    held = _groups(report, "held-out")
    assert sum(held.values(), Agreement()).precision >= HELD_OUT_TARGETS["precision"]
    assert held["uncommitted"].accept_rate <= HELD_OUT_TARGETS["uncommitted"]
    assert held["near miss"].accept_rate <= HELD_OUT_TARGETS["near miss"]
    assert held["short correct"].recall >= HELD_OUT_TARGETS["short correct"]
    assert held["long correct"].recall >= HELD_OUT_TARGETS["long correct"]


@pytest.mark.parametrize("response, reference, expected", [
    ("This could be acute pancreatitis or a perforated peptic ulcer.", "Acute pancreatitis", False),
    ("It is either Crohn disease or ulcerative colitis.", "Crohn disease", False),
    ("Meningioma vs schwannoma; imaging cannot tell.", "Meningioma", False),
    ("The differential includes myocardial infarction, aortic dissection, and pulmonary embolism.",
     "Pulmonary embolism", False),
    ("Type 1 or type 2 diabetes mellitus.", "Type 1 diabetes mellitus", False),
    ("Staphylococcus aureus / Streptococcus pyogenes.", "Staphylococcus aureus", False),
    ("The dose is 5-10 mg.", "10 mg", False),  # a range for a single value
    ("Give between 20 and 40 mg daily.", "40 mg", False),
    ("Grade II-III astrocytoma.", "Grade II astrocytoma", False),
    ("The dose is 5-10 mg.", "5-10 mg", True),  # unless the reference is the range
    ("The dose is 10 mg.", "10 mg", True),
    # "or" and ranges elsewhere in the sentence do not hedge the answer
    ("Final answer: an ectopic pregnancy, treated with methotrexate or surgery.", "Ectopic pregnancy", True),
    ("Give 0.5 mg of atropine, repeated every 3-5 minutes.", "0.5 mg atropine", True),
])
def test_match_hedges_are_not_correct(response, reference, expected):
    assert MatchVerifier().check(response, reference) is expected


@pytest.mark.parametrize("response, reference, expected", [
    ("Aortic dissection is unlikely given the equal pulses; the answer is acute coronary syndrome.",
     "Aortic dissection", False),
    ("Aortic dissection is unlikely given the equal pulses; the answer is acute coronary syndrome.",
     "Acute coronary syndrome", True),
    ("Although tuberculosis was considered, the non-caseating granulomas make sarcoidosis the diagnosis.",
     "Tuberculosis", False),
    ("Although tuberculosis was considered, the non-caseating granulomas make sarcoidosis the diagnosis.",
     "Sarcoidosis", True),
    ("The answer is hypothyroidism, not depression.", "Depression", False),
    ("The answer is hypothyroidism, not depression.", "Hypothyroidism", True),
    ("Rather than multiple sclerosis, the findings indicate neuromyelitis optica.", "Multiple sclerosis", False),
    ("Hyperkalemia is not the cause of these changes; hypokalemia is.", "Hyperkalemia", False),
    ("Hyperkalemia is not the cause of these changes; hypokalemia is.", "Hypokalemia", True),
    ("Appendicitis seems less likely than mesenteric adenitis.", "Appendicitis", False),
    ("Appendicitis seems less likely than mesenteric adenitis.", "Mesenteric adenitis", True),
    ("Multiple myeloma has been excluded by the normal electrophoresis.", "Multiple myeloma", False),
    ("Wilson disease is a consideration, but the normal ceruloplasmin argues against it.", "Wilson disease", False),
    ("Streptococcus pneumoniae is the commonest cause overall, but here the most likely organism is Klebsiella "
     "pneumoniae.", "Streptococcus pneumoniae", False),
    ("The most likely diagnosis is acute appendicitis, although ovarian torsion should be excluded.",
     "Acute appendicitis", True),
    ("The most likely diagnosis is acute appendicitis, although ovarian torsion should be excluded.",
     "Ovarian torsion", False),
    ("Ceftriaxone is contraindicated in this neonate; use cefotaxime instead.", "Cefotaxime", True),
    ("Type 2 diabetes is unlikely.", "Type 2 diabetes mellitus", False),  # a partial match is rejected too
    ("There is no doubt that this is Kawasaki disease.", "Kawasaki disease", True),
])
def test_match_rejected_or_conceded_mentions_are_not_correct(response, reference, expected):
    assert MatchVerifier().check(response, reference) is expected


@pytest.mark.parametrize("response, reference", [
    ("Type 2 diabetes mellitus.", "Type 1 diabetes mellitus"),
    ("The patient has chronic hepatitis C infection.", "Hepatitis B"),
    ("Small cell lung carcinoma.", "Non-small cell lung carcinoma"),
    ("The most likely diagnosis is non-small cell lung carcinoma.", "Small cell lung carcinoma"),
    ("Non-Hodgkin lymphoma.", "Hodgkin lymphoma"),
    ("Grade III astrocytoma.", "Grade II astrocytoma"),
    ("Stage 4 chronic kidney disease.", "Stage 3 chronic kidney disease"),
    ("The correct dose is 250 mg.", "25 mg"),
    ("Vitamin B6 deficiency.", "Vitamin B12 deficiency"),
    ("The lesion is in the right middle cerebral artery territory.", "Left middle cerebral artery"),
    ("An upper motor neuron lesion.", "Lower motor neuron lesion"),
    ("Hyperthyroidism.", "Hypothyroidism"),
    ("Type A aortic dissection.", "Type B aortic dissection"),
    ("Second-degree heart block, Mobitz type II.", "Mobitz type I second-degree heart block"),
])
def test_match_near_misses_are_not_correct(response, reference):
    assert MatchVerifier().check(response, reference) is False


@pytest.mark.parametrize("response, reference, expected", [
    ("Grade III hypertensive retinopathy.", "Grade 3 hypertensive retinopathy", True),
    ("Type II diabetes mellitus.", "Type 2 diabetes mellitus", True),
    ("The patient has stage IV non-small cell lung cancer.", "Stage 4 NSCLC", True),
    ("Cranial nerve VI palsy.", "Cranial nerve III palsy", False),
    ("Type II hypersensitivity reaction.", "Type IV hypersensitivity reaction", False),
    ("Give IV heparin.", "Intravenous heparin", True),  # IV here is a route, not a numeral
])
def test_match_roman_numerals(response, reference, expected):
    assert MatchVerifier().check(response, reference) is expected


THOUGHT_OF_B12 = "Vitamin B12 deficiency fits the neuropathy, but the MMA is normal and folate is low."
CHOSE_B12 = "Folate looked possible at first, but the methylmalonic acid is high."


@pytest.mark.parametrize("response, reference, expected", [
    (f"## Thinking\n\n{THOUGHT_OF_B12}\n\n## Final Response\n\nFolate deficiency.", "Vitamin B12 deficiency", False),
    (f"## Thinking\n\n{CHOSE_B12}\n\n## Final Response\n\nVitamin B12 deficiency.", "Vitamin B12 deficiency", True),
    (f"## Thinking\n\n{CHOSE_B12}\n\n## Final Response\n\nVitamin B12 deficiency.", "Folate deficiency", False),
    # the last explicit answer statement is the one that counts
    ("At first the answer seemed to be folate deficiency. The final answer is vitamin B12 deficiency.",
     "Folate deficiency", False),
    ("At first the answer seemed to be folate deficiency. The final answer is vitamin B12 deficiency.",
     "Vitamin B12 deficiency", True),
    # a search conclusion: the answer with its reasons
    ("The most likely diagnosis is vitamin B12 deficiency, given the macrocytosis, the neuropathy and the raised "
     "methylmalonic acid.", "Vitamin B12 deficiency", True),
    ("The findings are most consistent with pernicious anemia. Folate deficiency would not raise the MMA.",
     "Folate deficiency", False),
    # a conclusion after the answer statement still counts (diagnosis, then treatment)
    ("The diagnosis is pernicious anemia. The treatment of choice is intramuscular vitamin B12.",
     "Intramuscular vitamin B12", True),
])
def test_match_compares_the_committed_answer(response, reference, expected):
    assert MatchVerifier().check(response, reference) is expected


@pytest.mark.parametrize("response, reference, expected", [
    ("The answer is not A; it is C.", "A", False),
    ("The answer is not A; it is C.", "C", True),
    ("I would choose option B over option D.", "D", False),
    ("A or C", "A", False),
    ("Both A and B are correct.", "A", False),
    ("Answer: (D) Amiodarone", "D", True),
    ("E. coli is the causative organism.", "E", False),
    ("## Thinking\n\nOption B is tempting.\n\n## Final Response\n\nThe answer is D.", "B", False),
    ("A is incorrect; C is correct.", "C", True),
    ("A is incorrect; C is correct.", "A", False),
])
def test_match_option_letters_are_committed_too(response, reference, expected):
    assert MatchVerifier().check(response, reference) is expected


def test_match_compares_chinese_answers_by_character():
    match = MatchVerifier()
    assert match.check("答案是维生素B12缺乏。", "维生素B12缺乏")
    assert not match.check("最可能的诊断是急性胰腺炎。", "急性阑尾炎")


# ---------------------------------------------------------------- match: one committed answer, adversarially

MI, MI_ZH = "Myocardial infarction", "心肌梗死"
# Answer shapes a policy under RL would find, each naming the reference without committing to it, and
# the reason `uncommitted` gives without the reference (None: it commits, but not to the reference).
NOT_COMMITTED = [
    # lists
    ("dissection, PE, MI, and pneumothorax", MI, "list"),
    ("- Aortic dissection\n- Pulmonary embolism\n- Myocardial infarction", MI, "list"),
    ("Aortic dissection\nPulmonary embolism\nMyocardial infarction", MI, "list"),
    ("1. Myocardial infarction\n2. Pericarditis", MI, "list"),
    ("Myocardial infarction plus pulmonary embolism.", MI, "list"),
    ("Pulmonary embolism; aortic dissection; myocardial infarction.", MI, "list"),
    ("MI and PE", MI, "list"),
    ("MI, PE.", MI, "list"),
    ("Myocardial infarction + pulmonary embolism", MI, "list"),
    ("Final answer: myocardial infarction as well as pericarditis.", MI, "list"),
    ("主动脉夹层、肺栓塞、心肌梗死和气胸。", MI_ZH, "list"),
    ("- 心肌梗死\n- 肺栓塞", MI_ZH, "list"),
    ("心肌梗死与肺栓塞。", MI_ZH, "list"),
    # chains of conclusions, each counted alone until now
    ("The answer is A. Thus B. Thus MI.", MI, "chain"),
    ("The answer is pneumonia. Thus pericarditis. Thus myocardial infarction.", MI, "chain"),
    ("Final answer: aortic dissection. Final answer: myocardial infarction.", MI, "chain"),
    ("答案是肺炎。因此心包炎。因此心肌梗死。", MI_ZH, "chain"),
    ("Thus pulmonary embolism; thus myocardial infarction.", MI, "chain"),  # a chain inside one sentence
    ("Crushing pain with ST elevation, so myocardial infarction. Therefore pulmonary embolism.", MI, "chain"),
    ("Nephrotic syndrome is likely. Thus nephrotic syndrome; thus nephritic syndrome; more tests are needed.",
     "Nephrotic syndrome", "chain"),
    # negations
    ("MI is absent.", MI, "negation"),
    ("I doubt it is MI.", MI, "negation"),
    ("It is false that this is MI.", MI, "negation"),
    ("MI: unlikely", MI, "negation"),
    ("Myocardial infarction has been excluded.", MI, "negation"),
    ("No evidence of myocardial infarction.", MI, "negation"),
    ("Ruled out: myocardial infarction.", MI, "negation"),  # a label that rejects what follows it
    ("排除：心肌梗死", MI_ZH, "negation"),
    ("排除心肌梗死。", MI_ZH, "negation"),
    ("心肌梗死可能性小。", MI_ZH, "negation"),
    ("答案不是心肌梗死，而是肺栓塞。", MI_ZH, None),
    # questions
    ("Is it MI?", MI, "question"),
    ("MI? No.", MI, "question"),
    ("Myocardial infarction?", MI, "question"),
    ("是心肌梗死吗？", MI_ZH, "question"),
    # possibility words
    ("This could be MI.", MI, "hedge"),
    ("It may be a myocardial infarction.", MI, "hedge"),
    ("Possibly myocardial infarction.", MI, "hedge"),
    ("Consider myocardial infarction.", MI, "hedge"),
    ("Myocardial infarction cannot be excluded.", MI, "hedge"),
    ("可能是心肌梗死。", MI_ZH, "hedge"),
    ("考虑心肌梗死。", MI_ZH, "hedge"),
    ("心肌梗死或肺栓塞。", MI_ZH, "hedge"),
    # struck-through text
    ("~~MI~~ PE", MI, "strikethrough"),
    ("~~Pulmonary embolism~~ Myocardial infarction", MI, "strikethrough"),
    ("<del>Pulmonary embolism</del> Myocardial infarction", MI, "strikethrough"),
    ("M̶I̶ Pericarditis", MI, "strikethrough"),
    ("~~肺栓塞~~ 心肌梗死", MI_ZH, "strikethrough"),
    # yes / no references answered both ways
    ("Yes. No.", "Yes", "yes_no"),
    ("Yes and no.", "Yes", "yes_no"),
    ("No. Yes.", "No", "yes_no"),
    ("是。否。", "是", "yes_no"),
    ("It depends: yes if the fracture is displaced, no if it is not.", "Yes", "yes_no"),  # conditional answers
    ("Yes for adults, but no in children under two.", "No", "yes_no"),
    # doubt after the answer, and a negation word said of the answer
    ("The biopsy favours dermatomyositis, so the answer is dermatomyositis. On reflection, the rash was never seen "
     "and I am no longer sure which of the two it is.", "Dermatomyositis", "hedge"),
    ("Tearing pain points to aortic dissection; an acute coronary syndrome fits the troponin. Both remain on the "
     "table.", "Aortic dissection", "hedge"),
    ("Fluid restriction is inappropriate here.", "Fluid restriction", "negation"),
    ("不应选用华法林。", "华法林", "negation"),
    # another candidate left open after the answer, the answer held back or withdrawn
    ("Myocardial infarction. Pulmonary embolism is also possible.", MI, "hedge"),
    ("MI. Pericarditis would fit too.", MI, "hedge"),
    ("Probably myocardial infarction, but I'd want a troponin before committing.", MI, "hedge"),
    ("初步诊断为心肌梗死。因此我收回上述结论，更倾向于肺栓塞。", MI_ZH, "hedge"),
    ("Myocardial infarction, pulmonary embolism and aortic dissection would all fit this pain.", MI, "hedge"),
    ("Myocardial infarction is the textbook answer here, but I'll go with pericarditis instead.", MI, None),
    ("The answer is minimal change disease. On reflection, the hematuria does not fit. So I'd go with FSGS.",
     "Minimal change disease", None),  # "I'd go with" states the answer
    ("The most likely diagnosis is sarcoidosis, but I won't give a final diagnosis before the biopsy.", "Sarcoidosis",
     "hedge"),
    ("初步考虑为良性前列腺增生。但PSA明显升高，在活检结果出来之前，我不会给出最终诊断。", "良性前列腺增生", "hedge"),
    ("本题体现的伦理原则既有尊重原则，也有有利原则，二者难分主次。", "尊重原则", "hedge"),
    # a course of several conditions, two at once, a query mark, conditions on the answer
    ("Pulmonary embolism → **myocardial infarction** → cardiogenic shock.", MI, "chain"),
    ("慢性乙型肝炎 → 肝硬化 → 原发性肝癌。", "肝硬化", "chain"),
    ("Myocardial infarction, leading on to cardiogenic shock and then ventricular fibrillation.", MI, "chain"),
    ("Aspiration pneumonia evolving into a lung abscess.", "Lung abscess", "chain"),
    ("Putting it together, the answer is an overlap syndrome: autoimmune hepatitis with primary biliary "
     "cholangitis features.", "Autoimmune hepatitis", "list"),
    ("故本例为肺结核合并肺鳞癌，两种病变并存。", "肺结核", "list"),
    ("Impression: ?myocardial infarction (troponin pending).", MI, "hedge"),
    ("Answer: iron deficiency anaemia — provided the ferritin comes back low.", "Iron deficiency anaemia", "hedge"),
    ("If the biopsy shows absent ganglion cells, the answer is Hirschsprung disease.", "Hirschsprung disease", "hedge"),
    ("Bipolar I disorder is a fair bet, but stimulant-induced mania explains everything equally well.",
     "Bipolar I disorder", "hedge"),
    ("Yes at the 5% level; after the Bonferroni correction it falls short, so it can't be settled from what's given.",
     "Yes", "hedge"),
    ("答案：支气管哮喘（拟诊，待支气管舒张试验结果回报后再确定）。", "支气管哮喘", "hedge"),
    ("这些表现符合创伤后应激障碍。那么，这究竟是创伤后应激障碍，还是抑郁发作呢？", "创伤后应激障碍", "hedge"),
    ("Appendicitis was the obvious call at first. Weighing the ultrasound, mesenteric adenitis is what I'd put down.",
     "Appendicitis", None),  # "… is what I'd put down" states the answer
    ("病情已进展为尿源性脓毒症。故当前诊断应为感染性休克。", "急性肾盂肾炎", None),
    # answers given for now, alternatives kept in play, lists under a plural label, retractions
    ("Tentative answer: **Bell's palsy**.", "Bell's palsy", "hedge"),
    ("The culprit is presumably amiodarone, given the blue-grey skin.", "Amiodarone", "hedge"),
    ("Painful bleeding with a rigid uterus: placental abruption, I'd guess.", "Placental abruption", "hedge"),
    ("Diagnosis: Lyme disease, at least as a working hypothesis.", "Lyme disease", "hedge"),
    ("Consistent with toxoplasmosis, though CNS lymphoma stays in play.", "Toxoplasmosis", "hedge"),
    ("**Metformin**, with a GLP-1 receptor agonist an equally valid first choice.", "Metformin", "hedge"),
    ("Diagnoses to act on: ectopic pregnancy; ruptured corpus luteum cyst. Both warrant an urgent ultrasound.",
     "Ectopic pregnancy", "list"),
    ("Graves disease — scratch that; the uptake is suppressed, which is subacute thyroiditis.", "Graves disease",
     "hedge"),
    ("A boot-shaped heart would point to tetralogy of Fallot, but this film takes tetralogy of Fallot off the table.",
     "Tetralogy of Fallot", "negation"),
    ("答案暂定嗜铬细胞瘤；若血浆甲氧基肾上腺素正常，则需另作考虑。", "嗜铬细胞瘤", "hedge"),
    ("Presumably serotonin syndrome, though the clonus is subtle.", "Serotonin syndrome", "hedge"),
    ("**Answer: probably nephrolithiasis**", "Nephrolithiasis", "hedge"),
    ("Greasy scale on the nasolabial folds — seborrheic dermatitis, I suspect.", "Seborrheic dermatitis", "hedge"),
    ("Working diagnosis, to be revisited once the renin comes back: scleroderma renal crisis.",
     "Scleroderma renal crisis", "hedge"),
    ("Final answer: urgent surgical exploration for suspected necrotizing fasciitis.", "Necrotizing fasciitis",
     "hedge"),
    ("My first instinct was anterior uveitis, but the pressure is 58 mmHg — revising that to acute angle-closure "
     "glaucoma.", "Anterior uveitis", "hedge"),
    ("Epiglottitis was my initial read. Scrap that: the steeple sign means croup.", "Epiglottitis", "hedge"),
    ("Final answer: Staphylococcus aureus.\n\nCorrection after rereading the stem: the organism is Bacillus cereus.",
     "Staphylococcus aureus", "hedge"),
    ("Treating without consent: yes, if hospital policy allows it.", "Yes", "hedge"),
    ("**Diagnosis: Pneumocystis pneumonia** — I'd want a lavage before standing behind it.", "Pneumocystis pneumonia",
     "hedge"),
    ("Osteoporotic vertebral fracture heads the list, with myeloma and metastasis close behind.",
     "Osteoporotic vertebral fracture", "hedge"),
    ("初步印象为阿尔茨海默病，确诊尚需头颅MRI。", "阿尔茨海默病", "hedge"),
    ("本题在保密原则与保护第三方之间各有道理，难以断然取舍。", "保密原则", "hedge"),
    # no final answer at all
    ("<think>The pain radiates to the arm; myocardial infarction", MI, "no_answer"),
    ("## Thinking\n\nST elevation in II, III, aVF: myocardial infarction", MI, "no_answer"),
]


@pytest.mark.parametrize("response, reference, reason", NOT_COMMITTED)
def test_match_does_not_reward_answers_that_do_not_commit(response, reference, reason):
    assert MatchVerifier().check(response, reference) is False
    assert uncommitted(response) == reason


@pytest.mark.parametrize("response, reference", [
    ("The answer is portal hypertension.", "Hypertension"),  # the reference inside a longer entity
    ("Pulmonary hypertension secondary to thromboembolic disease.", "Hypertension"),
    ("The most likely diagnosis is aplastic anemia.", "Anemia"),
    ("Anemia of chronic disease with folate deficiency and iron overload.", "Iron deficiency anemia"),  # scattered
    ("Cardiac tamponade leading to respiratory arrest.", "Cardiac arrest"),
    ("Iron overload with folate deficiency.", "Iron deficiency"),  # in order, two things joined by "with"
    ("The hypoglycemia comes from tumor secretion of insulin-like growth factor 2.", "Insulin"),  # "-like"
    ("Haloperidol would worsen the parkinsonism here; the better choice is quetiapine.", "Haloperidol"),  # before
    ("Vitamin K antagonist.", "Vitamin K"),  # what acts on it
    ("Olfactory neuroblastoma.", "Neuroblastoma"),
    ("Central retinal vein occlusion.", "Central retinal artery occlusion"),
    # the sentence's answer statement: not its answer
    ("Vitamin D excess after B12 deficiency.", "Vitamin B12 deficiency"),
    ("Large bowel obstruction from a small sigmoid tumor.", "Small bowel obstruction"),
    ("The needle is angled 10° below the horizontal plane.", "10° above the horizontal plane"),  # direction
    ("Decreased cardiac output.", "Increased cardiac output"),
    ("Low TSH with a high free T4.", "Elevated TSH"),
    ("The distal tubule.", "Proximal tubule"),
    ("Medial epicondyle.", "Lateral epicondyle"),
    ("Gram-negative cocci.", "Gram-positive cocci"),
    ("**Cutaneous systemic sclerosis**\n\nOpinion: skin thickening onto the trunk — diffuse cutaneous systemic "
     "sclerosis.", "Limited cutaneous systemic sclerosis"),
    ("The upper lobe of the right lung.", "Lower lobe of the right lung"),
    ("梗死心肌", MI_ZH),  # the characters in another order
    ("非霍奇金淋巴瘤", "霍奇金淋巴瘤"),
    ("Answer: pre-eclampsia.", "Eclampsia"),  # a prefix joined to it
    ("Post-polio syndrome.", "Polio"),
    ("Cholangiocarcinoma arising in primary sclerosing cholangitis.", "Primary sclerosing cholangitis"),  # arises in it
    ("诊断：心源性哮喘。", "哮喘"),  # a "…性" word that is not a named qualifier
    ("诊断为病毒性心肌炎。", "心肌炎"),
    ("先兆子痫。", "子痫"),
    ("Answer: subcutaneous emphysema", "Emphysema"),  # a site, not a route
    ("Post-treatment Lyme disease syndrome.", "Lyme disease"),  # a prefix joined to the word before it
    ("This wheeze is cardiac asthma from acute left ventricular failure.", "Asthma"),  # -ac adjectives
    ("Malignant otitis externa.", "Otitis externa"),  # "malignant" before what is not a tumour
    ("Primary sclerosing cholangitis.", "Cholangitis"),  # -ing adjectives
    ("Smouldering multiple myeloma.", "Multiple myeloma"),
    ("Drug-induced immune thrombocytopenia.", "Immune thrombocytopenia"),  # -induced / -mediated compounds
    ("Atypical (complement-mediated) haemolytic uraemic syndrome.", "Haemolytic uraemic syndrome"),
    ("Bronchiolitis obliterans.", "Bronchiolitis"),  # a Latin adjective after it
    ("Cystic fibrosis presenting as meconium ileus.", "Meconium ileus"),  # a head that presents as it
    ("Sudden confusion on a sweltering afternoon: this is heat stroke.", "Stroke"),  # a listed trap (`confusables`)
    ("Diabetes insipidus.", "Diabetes"),
    ("Diagnosis: lichen planus pemphigoides.", "Lichen planus"),
    ("Sjögren–Larsson syndrome.", "Sjögren syndrome"),  # a second name joined by a dash
    ("Answer: branch retinal vein occlusion.", "Central retinal vein occlusion"),  # central vs branch
])
def test_match_near_misses_of_one_word_or_one_entity(response, reference):
    assert MatchVerifier().check(response, reference) is False


@pytest.mark.parametrize("response, reference", [
    ("Myocardial infarction.", MI),
    ("**Myocardial infarction**", MI),
    ("Final answer: myocardial infarction", MI),
    ("Answer: **acute MI**", MI),
    ("Myocardial infarction; pulmonary embolism does not fit the ECG.", MI),
    ("Not pulmonary embolism but myocardial infarction.", MI),
    ("Myocardial infarction, not pericarditis.", MI),
    ("It is an MI rather than unstable angina.", MI),
    ("There is no doubt that this is a myocardial infarction.", MI),
    ("The most likely diagnosis is an acute inferior MI.", MI),  # a named qualifier before it
    ("## Final answer\n\nPulmonary embolism", "Pulmonary embolism"),
    ("Hereditary hemochromatosis.", "Hemochromatosis"),
    ("An inferior STEMI from right coronary artery occlusion.", "Right coronary artery"),  # a head noun after it
    ("The patient has a deficiency of vitamin B12.", "Vitamin B12 deficiency"),  # turned around "of"
    ("Acute myeloid leukemia, M3 subtype.", "Acute myeloid leukemia"),  # a refinement after a comma
    ("The answer is D, amiodarone.", "D"),
    ("The least likely cause is hypermagnesemia; hypermagnesemia is not as plausible as hypoglycemia.",
     "Hypermagnesemia"),  # an "except / least likely" question: the answer is the one that does not fit
    ("Yes, statins reduce the risk of a second stroke.", "Yes"),
    ("No, this does not require antibiotics.", "No"),
    ("Aspirin, given the chest pain.", "Aspirin"),
    ("Give aspirin now.", "Aspirin"),
    ("The diagnosis is pernicious anemia. The treatment of choice is intramuscular vitamin B12.",
     "Intramuscular vitamin B12"),  # two questions answered, not a chain
    ("At first the answer seemed to be folate deficiency. Actually, the answer is vitamin B12 deficiency.",
     "Vitamin B12 deficiency"),  # a revision, not a chain
    ("心肌梗死。", MI_ZH),
    ("最可能的诊断是急性心肌梗死。", MI_ZH),
    ("不是肺栓塞，而是心肌梗死。", MI_ZH),
    ("考虑为急性心肌梗死。", MI_ZH),
    ("该患者为甲状腺危象，由肺炎诱发。", "甲状腺危象"),
    ("是。", "是"),
    ("正确答案是B。", "B"),
    ("最可能的诊断是心肌梗死，肺栓塞不符合。", MI_ZH),  # a rejected alternative after a comma
    ("The diagnosis is LEMS.", "Lambert-Eaton myasthenic syndrome"),  # initials in capitals
    ("Churg-Strauss syndrome.", "Eosinophilic granulomatosis with polyangiitis"),  # another name (`synonyms`)
    ("The answer is vitamin B1.", "Thiamine"),
    ("Paracetamol overdose.", "Acetaminophen toxicity"),
    ("This pattern is characteristic of SIADH, most likely due to ectopic ADH secretion by a small cell carcinoma.",
     "Syndrome of inappropriate antidiuretic hormone secretion"),
    ("The most likely diagnosis is placenta previa, and a digital examination must be avoided.", "Placenta previa"),
    ("Folate deficiency is therefore the least likely cause of this microcytic anemia.", "Folate deficiency"),
    ("原发性三叉神经痛的首选治疗药物是卡马西平。", "卡马西平"),
    ("The first-line pharmacotherapy is an SSRI such as fluoxetine or sertraline.",  # examples, not alternatives
     "Selective serotonin reuptake inhibitor"),
    ("The drug that reverses even a profound block is sugammadex, so that is the agent to give.", "Sugammadex"),
    ("伸直型桡骨远端骨折，即Colles骨折。", "Colles骨折"),  # "that is": one answer renamed
    ("### Reasoning\nA first-born girl, breech. The femoral head is not yet ossified, so ultrasound rather than "
     "radiography is the investigation of choice, and a Pavlik harness is first-line treatment.\n\n"
     "### Final Answer\nDevelopmental dysplasia of the hip (DDH).", "Developmental dysplasia of the hip"),
    ("Tinea versicolor.", "Pityriasis versicolor"),
    ("Syndrome of inappropriate antidiuretic hormone secretion.", "SIADH"),  # "inappropriate" names, not negates
    ("黏膜弥漫性充血、糜烂。回肠末段正常。综上，诊断为溃疡性结肠炎。", "溃疡性结肠炎"),  # 综上 starts a statement
    ("诊断为急性心肌梗死。", MI_ZH),  # a named Chinese qualifier
    ("The disorder is X-linked with anticipation.\n\n**Fragile X syndrome**", "Fragile X syndrome"),  # closing bold
    ("Acute extradural haematoma.", "Epidural hematoma"),
    ("Suxamethonium.", "Succinylcholine"),
    ("Thromboangiitis obliterans.", "Buerger disease"),
    ("Constrictive pericarditis, rather than restrictive cardiomyopathy. The pericardium is thickened and calcified.",
     "Constrictive pericarditis"),  # the answer first, then its explanation
    ("HCM. The murmur gets louder with Valsalva.", "Hypertrophic cardiomyopathy"),
    ("## Most likely organism\n\n*Staphylococcus aureus*", "Staphylococcus aureus"),  # a heading that names the slot
    ("The diagnosis is infective endocarditis, right-sided in this case.", "Infective endocarditis"),
    ("The diagnosis is Hirschsprung disease, to be confirmed by a rectal biopsy showing absent ganglion cells.",
     "Hirschsprung disease"),
    ("Every element of the ABCDE rule is present. The picture is that of melanoma. An excisional biopsy is the next "
     "step.", "Melanoma"),
    ("MI. PE could also explain the pain, but the D-dimer is normal.", MI),  # an alternative dismissed
    ("血糖22.6 mmol/L，尿酮体强阳性。本例应诊断为糖尿病酮症酸中毒（DKA）。", "糖尿病酮症酸中毒"),
    ("答案：慢阻肺。", "慢性阻塞性肺疾病"),
    ("Von Gierke disease.", "Glucose-6-phosphatase deficiency"),
    ("Malignant melanoma.", "Melanoma"),
    ("In a child with normal complement and no hematuria, the most likely cause is minimal change disease.",
     "Minimal change disease"),  # the negation is before the answer statement
    ("血浆渗透压降低，下丘脑渗透压感受器受到的刺激减弱，抗利尿激素随之减少。因此尿量增多的主要原因是抗利尿激素分泌减少。",
     "抗利尿激素分泌减少"),
    ("Coombs试验阴性，可以排除自身免疫性溶血性贫血。结论：阵发性睡眠性血红蛋白尿症（PNH）。", "阵发性睡眠性血红蛋白尿症"),
    ("Sipple syndrome.", "Multiple endocrine neoplasia type 2A"),
    ("Primary adrenal insufficiency.", "Addison disease"),
    ("诊断为甲亢。", "甲状腺功能亢进症"),
    ("X-linked agammaglobulinemia.", "Bruton agammaglobulinemia"),
    ("The answer is SCFE.", "Slipped capital femoral epiphysis"),
    ("The patient has a deficiency of thiamine, leading to Wernicke encephalopathy.", "Thiamine deficiency"),
    ("A bleeding peptic ulcer.", "Peptic ulcer"),  # an -ing word that is not a kind
    ("Answer → ceftriaxone, 500 mg IM as a single dose.", "Ceftriaxone"),  # an arrow after a label is no course
    ("This delayed, presumably autoimmune pericarditis is Dressler syndrome.", "Dressler syndrome"),  # of the subject
    ("The irregular rhythm with no discernible P waves indicates atrial fibrillation.", "Atrial fibrillation"),
    ("This is stress-induced cardiomyopathy.", "Takotsubo cardiomyopathy"),
    ("Diabetes insipidus.", "Diabetes insipidus"),
    ("I initially suspected a migraine, but the thunderclap onset makes subarachnoid hemorrhage the most likely "
     "diagnosis.", "Subarachnoid hemorrhage"),  # a suspicion set aside is not a tentative answer
    ("The attic retraction pocket with keratin debris is a cholesteatoma.", "Cholesteatoma"),  # not "retract that"
    ("Alcohol withdrawal.", "Alcohol withdrawal"),
    ("Guillain-Barré syndrome.", "Guillain-Barre syndrome"),
    ("The diagnosis is Bechterew's disease.", "Ankylosing spondylitis"),
    ("This is Lyell syndrome.", "Toxic epidermal necrolysis"),
    ("Paget's disease of bone.", "Osteitis deformans"),
    ("I'm calling this melanoma and arranging an excision.", "Melanoma"),
    ("Improvement after a lumbar tap confirms normal pressure hydrocephalus.", "Normal pressure hydrocephalus"),
    ("A raised aldosterone-to-renin ratio makes this primary hyperaldosteronism.", "Primary hyperaldosteronism"),
    ("The blood gas shows a respiratory alkalosis coexisting with a metabolic acidosis. Putting it together, this is "
     "salicylate toxicity, and she needs urine alkalinisation.", "Salicylate toxicity"),
    ("The ST changes in II, III and aVF indicate an inferior myocardial infarction.", MI),
])
def test_match_still_rewards_a_committed_answer(response, reference):
    assert MatchVerifier().check(response, reference) is True
    assert uncommitted(response) is None


LONG_COMMIT = (
    "Looking at each option, hypoglycemia, hypocalcemia and hyponatremia can all produce tremor, confusion and "
    "seizures in a patient with this history. In contrast, the least likely cause of her symptoms would be "
    "hypermagnesemia, which depresses neuromuscular transmission and causes hyporeflexia rather than tremor. Given "
    "the clinical picture, hypermagnesemia is not as plausible as hypoglycemia.")
LONG_UNCOMMITTED = (
    "Chest pain in this patient has a broad differential. Myocardial infarction is possible given his risk factors. "
    "However, pericarditis could produce similar ST changes, and pulmonary embolism remains on the list after his "
    "recent surgery. I would obtain troponins, an echocardiogram and a CT pulmonary angiogram to distinguish them.")


LONG_CLOSING = (  # no answer statement: the last sentence names what the case is
    "Three weeks after an anterior infarction he has fever, pleuritic pain that eases on leaning forward and a "
    "friction rub. There is no new murmur, and the troponin is falling. Early pericarditis would have come within "
    "days. This delayed, presumably immune pericarditis is Dressler syndrome.")
LONG_WAVERING = (  # commits, then doubts its own answer
    "Painful ophthalmoplegia with cavernous sinus enhancement that melts away on steroids is classic. The most "
    "likely diagnosis is Tolosa-Hunt syndrome. However, a lymphoma can respond to steroids too, so I cannot be "
    "confident without a biopsy.")


@pytest.mark.parametrize("response, reference, correct, reason", [
    (LONG_COMMIT, "Hypermagnesemia", True, None),
    (LONG_UNCOMMITTED, MI, False, "hedge"),
    (LONG_CLOSING, "Dressler syndrome", True, None),
    (LONG_WAVERING, "Tolosa-Hunt syndrome", False, "hedge"),
    ("首先考虑肺炎克雷伯菌肺炎。不过金黄色葡萄球菌肺炎也可有肺实变，二者均有可能。", "肺炎克雷伯菌肺炎", False, "hedge"),
    ("**Final answer: Neuroleptic malignant syndrome**\n\nFever and lead-pipe rigidity after haloperidol. But he also "
     "takes linezolid, so I cannot say with confidence which of the two it is.", "Neuroleptic malignant syndrome",
     False, "hedge"),
    ("倾向于良性阵发性位置性眩晕。", "良性阵发性位置性眩晕", False, "hedge"),
    ("Sheehan syndrome, though lymphocytic hypophysitis could equally explain it.", "Sheehan syndrome", False,
     "hedge"),
    (("This meets the criteria for schizophrenia. Schizoaffective disorder could be the intended answer instead, "
      "and I could see it going either way."), "Schizophrenia", False, "hedge"),
])
def test_match_reads_long_free_text_answers(response, reference, correct, reason):
    assert MatchVerifier().check(response, reference) is correct
    assert uncommitted(response) == reason


@pytest.mark.parametrize("response, reference", [
    ("答案是心肌梗死。", MI),
    ("Infarctus du myocarde.", MI),
    ("Diagnostic : infarctus aigu du myocarde.", MI),
    ("The most likely diagnosis is myocardial infarction.", MI_ZH),
])
def test_match_does_not_confirm_an_answer_in_another_language(response, reference):
    """Documented: match compares within one language; a correct answer in another language is not confirmed
    (a judge or a trained classifier can). It commits all the same."""
    assert MatchVerifier().check(response, reference) is False
    assert uncommitted(response) is None
    assert MatchVerifier().check("Aspirin.", "aspirin") is True  # the same word in both is still the answer


@pytest.mark.parametrize("output", [
    "<think>I think it is myocardial infarction", "## Thinking\n\nmyocardial infarction?", None, "",
    "Myocardial infarction.\n\n## Thinking\n\nMyocardial infarction, no doubt.",  # a final response thinking again
])
def test_a_missing_final_answer_is_not_correct_and_never_an_error(output):
    assert MatchVerifier().check(output, MI) is False
    assert uncommitted(output) == "no_answer"


# ---------------------------------------------------------------- judge


@pytest.mark.parametrize("reply, verdict", [
    ("True", True), ("False", False), ("**True**", True), ("false.", False), ('"TRUE"', True), ("`False`\n", False),
])
def test_parse_verdict_accepts_a_clear_word(reply, verdict):
    assert parse_verdict(reply) is verdict


@pytest.mark.parametrize("reply", ["not true", "True or False", "Yes", "The response is true.", "", "Tru", "1"])
def test_parse_verdict_rejects_anything_unclear(reply):
    with pytest.raises(VerifierError, match="not exactly True or False"):
        parse_verdict(reply)


def judge_client(server) -> OpenAIChatModel:
    return OpenAIChatModel("judge", base_url=server.url, concurrency=4,
                           retry=RetryPolicy(max_retries=1, initial_delay=0.01))


async def test_judge_asks_again_after_an_unclear_verdict(openai_server):
    openai_server.script("not true", "True")
    model = judge_client(openai_server)
    judge = JudgeVerifier(model)
    assert await judge.verify("It is aspirin.", "Aspirin") is True
    first, second = openai_server.requests
    assert "It is aspirin." in first.json["messages"][0]["content"]
    assert "Aspirin" in first.json["messages"][0]["content"]
    assert [m["role"] for m in second.json["messages"]] == ["user", "assistant", "user"]
    assert second.json["messages"][1]["content"] == "not true"
    assert first.json["temperature"] == 0 and first.headers["x-medo1-tag"] == "verify"
    assert model.meter.by_tag["verify"].calls == 2
    await model.aclose()


async def test_judge_gives_up_with_an_error_never_a_guess(openai_server):
    openai_server.handler = lambda body, headers: "Yes, it matches."
    model = judge_client(openai_server)
    with pytest.raises(VerifierError, match="after 3 tries"):
        await JudgeVerifier(model, retries=2).verify("It is aspirin.", "Aspirin")
    assert openai_server.count == 3
    await model.aclose()


def test_load_verifier_specs(openai_server):
    assert isinstance(load_verifier("match"), MatchVerifier)
    judge = load_verifier(f"judge:openai:judge@{openai_server.url}", cache=False)
    assert isinstance(judge, JudgeVerifier) and judge.name == f"judge:openai:judge@{openai_server.url}"
    for bad in ("judge", "judge:", "classifier:", "regex", "match:exact"):
        with pytest.raises(Medo1Error, match="verifier spec"):
            load_verifier(bad)
    with pytest.raises(Medo1Error, match="not a checkpoint directory"):
        load_verifier("classifier:/no/such/dir")


# ---------------------------------------------------------------- classifier


@pytest.fixture(scope="module")
def classifier_dirs(tmp_path_factory):
    """Two tiny random sequence classifiers (2 labels, and 1 logit) with the test tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from tests.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    dirs = {}
    for labels in (2, 1):
        config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=2, num_labels=labels,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        if labels == 2:
            config.id2label, config.label2id = {0: "wrong", 1: "correct"}, {"wrong": 0, "correct": 1}
        torch.manual_seed(labels)
        path = tmp_path_factory.mktemp(f"classifier{labels}")
        LlamaForSequenceClassification(config).save_pretrained(path)
        tokenizer.save_pretrained(path)
        dirs[labels] = path
    return dirs


PAIRS = [("The answer is aspirin.", "Aspirin"), ("Heparin", "Aspirin"),
         ("A 45-year-old man has myocardial infarction and needs aspirin now", "Myocardial infarction"),
         ("yes", "no"), ("The answer is B.", "B")]


async def test_classifier_threshold_and_batching(classifier_dirs):
    verifier = ClassifierVerifier(classifier_dirs[2], threshold=0.5, batch_size=2)
    probs = await asyncio.gather(*(verifier.probability(r, ref) for r, ref in PAIRS))
    assert verifier.batches == [2, 2, 1]  # concurrent calls were gathered into batches
    assert all(0.0 < p < 1.0 for p in probs)
    verdicts = await asyncio.gather(*(verifier.verify(r, ref) for r, ref in PAIRS))
    assert verdicts == [p > 0.5 for p in probs]
    verifier.threshold = min(probs) - 1e-6
    assert all(await asyncio.gather(*(verifier.verify(r, ref) for r, ref in PAIRS)))
    verifier.threshold = max(probs)
    assert not any(await asyncio.gather(*(verifier.verify(r, ref) for r, ref in PAIRS)))


def test_classifier_encodes_reference_then_response_and_pads_safely(classifier_dirs):
    import torch

    verifier = ClassifierVerifier(classifier_dirs[2])
    response, reference = PAIRS[2]
    encoded = verifier.tokenizer(reference, response, return_tensors="pt")
    with torch.inference_mode():
        expected = torch.softmax(verifier.model(**encoded).logits, -1)[0, 1].item()
    alone = verifier.probabilities([(response, reference)])[0]
    batched = verifier.probabilities([("x", "y"), (response, reference), ("short", "s")])[1]
    assert alone == pytest.approx(expected, abs=1e-5)
    assert batched == pytest.approx(expected, abs=1e-4)  # padding in a batch does not change the score
    swapped = verifier.probabilities([(reference, response)])[0]
    assert swapped != pytest.approx(expected, abs=1e-6)


def test_classifier_with_one_logit_uses_a_sigmoid(classifier_dirs):
    import torch

    verifier = ClassifierVerifier(classifier_dirs[1])
    response, reference = PAIRS[0]
    encoded = verifier.tokenizer(reference, response, return_tensors="pt")
    with torch.inference_mode():
        expected = torch.sigmoid(verifier.model(**encoded).logits[0, 0]).item()
    assert verifier.probabilities([PAIRS[0]])[0] == pytest.approx(expected, abs=1e-5)
    assert isinstance(load_verifier(f"classifier:{classifier_dirs[1]}", threshold=0.3), ClassifierVerifier)


# ---------------------------------------------------------------- reward


async def test_reward_rule():
    match = MatchVerifier()
    good = "## Thinking\n\nHmm, B12 fits.\n\n## Final Response\n\nVitamin B12 deficiency."
    wrong = "## Thinking\n\nFolate?\n\n## Final Response\n\nFolate deficiency."
    assert await reward(good, "Vitamin B12 deficiency", match) == 1.0
    assert await reward(wrong, "Vitamin B12 deficiency", match) == 0.1
    assert await reward("Vitamin B12 deficiency.", "Vitamin B12 deficiency", match) == 0.0
    assert await reward("## Final Response\n\nVitamin B12 deficiency", "Vitamin B12 deficiency", match) == 0.0
    # only the final response is judged: naming the reference while thinking earns nothing
    drifted = "## Thinking\n\nVitamin B12 deficiency? No, folate.\n\n## Final Response\n\nFolate deficiency."
    assert await reward(drifted, "Vitamin B12 deficiency", match) == 0.1
    listed = "## Thinking\n\nHmm.\n\n## Final Response\n\nFolate or vitamin B12 deficiency."
    assert await reward(listed, "Vitamin B12 deficiency", match) == 0.1


# ---------------------------------------------------------------- verifier-eval

LABELED = [
    {"response": "The answer is aspirin.", "reference": "Aspirin", "label": True},  # tp
    {"response": "Heparin", "reference": "Aspirin", "label": False},  # tn
    {"response": "MI", "reference": "Myocardial infarction", "label": "true"},  # tp
    {"response": "ASA", "reference": "Aspirin", "label": 1},  # fn: match misses names it has no vocabulary for
    {"response": "Not aspirin, heparin.", "reference": "Aspirin", "label": "false"},  # tn
    {"id": "x6", "response": "Infarction of the heart muscle", "reference": "Myocardial infarction", "label": "yes"},
]


def test_evaluate_verifier_confusion_matrix():
    items = [LabeledVerdict.from_raw(row) for row in LABELED]
    report = asyncio.run(evaluate_verifier(MatchVerifier(), items))
    assert (report.tp, report.fp, report.tn, report.fn, report.errors) == (2, 0, 2, 2, 0)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.precision == 1.0 and report.recall == 0.5
    assert [m["index"] for m in report.mistakes] == [3, 5] and report.mistakes[1]["id"] == "x6"


def test_verifier_eval_cli(tmp_path):
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("".join(json.dumps(row) + "\n" for row in LABELED))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--verifier", "match",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "accuracy 0.667" in result.output and "precision 1.000" in result.output
    report = json.loads(out.read_text())
    assert (report["tp"], report["fn"], report["tn"], report["fp"]) == (2, 2, 2, 0)


def test_verifier_eval_bad_label_is_one_line(tmp_path):
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text(json.dumps(LABELED[0]) + "\n" + json.dumps({**LABELED[1], "label": "maybe"}) + "\n")
    with pytest.raises(InputError, match=r"labeled.jsonl:2: label: .*true/false"):
        from medo1.verify import evaluate_verifier_file

        evaluate_verifier_file(labeled, "match")
    done = subprocess.run([sys.executable, "-m", "medo1.cli", "verifier-eval", "--labeled", str(labeled)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {labeled}:2: label: "
                                                "Value error, expected true/false (or 1/0, correct/incorrect), "
                                                'got "maybe"']


def test_verifier_eval_reports_each_kind(tmp_path):
    rows = [{**row, "kind": kind} for row, kind in zip(LABELED, ["plain", "plain", "synonym", "synonym", "negated"])]
    rows.append({**LABELED[5], "kind": None})  # a row without a kind is counted under "-"
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["kind", "n"])
    table = {line.split()[0]: line.split()[1:] for line in lines[header + 1:]
             if len(line.split()) == 6 and line.split()[1].isdigit()}
    # kind: n, accuracy, precision, accepted (share said True), errors
    assert table == {"-": ["1", "0.000", "-", "0.000", "0"], "negated": ["1", "1.000", "-", "0.000", "0"],
                     "plain": ["2", "1.000", "1.000", "0.500", "0"], "synonym": ["2", "0.500", "1.000", "0.500", "0"]}
    report = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert report["by_kind"]["negated"]["precision"] is None  # undefined (never said True): null, not NaN
    assert report["by_kind"]["synonym"] == {"n": 2, "tp": 1, "fp": 0, "tn": 0, "fn": 1, "errors": 0, "accuracy": 0.5,
                                            "precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3),
                                            "kappa": 0.0, "accept_rate": 0.5}
    assert [m["kind"] for m in report["mistakes"]] == ["synonym", None]


def test_verifier_eval_without_kinds_prints_no_kind_table(tmp_path):
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("".join(json.dumps(row) + "\n" for row in LABELED))
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled)])
    assert result.exit_code == 0, result.output
    assert "kind" not in result.output
    report = asyncio.run(evaluate_verifier(MatchVerifier(), [LabeledVerdict.from_raw(r) for r in LABELED]))
    assert report.by_kind == {} and report.as_dict()["by_kind"] == {}


class Crashing:
    """A verifier that fails on one response with an error of its own (not a ModelError)."""

    name = "crashing"

    async def verify(self, response: str, reference: str) -> bool:
        if response == "boom":
            raise AttributeError("'NoneType' object has no attribute 'replace'")
        return response == reference


def test_verifier_eval_counts_any_verifier_exception_as_an_error_and_goes_on():
    rows = [{"id": "a", "response": "x", "reference": "x", "label": True, "kind": "k"},
            {"id": "b", "response": "boom", "reference": "x", "label": False, "kind": "k"},
            {"id": "c", "response": "y", "reference": "x", "label": False, "kind": "k"}]
    report = asyncio.run(evaluate_verifier(Crashing(), [LabeledVerdict.from_raw(r) for r in rows]))
    assert (report.tp, report.tn, report.fp, report.fn, report.errors) == (1, 1, 0, 0, 1)
    assert report.by_kind["k"].errors == 1
    assert report.mistakes == [{"index": 1, "id": "b", "kind": "k", "label": False,
                                "error": "AttributeError: 'NoneType' object has no attribute 'replace'"}]


def test_verifier_eval_shows_the_held_out_rows_and_the_groups_apart(tmp_path):
    rows = [{"id": "list-01", "response": "MI, PE and dissection.", "reference": MI, "label": False, "kind": "list"},
            {"id": "committed-01", "response": "**MI**", "reference": MI, "label": True, "kind": "committed"},
            {"id": f"{HELD_OUT[0]}-list-01", "response": "MI plus PE.", "reference": MI, "label": False, "kind": "list"},
            {"id": f"{HELD_OUT[0]}-committed-01", "response": "Final answer: MI", "reference": MI,
             "label": True, "kind": "committed"},
            {"id": f"{HELD_OUT[0]}-long-01", "response": LONG_COMMIT, "reference": "Hypermagnesemia", "label": True,
             "kind": "long_commit"}]
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"held-out rows (ids {'…, '.join(HELD_OUT)}…, written after the rules):" in text
    held = text[text.index("held-out rows"):]
    assert [line.split()[:2] for line in held.splitlines()[1:4]] == [["committed", "1"], ["list", "1"],
                                                                      ["long_commit", "1"]]
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert lines["uncommitted"].split() == ["uncommitted", "accepted", "0.0%", "of", "1", "accepted", "0.0%", "of", "1"]
    assert "long free text" in text and "use a judge or a trained classifier" in text
    report = json.loads(out.read_text())
    assert report["groups"]["held-out"]["long correct"]["recall"] == 1.0
    assert "long correct" not in report["groups"]["tuned"]
    assert report["heldout_by_kind"]["list"]["n"] == 1 and report["by_kind"]["list"]["n"] == 2
