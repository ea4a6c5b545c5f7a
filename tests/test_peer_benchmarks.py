"""The benchmarks peers report (MedXpertQA-Text, MedBullets op4 / op5, the official eval_data.json), each
read from a local file in its real public shape: extra columns kept, a bad row a file:line error."""

import csv
import json

import pytest

from medo1.errors import InputError, Medo1Error
from medo1.evaluate.benchmarks import BENCHMARKS, load_benchmark
from tests.test_benchmarks import write_jsonl

TEN = ["Fibrinolysis activation", "Vitamin K deficiency", "Diffuse activation of coagulation", "DIC",
       "Platelet dysfunction", "Decreased factor production", "Immune platelet destruction", "Hypersplenism",
       "Decreased metabolism of an anticoagulant", "Bacterial destruction"]
LETTERS = "ABCDEFGHIJ"

MEDXPERTQA_ROWS = [  # TsinghuaC3I/MedXpertQA, config Text, split test: the question repeats its options at the end
    {"id": "Text-20",
     "question": "A 57-year-old man on piperacillin-tazobactam bleeds from IV sites. Most likely explanation?\n"
                 "Answer Choices: " + " ".join(f"({LETTERS[i]}) {t}" for i, t in enumerate(TEN)),
     "options": {LETTERS[i]: t for i, t in enumerate(TEN)}, "label": "I",
     "medical_task": "Diagnosis", "body_system": "Digestive", "question_type": "Reasoning"},
    {"id": "Text-21", "question": "Which nerve is injured in wrist drop?\nAnswer Choices: (A) Radial (B) Ulnar ...",
     "options": {LETTERS[i]: t for i, t in enumerate(["Radial", "Ulnar", "Median", "Axillary", "Musculocutaneous",
                                                       "Long thoracic", "Femoral", "Sciatic", "Tibial", "Peroneal"])},
     "label": "A", "medical_task": "Basic Science", "body_system": "Nervous", "question_type": "Understanding"},
]

# HanjieChen/ChallengeClinicalQA medbullets/medbullets_op5.csv: its header, and rows with five stray empty cells
MEDBULLETS_HEADER = ["link", "question", "opa", "opb", "opc", "opd", "ope", "answer_idx", "answer", "explanation"]
MEDBULLETS_ROWS = [
    ["https://step2.medbullets.com/testview?qid=108992", "A 64-year-old man has a red, rock-hard right eye. "
     "Which of the following is the most appropriate prophylaxis?", "Acetazolamide", "Amitriptyline", "Clopidogrel",
     "Epinephrine", "Verapamil", "A", "Acetazolamide", "Acute angle-closure glaucoma.\n\nIncorrect Answers: ...",
     "", "", "", "", ""],
    ["https://bit.ly/3MCzFqw", "A 23-year-old woman with CD4 57 has a positive India ink stain. Treatment?",
     "Acyclovir", "Amphotericin B and 5-flucytosine", "Dexamethasone", "Fluconazole", "Vancomycin and ceftriaxone",
     "B", "Amphotericin B and 5-flucytosine", "Cryptococcal meningitis.", "", "", "", "", ""],
]


def write_medbullets_csv(path, n_options=5, rows=MEDBULLETS_ROWS):
    drop = [] if n_options == 5 else [MEDBULLETS_HEADER.index("ope")]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([h for i, h in enumerate(MEDBULLETS_HEADER) if i not in drop])
        for row in rows:
            w.writerow([c for i, c in enumerate(row) if i not in drop])
    return path


def official_file(path, sources):
    """The official evaluation/data/eval_data.json: {source: [{question, options, answer_idx, answer}]}, indented."""
    path.write_text(json.dumps(sources, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


OFFICIAL = {
    "MedMCQA_validation": [
        {"question": "Which of the following is not true for myelinated nerve fibers:",
         "options": {"A": "Impulse through myelinated fibers is slower than non-myelinated fibers",
                     "B": "Membrane currents are generated at nodes of Ranvier",
                     "C": "Saltatory conduction of impulses is seen",
                     "D": "Local anesthesia is effective only when the nerve is not covered by myelin sheath"},
         "answer_idx": "A", "answer": "Impulse through myelinated fibers is slower than non-myelinated fibers"},
    ],
    "GPQA_Medical_test": [  # the official file repeats each GPQA question five times
        {"question": "Which enzyme unwinds DNA?", "options": {"A": "Helicase", "B": "Ligase", "C": "Primase",
                                                             "D": "Topoisomerase"}, "answer_idx": "A",
         "answer": "Helicase", "subject": "Molecular Biology"},
    ] * 3,
}


def test_registry_names_each_hub_source():
    assert (BENCHMARKS["medxpertqa"].hf_id, BENCHMARKS["medxpertqa"].hf_config,
            BENCHMARKS["medxpertqa"].split) == ("TsinghuaC3I/MedXpertQA", "Text", "test")
    assert BENCHMARKS["medbullets_op4"].split == "op4_test" and BENCHMARKS["medbullets_op5"].split == "op5_test"
    assert BENCHMARKS["huatuo_eval"].hf_id is None
    with pytest.raises(Medo1Error, match="huatuo_eval.*no hub source.*eval_data.json.*--data huatuo_eval=FILE"):
        load_benchmark("huatuo_eval")


def test_medxpertqa_text_ten_options_and_the_repeated_choices_cut(tmp_path):
    items = load_benchmark("medxpertqa", write_jsonl(tmp_path / "mx.jsonl", MEDXPERTQA_ROWS))
    first = items[0]
    assert len(first.options) == 10 and first.answer == "I" and first.source_id == "Text-20"
    assert first.question.endswith("Most likely explanation?") and "Answer Choices" not in first.question
    assert first.meta == {"medical_task": "Diagnosis", "body_system": "Digestive", "question_type": "Reasoning"}
    # the MedXpertQA repo's own eval input: options as [{letter, content}], label as a list
    repo = [{**r, "options": [{"letter": k, "content": v} for k, v in r["options"].items()], "label": [r["label"]]}
            for r in MEDXPERTQA_ROWS]
    assert [(i.options, i.answer) for i in load_benchmark("medxpertqa", write_jsonl(tmp_path / "r.jsonl", repo))] \
        == [(i.options, i.answer) for i in items]


def test_medxpertqa_bad_label_names_file_line_and_field(tmp_path):
    bad = [MEDXPERTQA_ROWS[0], {**MEDXPERTQA_ROWS[1], "label": "K"}]
    with pytest.raises(InputError, match=r"mx.jsonl:2: label: \"K\" is not one of the options ABCDEFGHIJ"):
        load_benchmark("medxpertqa", write_jsonl(tmp_path / "mx.jsonl", bad))


def test_medbullets_original_csv_op5_and_op4(tmp_path):
    op5 = load_benchmark("medbullets_op5", write_medbullets_csv(tmp_path / "medbullets_op5.csv"))
    assert [i.answer for i in op5] == ["A", "B"] and list(op5[0].options) == list("ABCDE")
    assert op5[1].options["B"] == "Amphotericin B and 5-flucytosine"
    assert op5[0].source_id == "https://step2.medbullets.com/testview?qid=108992"
    assert op5[0].meta["explanation"].startswith("Acute angle-closure") and "unnamed_columns" not in op5[0].meta
    op4 = load_benchmark("medbullets_op4", write_medbullets_csv(tmp_path / "medbullets_op4.csv", 4))
    assert list(op4[0].options) == list("ABCD")
    with pytest.raises(InputError, match=r"op5.csv:2: options: medbullets_op4 has 4 options per question, this row 5"):
        load_benchmark("medbullets_op4", write_medbullets_csv(tmp_path / "op5.csv"))


def test_medbullets_hub_and_peer_jsonl_shapes(tmp_path):
    # mkieffer/Medbullets (op4_test): options A-E with E empty, the answer letter in `answer`
    hub = [{"idx": "0", "question": "Q1?", "options": {"A": "a1", "B": "b1", "C": "c1", "D": "d1", "E": None},
            "answer": "C", "explanation": "...", "link": "https://bit.ly/x"}]
    item = load_benchmark("medbullets_op4", write_jsonl(tmp_path / "hub.jsonl", hub))[0]
    assert (list(item.options), item.answer, item.source_id) == (list("ABCD"), "C", "0")
    # peers' JSONL (question, options, answer_idx, answer text)
    peer = [{"question": "Q2?", "options": {"A": "a", "B": "b", "C": "c", "D": "d", "E": "e"}, "answer_idx": "E",
             "answer": "e", "dataset_name": "medbullets_op5"}]
    item = load_benchmark("medbullets_op5", write_jsonl(tmp_path / "peer.jsonl", peer))[0]
    assert item.answer == "E" and item.meta == {"dataset_name": "medbullets_op5"}
    bad = [peer[0], {**peer[0], "answer_idx": None, "answer": "f"}]
    with pytest.raises(InputError, match=r"bad.jsonl:2: answer: \"f\" is not one of the options ABCDE"):
        load_benchmark("medbullets_op5", write_jsonl(tmp_path / "bad.jsonl", bad))


def test_official_eval_file_each_source_a_subset_repeats_kept(tmp_path):
    items = load_benchmark("huatuo_eval", official_file(tmp_path / "eval_data.json", OFFICIAL))
    assert [i.meta["subset"] for i in items] == ["MedMCQA_validation"] + ["GPQA_Medical_test"] * 3
    assert items[0].answer == "A" and items[1].meta["subject"] == "Molecular Biology"
    assert len({i.id for i in items}) == 4  # the repeated question is asked three times, each with its own id
    # a list is one source, "normal", as the official script reads it
    listed = load_benchmark("huatuo_eval", official_file(tmp_path / "list.json", OFFICIAL["MedMCQA_validation"]))
    assert listed[0].meta["subset"] == "normal"


def test_official_eval_file_bad_row_names_its_line(tmp_path):
    sources = {"MedQA_USLME_test": [OFFICIAL["MedMCQA_validation"][0], {**OFFICIAL["MedMCQA_validation"][0],
                                                                        "answer_idx": "F"}]}
    path = official_file(tmp_path / "eval_data.json", sources)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"answer_idx": "F"' in text)
    start = max(n for n, text in enumerate(path.read_text().splitlines()[:line], 1) if text.strip() == "{")
    with pytest.raises(InputError, match=rf"eval_data.json:{start}: answer_idx: \"F\" is not one of the options ABCD"):
        load_benchmark("huatuo_eval", path)
    path.write_text('{"MedQA_USLME_test": [\n  {"question": "q"},\n  oops\n]}')
    with pytest.raises(InputError, match=r"eval_data.json:3: \(json\): Expecting value"):
        load_benchmark("huatuo_eval", path)
