"""Benchmark loaders on local files of each public dataset's exact shape."""

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medo1.errors import InputError, Medo1Error
from medo1.evaluate.benchmarks import (BENCHMARKS, PUBMEDQA_OPTIONS, expand_runs, get_benchmark, load_benchmark,
                                       shuffled)

MEDQA_ROWS = [  # GBaker/MedQA-USMLE-4-options, test split
    {"question": "A 23-year-old woman has burning on urination for two days. Which drug is best?",
     "answer": "Nitrofurantoin", "options": {"A": "Ampicillin", "B": "Ceftriaxone", "C": "Doxycycline",
                                             "D": "Nitrofurantoin"},
     "meta_info": "step1", "answer_idx": "D", "metamap_phrases": ["woman", "burning", "urination"]},
    {"question": "A 3-month-old infant has a loud holosystolic murmur at the left sternal border. Diagnosis?",
     "answer": "Ventricular septal defect", "options": {"A": "Atrial septal defect", "B": "Ventricular septal defect",
                                                        "C": "Patent ductus arteriosus", "D": "Coarctation"},
     "meta_info": "step2&3", "answer_idx": "B", "metamap_phrases": ["infant", "murmur"]},
]

MEDMCQA_ROWS = [  # openlifescienceai/medmcqa, validation split (cop is 0-based)
    {"id": "45258d3d-b974-44dd-a161-c3fccbdadd88", "question": "Which vitamin is needed for clotting factor synthesis?",
     "opa": "Vitamin A", "opb": "Vitamin K", "opc": "Vitamin D", "opd": "Vitamin E", "cop": 1,
     "choice_type": "single", "exp": "Vitamin K carboxylates factors II, VII, IX, X.",
     "subject_name": "Biochemistry", "topic_name": "Vitamins"},
    {"id": "c0f6b2f8-0001", "question": "The drug of choice for absence seizures is:",
     "opa": "Ethosuximide", "opb": "Phenytoin", "opc": "Carbamazepine", "opd": "Phenobarbitone", "cop": 0,
     "choice_type": "single", "exp": None, "subject_name": "Pharmacology", "topic_name": None},
]

PUBMEDQA_ROWS = [  # qiaojin/PubMedQA, pqa_labeled
    {"pubid": 21645374, "question": "Do mitochondria play a role in remodelling lace plant leaves?",
     "context": {"contexts": ["Programmed cell death shapes lace plant leaves.", "Mitochondria were imaged."],
                 "labels": ["BACKGROUND", "RESULTS"], "meshes": ["Mitochondria"],
                 "reasoning_required_pred": ["yes"], "reasoning_free_pred": ["yes"]},
     "long_answer": "Mitochondria take part in the process.", "final_decision": "yes"},
    {"pubid": 16418930, "question": "Does a screening test lower mortality?",
     "context": {"contexts": ["A cohort was followed for ten years."], "labels": ["METHODS"], "meshes": [],
                 "reasoning_required_pred": ["no"], "reasoning_free_pred": ["no"]},
     "long_answer": "It is unclear.", "final_decision": "maybe"},
]

MMLU_PRO_ROWS = [  # TIGER-Lab/MMLU-Pro, test split
    {"question_id": 70, "question": "Which organ makes insulin?", "options": ["Liver", "Pancreas", "Kidney", "Spleen",
     "Heart", "Lung", "Brain", "Skin", "Stomach", "Colon"], "answer": "B", "answer_index": 1,
     "cot_content": "", "category": "health", "src": "ori_mmlu-clinical_knowledge"},
    {"question_id": 71, "question": "What is the supply and demand curve?", "options": ["A", "B", "C"],
     "answer": "A", "answer_index": 0, "cot_content": "", "category": "economics", "src": "stemez"},
    {"question_id": 72, "question": "Where does the Krebs cycle take place?", "options": ["Cytosol", "Nucleus",
     "Mitochondrial matrix", "Golgi"], "answer": "C", "answer_index": 2, "cot_content": "", "category": "biology",
     "src": "ori_mmlu-college_biology"},
]

GPQA_FIELDS = ["Pre-Revision Question", "Pre-Revision Correct Answer", "Question", "Correct Answer",
               "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3", "Explanation", "Record ID",
               "High-level domain", "Subdomain", "Writer's Difficulty Estimate"]


def _gpqa_row(record_id, subdomain, question, correct, wrong):
    return {"Pre-Revision Question": question, "Pre-Revision Correct Answer": correct, "Question": question,
            "Correct Answer": correct, "Incorrect Answer 1": wrong[0], "Incorrect Answer 2": wrong[1],
            "Incorrect Answer 3": wrong[2], "Explanation": "because", "Record ID": record_id,
            "High-level domain": "Biology" if subdomain != "Quantum Mechanics" else "Physics",
            "Subdomain": subdomain, "Writer's Difficulty Estimate": "Hard graduate level"}


GPQA_ROWS = [
    _gpqa_row("rec1", "Genetics", "Which cross gives a 9:3:3:1 ratio?", "Dihybrid", ["Monohybrid", "Test", "Back"]),
    _gpqa_row("rec2", "Quantum Mechanics", "Spin of an electron?", "1/2", ["1", "0", "3/2"]),
    _gpqa_row("rec3", "Molecular Biology", "Which enzyme unwinds DNA?", "Helicase", ["Ligase", "Primase", "Topo"]),
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_parquet(path, rows):
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_medqa_jsonl(tmp_path):
    items = load_benchmark("medqa", write_jsonl(tmp_path / "medqa.jsonl", MEDQA_ROWS))
    assert [(i.bench, i.answer) for i in items] == [("medqa", "D"), ("medqa", "B")]
    assert items[0].options["D"] == "Nitrofurantoin" and items[0].context is None


def test_medmcqa_json_array_with_0_based_cop(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(MEDMCQA_ROWS, indent=1))
    items = load_benchmark("medmcqa", path)
    assert [i.answer for i in items] == ["B", "A"]
    assert items[0].options["B"] == "Vitamin K"
    assert items[0].source_id == "45258d3d-b974-44dd-a161-c3fccbdadd88"
    assert items[1].meta["subject"] == "Pharmacology"


def test_pubmedqa_parquet_with_context(tmp_path):
    items = load_benchmark("pubmedqa", write_parquet(tmp_path / "pqa.parquet", PUBMEDQA_ROWS))
    assert [i.answer for i in items] == ["A", "C"]
    assert items[0].options == PUBMEDQA_OPTIONS == {"A": "yes", "B": "no", "C": "maybe"}
    assert items[0].context == "Background: Programmed cell death shapes lace plant leaves.\nResults: Mitochondria were imaged."
    assert items[1].source_id == "16418930"


def test_mmlu_pro_keeps_health_and_biology(tmp_path):
    items = load_benchmark("mmlu_pro_med", write_parquet(tmp_path / "mmlu.parquet", MMLU_PRO_ROWS))
    assert [(i.source_id, i.answer, i.meta["subset"]) for i in items] == [("70", "B", "health"), ("72", "C", "biology")]
    assert len(items[0].options) == 10 and items[0].options["J"] == "Colon"


def test_gpqa_csv_keeps_genetics_and_molecular_biology(tmp_path):
    items = load_benchmark("gpqa_med", write_csv(tmp_path / "gpqa_main.csv", GPQA_ROWS, GPQA_FIELDS))
    assert [(i.source_id, i.meta["subset"]) for i in items] == [("rec1", "genetics"), ("rec3", "molecular biology")]
    assert items[0].options["A"] == "Dihybrid" and items[0].answer == "A"  # canonical order, shuffled per run
    assert get_benchmark("gpqa_med").runs == 5


def test_gpqa_options_shuffled_per_run_with_a_fixed_seed(tmp_path):
    items = load_benchmark("gpqa_med", write_jsonl(tmp_path / "gpqa.jsonl", GPQA_ROWS))
    runs = expand_runs(BENCHMARKS["gpqa_med"], items, runs=5, seed=0)
    assert len(runs) == 10 and len({r.id for r in runs}) == 10
    again = expand_runs(BENCHMARKS["gpqa_med"], items, runs=5, seed=0)
    assert [r.item.options for r in runs] == [r.item.options for r in again]  # deterministic
    correct = {i.source_id: i.options["A"] for i in items}
    for r in runs:  # the answer letter follows the correct text
        assert r.item.options[r.item.answer] == correct[r.item.source_id]
        assert sorted(r.item.options.values()) == sorted(items[0 if r.item.source_id == "rec1" else 1].options.values())
    orders = {tuple(r.item.options.values()) for r in runs if r.item.source_id == "rec1"}
    assert len(orders) > 1  # five runs do not all see the same order
    assert len({shuffled(items[0], seed).answer for seed in range(20)}) == 4  # the answer lands on every letter


def test_not_shuffled_benchmarks_keep_their_order(tmp_path):
    items = load_benchmark("medqa", write_jsonl(tmp_path / "medqa.jsonl", MEDQA_ROWS))
    runs = expand_runs(BENCHMARKS["medqa"], items, runs=2, seed=3)
    assert [r.item for r in runs] == items + items
    assert [r.id for r in runs] == [f"{items[0].id}-r0", f"{items[1].id}-r0", f"{items[0].id}-r1", f"{items[1].id}-r1"]


def test_limit_keeps_the_first_items(tmp_path):
    items = load_benchmark("mmlu_pro_med", write_jsonl(tmp_path / "m.jsonl", MMLU_PRO_ROWS), limit=1)
    assert [i.source_id for i in items] == ["70"]


def test_local_mcq_file_in_our_format_is_a_benchmark(tmp_path):
    path = write_jsonl(tmp_path / "cardio.jsonl", [
        {"question": "Which artery supplies the inferior wall?", "options": {"A": "LAD", "B": "RCA"}, "answer": "B"},
    ])
    items = load_benchmark(str(path))
    assert get_benchmark(str(path)).name == "cardio"
    assert [(i.bench, i.answer) for i in items] == [("cardio", "B")]


def test_bundled_sample_eval_split():
    items = load_benchmark("sample")
    assert len(items) == 20 and all(i.bench == "sample" for i in items)
    assert all(i.answer in i.options for i in items)


@pytest.mark.parametrize("bench,rows,field,line", [
    ("medqa", [MEDQA_ROWS[0], {**MEDQA_ROWS[1], "answer_idx": "E"}], "answer_idx", 2),
    ("medqa", [{k: v for k, v in MEDQA_ROWS[0].items() if k != "answer_idx"}], "answer_idx", 1),
    ("medmcqa", [MEDMCQA_ROWS[1], {**MEDMCQA_ROWS[0], "cop": 5}], "cop", 2),  # 4 would be a 1-based file
    ("pubmedqa", [{**PUBMEDQA_ROWS[0], "final_decision": "perhaps"}], "final_decision", 1),
    ("mmlu_pro_med", [{**MMLU_PRO_ROWS[0], "answer_index": 12}], "answer_index", 1),
    ("gpqa_med", [{**GPQA_ROWS[0], "Incorrect Answer 2": ""}], "Incorrect Answer 2", 1),
])
def test_bad_rows_name_file_line_and_field(tmp_path, bench, rows, field, line):
    path = write_jsonl(tmp_path / f"{bench}.jsonl", rows)
    with pytest.raises(InputError) as err:
        load_benchmark(bench, path)
    assert str(err.value).startswith(f"{path}:{line}: {field}: ")


def test_bad_parquet_row_names_its_row(tmp_path):
    path = write_parquet(tmp_path / "pqa.parquet", [PUBMEDQA_ROWS[0], {**PUBMEDQA_ROWS[1], "final_decision": "?"}])
    with pytest.raises(InputError, match=r"pqa.parquet:2: final_decision: '\?' is not one of yes, no, maybe"):
        load_benchmark("pubmedqa", path)


def test_unknown_benchmark_and_missing_files_are_clear():
    with pytest.raises(Medo1Error, match="unknown benchmark 'medqa2'; known: medqa, medmcqa"):
        get_benchmark("medqa2")
    with pytest.raises(Medo1Error, match="nope.jsonl: no such benchmark file"):
        get_benchmark("nope.jsonl")


def test_a_file_without_any_item_of_the_benchmark_is_an_error(tmp_path):
    with pytest.raises(Medo1Error, match="no mmlu_pro_med items found"):
        load_benchmark("mmlu_pro_med", write_jsonl(tmp_path / "m.jsonl", MMLU_PRO_ROWS[1:2]))


def test_hub_loading_offline_says_how_to_give_a_local_copy(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Medo1Error, match=r"could not load Idavidrein/gpqa.*HF_TOKEN.*--data gpqa_med=FILE"):
        load_benchmark("gpqa_med")
