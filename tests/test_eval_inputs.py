"""Benchmark files as users have them: MedMCQA `cop` counted from 0 (hub) or 1 (original release),
decided per file and stated with --cop-base / recipe eval.cop_base; a row's other columns reach `meta`."""

import json
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import InputError
from medo1.evaluate import load_benchmark
from medo1.stages import eval_items
from medo1.recipe import load_recipe
from tests.openai_server import fixed
from tests.test_benchmarks import MEDQA_ROWS, MMLU_PRO_ROWS

# Rows in the shape of the original MedMCQA release (github.com/medmcqa/medmcqa, dev.json): cop 1..4.
CLOTTING = {"question": "Which vitamin is needed for the gamma-carboxylation of clotting factors II, VII, IX and X?",
            "exp": "Vitamin K is the cofactor of gamma-glutamyl carboxylase.", "cop": 2, "opa": "Vitamin A",
            "opb": "Vitamin K", "opc": "Vitamin D", "opd": "Vitamin E", "subject_name": "Biochemistry",
            "topic_name": "Vitamins", "id": "6e9e5d1a-0c44-4b0e-9e1c-bb1a4e6c1f01", "choice_type": "single"}
ABSENCE = {"question": "The drug of choice for typical absence seizures in a child is:",
           "exp": None, "cop": 1, "opa": "Ethosuximide", "opb": "Phenytoin", "opc": "Carbamazepine",
           "opd": "Phenobarbitone", "subject_name": "Pharmacology", "topic_name": "Antiepileptics",
           "id": "1b2f3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02", "choice_type": "single"}
LATERAL_RECTUS = {"question": "Which cranial nerve supplies the lateral rectus muscle?",
                  "exp": "LR6 SO4: the abducens nerve.", "cop": 3, "opa": "Oculomotor", "opb": "Trochlear",
                  "opc": "Abducens", "opd": "Facial", "subject_name": "Anatomy", "topic_name": "Orbit",
                  "id": "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c03", "choice_type": "single"}
CARCINOID = {"question": "The commonest site of carcinoid tumours in the gastrointestinal tract is the:",
             "exp": "Small intestine (ileum), then rectum and appendix.", "cop": 4, "opa": "Oesophagus",
             "opb": "Stomach", "opc": "Colon", "opd": "Small intestine", "subject_name": "Pathology",
             "topic_name": "GIT tumours", "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e04", "choice_type": "single"}
# The 4 that gives the base away comes last: the rows before it must not be read 0-based.
ORIGINAL = [CLOTTING, ABSENCE, LATERAL_RECTUS, CARCINOID]
ONE_BASED_ANSWERS = ["B", "A", "C", "D"]


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def hub_shaped(row: dict) -> dict:
    """The same question as the hub release has it (0-based cop)."""
    return {**row, "cop": row["cop"] - 1}


# ---------------------------------------------------------------- MedMCQA cop base, per file


def test_original_release_file_is_read_one_based_and_reported(tmp_path, caplog):
    path = write_jsonl(tmp_path / "dev.jsonl", ORIGINAL)
    with caplog.at_level(logging.WARNING):
        items = load_benchmark("medmcqa", path)
    assert [i.answer for i in items] == ONE_BASED_ANSWERS
    assert [i.options[i.answer] for i in items] == ["Vitamin K", "Ethosuximide", "Abducens", "Small intestine"]
    assert all(i.meta["cop_base"] == 1 for i in items)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"{path}: MedMCQA cop is read as 1-based (the original release): line 4 has cop 4")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_hub_release_file_stays_zero_based_without_a_warning(tmp_path, caplog, suffix):
    rows = [hub_shaped(r) for r in ORIGINAL]
    path = tmp_path / f"validation{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        write_jsonl(path, rows)
    with caplog.at_level(logging.WARNING):
        items = load_benchmark("medmcqa", path)
    assert [i.answer for i in items] == ONE_BASED_ANSWERS and not caplog.records
    assert all(i.meta["cop_base"] == 0 for i in items)


def test_a_file_that_cannot_tell_is_refused_until_the_base_is_stated(tmp_path):
    path = write_jsonl(tmp_path / "small.jsonl", ORIGINAL[:3])  # cops 2, 1, 3: 0-based or 1-based alike
    with pytest.raises(InputError) as err:
        load_benchmark("medmcqa", path)
    message = str(err.value)
    assert message.startswith(f"{path}:1: cop: no cop is 0 or the last option's number in the 3 MedMCQA rows")
    assert message.endswith("state which: --cop-base 0 or --cop-base 1 (recipe: eval.cop_base)")
    assert "\n" not in message
    assert [i.answer for i in load_benchmark("medmcqa", path, cop_base=1)] == ["B", "A", "C"]
    assert [i.answer for i in load_benchmark("medmcqa", path, cop_base=0)] == ["C", "B", "D"]


def test_a_stated_base_is_checked_row_by_row(tmp_path):
    path = write_jsonl(tmp_path / "dev.jsonl", ORIGINAL)
    with pytest.raises(InputError, match=r"dev\.jsonl:4: cop: 4 is not a 0-based option index \(0\.\.3\)"):
        load_benchmark("medmcqa", path, cop_base=0)


def test_a_local_mcq_benchmark_file_decides_its_own_base(tmp_path):
    path = write_jsonl(tmp_path / "ward-exam.jsonl", ORIGINAL)
    items = load_benchmark(path)
    assert [(i.bench, i.answer) for i in items] == [("ward-exam", a) for a in ONE_BASED_ANSWERS]


# ---------------------------------------------------------------- other columns reach the items' meta


def test_other_columns_of_public_rows_are_kept_in_meta(tmp_path):
    (item, *_) = load_benchmark("medmcqa", write_jsonl(tmp_path / "dev.jsonl", ORIGINAL))
    assert item.meta == {"exp": CLOTTING["exp"], "topic_name": "Vitamins", "choice_type": "single", "cop_base": 1,
                         "subject": "Biochemistry"}
    assert item.source_id == CLOTTING["id"]
    (medqa, _) = load_benchmark("medqa", write_jsonl(tmp_path / "medqa.jsonl", MEDQA_ROWS))
    assert medqa.meta == {"meta_info": "step1", "metamap_phrases": ["woman", "burning", "urination"]}
    (health, _) = load_benchmark("mmlu_pro_med", write_jsonl(tmp_path / "mmlu.jsonl", MMLU_PRO_ROWS))
    assert health.meta == {"question_id": 70, "cot_content": "", "src": "ori_mmlu-clinical_knowledge",
                           "subject": "health", "subset": "health"}


def test_extra_columns_of_a_local_mcq_file_reach_the_items_and_leave_ids_alone(tmp_path):
    row = {"question": "A sailor has bleeding gums after months at sea. Which vitamin is lacking?",
           "options": {"A": "Vitamin A", "B": "Vitamin C", "C": "Vitamin D"}, "answer": "B", "subject": "nutrition"}
    (tmp_path / "plain").mkdir(), (tmp_path / "extra").mkdir()
    (plain,) = load_benchmark(write_jsonl(tmp_path / "plain" / "exam.jsonl", [row]))
    (item,) = load_benchmark(write_jsonl(tmp_path / "extra" / "exam.jsonl", [{**row, "difficulty": "hard",
                                                                               "topic": "vitamins"}]))
    assert item.meta == {"difficulty": "hard", "topic": "vitamins", "subject": "nutrition"}
    assert item.id == plain.id  # the resume key of an eval: extra columns do not change it


# ---------------------------------------------------------------- stating the base: CLI and recipe


def test_cli_eval_refuses_an_ambiguous_file_and_takes_cop_base(openai_server, tmp_path):
    openai_server.handler = fixed("The answer is B.")
    path = write_jsonl(tmp_path / "dev.jsonl", ORIGINAL[:3])
    out = tmp_path / "eval"
    args = ["eval", "--model", f"openai:scripted@{openai_server.url}", "--bench", "medmcqa", "--data", path,
            "--out", str(out), "--no-cache"]
    refused = CliRunner().invoke(app, args)
    assert isinstance(refused.exception, InputError) and "--cop-base 0 or --cop-base 1" in str(refused.exception)
    assert not openai_server.requests  # refused before any model call
    done = CliRunner().invoke(app, [*args, "--cop-base", "1"])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in (out / "medmcqa.items.jsonl").read_text().splitlines()]
    assert {r["source_id"]: r["answer"] for r in rows} == {r["id"]: a for r, a in zip(ORIGINAL, "BAC")}
    assert {r["source_id"]: r["correct"] for r in rows} == {CLOTTING["id"]: True, ABSENCE["id"]: False,
                                                            LATERAL_RECTUS["id"]: False}


def test_recipe_eval_cop_base_reaches_the_eval_items(tmp_path):
    write_jsonl(tmp_path / "dev.jsonl", ORIGINAL[:3])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\neval:\n  benches: [medmcqa]\n  data: {medmcqa: dev.jsonl}\n  cop_base: 1\n")
    assert [i.answer for i in eval_items(load_recipe(str(recipe)))] == ["B", "A", "C"]
    recipe.write_text("name: x\neval:\n  benches: [medmcqa]\n  data: {medmcqa: dev.jsonl}\n")
    with pytest.raises(InputError, match=r"dev\.jsonl:1: cop: .*\(recipe: eval\.cop_base\)"):
        eval_items(load_recipe(str(recipe)))
    recipe.write_text("name: x\neval:\n  benches: [medmcqa]\n  cop_base: 2\n")
    with pytest.raises(InputError, match=r"r\.yaml:4: eval\.cop_base: "):
        load_recipe(str(recipe))
