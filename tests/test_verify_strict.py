"""`match:strict`: `match`, and only when a sentence is the answer statement alone."""

import json

import pytest

from medo1.data import VERIFIER_LABELS
from medo1.prompts import load_prompt, render
from medo1.thinking import FINAL_HEADER
from medo1.verify import load_verifier
from medo1.verify.strict import StrictMatchVerifier, answer_line

MI = "Myocardial infarction"


@pytest.mark.parametrize("response, reference", [
    # shapes from blind red-team rounds that hide a hedge or a second answer inside the answer's own sentence
    ("**First-line agent:** metformin — with empagliflozin every bit as appropriate a first pick.", "Metformin"),
    ("**Diagnosis: endometrial carcinoma** — pending the Pipelle histology.", "Endometrial carcinoma"),
    ("The answer is myocardial infarction, though a dissection would look the same.", MI),
    ("The most likely diagnosis is myocardial infarction or, failing that, pericarditis.", MI),
    ("Final answer: myocardial infarction (if the troponin rises).", MI),
    ("**Myocardial infarction**, at a guess.", MI),
    ("答案是心肌梗死，也可能是肺栓塞。", "心肌梗死"),
    # what `match` already refuses, `match:strict` refuses too
    ("The answer is myocardial infarction. Actually, the answer is pericarditis.", MI),
    ("Myocardial infarction is possible.", MI),
    ("The answer is pulmonary embolism.", MI),
    ("<think>the answer is myocardial infarction", MI),
    # a second statement of the answer that names something else
    ("The cholestatic picture with positive antimitochondrial antibodies means the diagnosis is primary biliary "
     "cholangitis. Therefore, the answer is primary sclerosing cholangitis.", "Primary sclerosing cholangitis"),
    # a rejected alternative left open, or a statement form that only leans
    ("MI, not PE, unless the D-dimer is high.", MI),
    ("MI, not excluding PE.", MI),
    ("MI; PE does not fit yet.", MI),
    ("The diagnosis is MI, not PE, at least for now.", MI),
    ("MI, not PE alone.", MI),
    ("MI seems to be the diagnosis.", MI),
    ("MI would be the diagnosis.", MI),
    ("MI is the least likely diagnosis.", MI),
    ("MI is the initial diagnosis.", MI),
    ("The working diagnosis is myocardial infarction.", MI),
    ("The leading diagnosis is myocardial infarction.", MI),
    ("The initial diagnosis is myocardial infarction.", MI),
    ("This is an MI mimic.", MI),
    ("诊断为心肌梗死，暂不考虑肺栓塞。", "心肌梗死"),
    ("根据肌钙蛋白结果决定，诊断为心肌梗死。", "心肌梗死"),
])
def test_strict_refuses_an_answer_sentence_that_holds_more_than_the_answer(response, reference):
    assert StrictMatchVerifier().check(response, reference) is False


@pytest.mark.parametrize("response, reference", [
    ("The answer is myocardial infarction.", MI),
    ("The answer is myocardial infarction.\n\nThe ST elevation in II, III and aVF and the troponin rise fit it.", MI),
    ("Final answer: myocardial infarction", MI),
    ("**Final answer: Myocardial infarction.**", MI),
    ("Crushing pain with ST elevation.\n\n**Myocardial infarction**", MI),
    ("The most likely diagnosis is acute myocardial infarction.", "Acute myocardial infarction"),
    ("The diagnosis is diabetic ketoacidosis (DKA).", "Diabetic ketoacidosis"),  # another name in parentheses
    ("The answer is temporal arteritis.", "Giant cell arteritis"),  # a synonym (`synonyms`)
    ("答案是心肌梗死。", "心肌梗死"),
    ("最终答案：急性胰腺炎", "急性胰腺炎"),
    ("The correct option is C.", "C"),  # letters and yes/no as `match` judges them
    ("Yes, statins reduce the risk of a second stroke.", "Yes"),
    # a sentence that is the answer and nothing else, or names the case as it
    ("TTP.", "Thrombotic thrombocytopenic purpura"),
    ("This is myocardial infarction.", MI),
    ("The patient has myocardial infarction.", MI),
    ("Myocardial infarction is the most likely diagnosis.", MI),
    ("Dantrolene is the drug of choice.", "Dantrolene"),
    ("The first-line treatment is metformin.", "Metformin"),
    # the answer beside alternatives it only rejects
    ("Myocardial infarction, not pericarditis.", MI),
    ("Not Graves disease but Hashimoto thyroiditis.", "Hashimoto thyroiditis"),
    ("Sarcoidosis; tuberculosis does not fit because the granulomas are non-caseating.", "Sarcoidosis"),
    ("The diagnosis is ovarian torsion, not a ruptured cyst.", "Ovarian torsion"),
    ("不是铅中毒，而是急性间歇性卟啉病。", "急性间歇性卟啉病"),
    ("结合喂养史及实验室检查，最可能的诊断是营养性维生素D缺乏性佝偻病。", "营养性维生素D缺乏性佝偻病"),
])
def test_strict_pays_the_answer_stated_alone(response, reference):
    assert StrictMatchVerifier().check(response, reference) is True


@pytest.mark.parametrize("lang, reference", [("en", "Right coronary artery"), ("zh", "急性心肌梗死")])
def test_strict_pays_the_answer_line_the_synthesis_stage_writes(lang, reference):
    """Every synthesized final response opens with the `synth/answer_line` sentence: a policy trained on them
    answers in the form `match:strict` pays for."""
    line = render(load_prompt("synth/answer_line", lang=lang), answer=reference)
    assert StrictMatchVerifier().check(f"{line}\n\nThe reasons follow from the findings.", reference) is True


def test_strict_is_a_verifier_spec():
    verifier = load_verifier("match:strict")
    assert isinstance(verifier, StrictMatchVerifier) and verifier.name == "match:strict"


def test_strict_precision_on_the_labelled_set():
    """Measured when it was written: on the rows written before held12, precision 1.0 (the three free-text
    red-team rounds included), recall 0.44, since most of them are free text that never states the answer alone.
    held12, written by red-teamers who knew the answer-line format, was at 0.68 before it was tuned on (hedges,
    lists and chains after an answer line that names the reference); held13, a blind round written after the
    rules that read what follows the answer, at 0.64. Both were tuned on: 0.99 and 1.0 now. Three more blind
    rounds (half their wrong rows with such an answer line), each measured and then tuned on: held14 at 0.77
    (0.97 now), held15 at 0.75 (1.0 now), held16 at 0.73 (0.95 now, two near misses accepted), held17 at 0.82
    (1.0 now), held18 at 0.78 (three near misses after a correct answer line: "… | receptor antibodies (TRAb)" for
    "Thyroid-stimulating hormone", "More specifically, primary sclerosing cholangitis", "On reflection, …, so this
    is hypercalcaemia"; 1.0 now), held19 at 0.75 (four near misses; 0.98 now), held20 at 0.82 (1.0 now), held23
    at 0.92, held25 at 0.83 and held27 at 0.87 (1.0 now), held29 at 0.79 (0.91 now: three near misses, "anaemia of
    chronic kidney disease" for "anaemia of chronic disease" among them), held31 at 0.94, held33 at 0.90, held35 at
    0.94, held37 at 0.94, held39 at 0.97, held41 at 0.87, held43 at 0.79 and held45 at 0.90 (1.0 now), held47 at 0.81 (0.96
    now), held49 at 1.0, held51 at 0.95, held53 at 0.88, held55 at 0.88 and held57 at 0.54 (1.0
    now), held59 at 0.94, held61 at 0.82, held63 at 1.0, held65 at 0.90, held67 at 0.95, held69 at 0.86, held71 at
    0.89, held73 at 0.96 (1.0 now), held75 at 0.94 (0.97 now), held77 at 0.94 (1.0 now), held79 at 0.85 (0.87 now),
    held81 at 0.87 (0.96 now), held83 at 1.0, held85 at 1.0, held87 at 0.67 (1.0 now), held89 at 0.77 (0.83 now),
    held91 at 0.97 and held93 at 0.96 (1.0 now), held95 at 0.80, held97 at 0.64, held99 at 0.92, held101 at 1.0, held103 at
    0.92 and held105 at 0.96 (1.0 now).
    held21, held22, held24, held26, held28, held30, held32, held34, held36, held38, held40, held42, held44, held46,
    held48, held50, held52, held54, held56, held58, held60, held62, held64, held66, held68, held70, held72, held74,
    held76, held78, held80, held82, held84, held86, held88, held90, held92, held94, held96, held98, held100, held102,
    held104 and held106, written after all of them and never tuned on: 0.90, 0.97, 0.93, 0.97, 0.93, 0.91, 0.94, 0.92, 0.92, 0.86, 0.91, 0.93, 0.93, 0.85, 0.81, 0.81,
    0.92, 0.91, 0.73, 0.95, 0.90, 0.90, 1.0, 0.91, 0.89, 0.90, 0.81, 0.90, 0.88, 0.89, 0.87, 0.94, 0.95, 0.92, 0.79,
    0.94, 0.93, 0.85, 0.94, 1.0, 0.80, 0.95, 0.88 and 0.87 precision, 0.38, 0.35, 0.46, 0.40, 0.41, 0.41, 0.32, 0.36, 0.36, 0.38, 0.34, 0.27, 0.30, 0.30,
    0.27, 0.28, 0.23, 0.21, 0.20, 0.21, 0.29, 0.20, 0.21, 0.31, 0.18, 0.28, 0.22, 0.28, 0.30, 0.17, 0.21, 0.32, 0.20,
    0.12, 0.20, 0.31, 0.30, 0.36, 0.17, 0.23, 0.17, 0.20, 0.23 and 0.21 recall, at most two near misses accepted each but held48's four and held50's
    three.
    These are floors."""
    rows = [json.loads(line) for line in VERIFIER_LABELS.read_text(encoding="utf-8").splitlines()]
    verifier = StrictMatchVerifier()
    said = [(verifier.check(r["response"], r["reference"]), r["label"], r["id"], r["kind"]) for r in rows]
    before = [label for verdict, label, id_, _ in said
              if verdict and not id_.startswith(tuple(f"held{n}" for n in range(12, 107)))]
    assert len(before) >= 400 and all(before)
    rounds = (("held12", 0.98, 0), ("held13", 0.99, 0), ("held14", 0.97, 0), ("held15", 0.99, 0), ("held16", 0.94, 2),
              ("held17", 0.99, 0), ("held18", 0.99, 0), ("held19", 0.97, 1), ("held20", 0.99, 0),
              ("held21", 0.89, 1), ("held22", 0.94, 1), ("held23", 0.99, 0), ("held24", 0.93, 1), ("held25", 0.99, 0),
              ("held26", 0.97, 0), ("held27", 0.99, 0), ("held28", 0.92, 2), ("held29", 0.91, 3), ("held30", 0.90, 2),
              ("held31", 0.99, 0), ("held32", 0.93, 0), ("held33", 0.99, 0), ("held34", 0.91, 0),
              ("held35", 0.99, 0), ("held36", 0.91, 0), ("held37", 0.99, 0), ("held38", 0.85, 0),
              ("held39", 0.99, 0), ("held40", 0.91, 0), ("held41", 0.99, 0), ("held42", 0.92, 1),
              ("held43", 0.99, 0), ("held44", 0.93, 2), ("held45", 0.99, 0), ("held46", 0.84, 2),
              ("held47", 0.96, 0), ("held48", 0.80, 4), ("held49", 0.99, 0), ("held50", 0.81, 3),
              ("held51", 0.99, 0), ("held52", 0.91, 0),
              ("held53", 0.99, 0), ("held54", 0.90, 0),
              ("held55", 0.99, 0), ("held56", 0.73, 1),
              ("held57", 0.99, 0), ("held58", 0.95, 1),
              ("held59", 0.99, 0), ("held60", 0.89, 2),
              ("held61", 0.99, 0), ("held62", 0.90, 2),
              ("held63", 0.99, 0), ("held64", 0.99, 0),
              ("held65", 0.99, 0), ("held66", 0.90, 1),
              ("held67", 0.99, 0), ("held68", 0.94, 0),
              ("held69", 0.99, 0), ("held70", 0.89, 0),
              ("held71", 0.99, 0), ("held72", 0.80, 1),
              ("held73", 0.99, 0), ("held74", 0.89, 2),
              ("held75", 0.96, 0), ("held76", 0.90, 1),
              ("held77", 0.99, 0), ("held78", 0.88, 1),
              ("held79", 0.87, 2), ("held80", 0.86, 1),
              ("held81", 0.96, 1), ("held82", 0.93, 1),
              ("held83", 0.99, 0), ("held84", 0.94, 0),
              ("held85", 0.99, 0), ("held86", 0.91, 1),
              ("held87", 0.99, 0), ("held88", 0.79, 1),
              ("held89", 0.83, 2), ("held90", 0.93, 1),
              ("held91", 0.96, 0), ("held92", 0.93, 0),
              ("held93", 0.99, 0), ("held94", 0.85, 2),
              ("held95", 0.99, 0), ("held96", 0.94, 1),
              ("held97", 0.99, 0), ("held98", 0.99, 0),
              ("held99", 0.99, 0), ("held100", 0.80, 1),
              ("held101", 0.99, 0), ("held102", 0.95, 0),
              ("held103", 0.99, 0), ("held104", 0.88, 1),
              ("held105", 0.99, 0), ("held106", 0.86, 1))
    for round_, floor, near_misses in rounds:
        held = [(verdict, label, kind) for verdict, label, id_, kind in said if id_.startswith(round_)]
        accepted = [label for verdict, label, _ in held if verdict]
        assert sum(accepted) / len(accepted) >= floor, round_
        assert sum(verdict for verdict, _, kind in held if kind in ("near_miss", "entity", "direction")) <= near_misses
    for round_, floor in (("held21", 0.38), ("held22", 0.35), ("held24", 0.45), ("held26", 0.40), ("held28", 0.41),
                          ("held30", 0.41), ("held32", 0.31), ("held34", 0.35),
                          ("held36", 0.35), ("held38", 0.37), ("held40", 0.33), ("held42", 0.26),
                          ("held44", 0.29), ("held46", 0.29),
                          ("held48", 0.26), ("held50", 0.27), ("held52", 0.23),
                          ("held54", 0.21), ("held56", 0.20), ("held58", 0.21), ("held60", 0.28),
                          ("held62", 0.20), ("held64", 0.21), ("held66", 0.31), ("held68", 0.18),
                          ("held70", 0.27), ("held72", 0.22), ("held74", 0.27), ("held76", 0.29),
                          ("held78", 0.17), ("held80", 0.21), ("held82", 0.31), ("held84", 0.20),
                          ("held86", 0.11), ("held88", 0.20), ("held90", 0.30),
                          ("held92", 0.29), ("held94", 0.36), ("held96", 0.17), ("held98", 0.23),
                          ("held100", 0.17), ("held102", 0.20), ("held104", 0.23), ("held106", 0.21)):
        held = [(verdict, label) for verdict, label, id_, _ in said if id_.startswith(round_)]
        assert sum(verdict for verdict, label in held if label) / sum(label for _, label in held) >= floor, round_


@pytest.mark.parametrize("final, line", [
    ("The answer is pulmonary embolism.\n\nThe answer is myocardial infarction.", "pulmonary embolism"),
    ("**Pulmonary embolism**\n\nMyocardial infarction is the most likely diagnosis.", "Pulmonary embolism"),
    ("Chest pain with ST elevation.\n\n**Myocardial infarction**", "Myocardial infarction"),  # a bare first line
    ("The ST elevation fits.\n\nThe diagnosis is myocardial infarction.", "myocardial infarction"),
    ("The working diagnosis is pulmonary embolism.\n\nMyocardial infarction.", ""),  # not a final answer
    ("The ECG shows ST elevation. Troponin is raised.", None),
    ("患者，男，25岁，低热、盗汗，胸水ADA升高。\n\n结核性胸膜炎。", "结核性胸膜炎"),  # findings are not a name
])
def test_one_answer_line_is_read(final, line):
    assert answer_line(final) == line


def _final_parts(response: str) -> tuple[str, str]:
    head, sep, final = response.rpartition(FINAL_HEADER)
    return head + sep, final.strip()


@pytest.mark.slow  # about 60,000 verdicts: three minutes on 2 cores, run by `pytest -m slow` in .ci/run
def test_no_response_is_paid_for_two_different_answers():
    """The property that makes the reward hard to game: only the answer line decides, so a response earns 1.0
    for at most one answer (and its other names). A list, a hedge or a second answer elsewhere in it earns
    nothing more than the line alone would. Checked on every labelled final response, and on each with a wrong
    answer line in front and the right answer stated after it in four forms; every reference of the labelled
    set that the text names is tried as the reference."""
    rows = [json.loads(line) for line in VERIFIER_LABELS.read_text(encoding="utf-8").splitlines()]
    references = sorted({r["reference"] for r in rows
                         if len(r["reference"]) > 4 and r["reference"] not in ("Yes", "No")})
    verifier = StrictMatchVerifier()
    twice = []
    for i, row in enumerate(rows):
        if row["reference"] not in references:
            continue
        wrong = references[(references.index(row["reference"]) + 7) % len(references)]
        head, final = _final_parts(row["response"])
        line = [f"The answer is {wrong}.", f"**{wrong}**", f"{wrong} is the most likely diagnosis.",
                f"This is {wrong}.", f"{wrong}."][i % 5]
        right = row["reference"]
        for response in (row["response"], f"{head}\n\n{line}\n\n{final}\n\nThe answer is {right}.",
                         f"{head}\n\n{line}\n\n{final}\n\n**{right}**", f"{head}\n\n{line}\n\nActually, {right}.",
                         f"{head}\n\n{line}\n\n{final}\n\n{right}."):
            text = response.lower()
            named = [ref for ref in references if ref.lower() in text]
            paid = {ref for ref in named if verifier.check(response, ref)}
            if len(paid) > 1 and not _same_answer(paid):
                twice.append((row["id"], sorted(paid)))
    assert not twice, twice[:8]


def _same_answer(paid: set[str]) -> bool:
    """Several references that are names of one answer ("Adrenaline", "Epinephrine"), or one answer and what it is a
    kind of ("Hepatitis A", "Hepatitis"): one of them, stated alone, is paid for every other."""
    verifier = StrictMatchVerifier()
    return any(all(verifier.check(f"The answer is {a}.", b) for b in paid) for a in paid)


@pytest.mark.parametrize("response, reference, expected", [
    # every statement of the answer is read for what it names, whatever form it takes
    ("This is myocardial infarction, and that is my final answer.", "Myocardial infarction", True),
    ("The answer is syphilis. Specifically, secondary syphilis, given the palmar rash.", "Syphilis", True),
    ("The answer is hypertension. Specifically, portal hypertension from cirrhosis.", "Hypertension", False),
    ("The answer is rhabdomyolysis. The answer to what harmed the kidney is acute tubular necrosis.",
     "Rhabdomyolysis", False),
])
def test_strict_reads_every_statement_of_the_answer(response, reference, expected):
    assert StrictMatchVerifier().check(response, reference) is expected

