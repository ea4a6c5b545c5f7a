"""Real input rows: extra columns are kept in `meta`, and MedMCQA `cop` is read with the file's own base."""

import json
import logging

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import InputError
from medo1.jsonl import JsonlWriter, read_jsonl
from medo1.reasoning.search import SearchConfig, search
from medo1.recipe import load_recipe
from medo1.records import MCQ, EvalItem, Problem, Record, SearchTrace, SFTExample
from medo1.split import split_file
from medo1.verify import MatchVerifier
from tests.openai_server import fixed


def write(tmp_path, name: str, *rows) -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def error_of(path, model, **kw) -> str:
    with pytest.raises(InputError) as err:
        read_jsonl(path, model, **kw)
    assert "\n" not in str(err.value)
    return str(err.value)


COT = [{"action": "Inner Thinking", "title": "Findings", "content": "Bleeding gums and perifollicular haemorrhages."},
       {"action": "Final Conclusion", "content": "Vitamin C deficiency"},
       {"action": "Verification", "content": "Scurvy explains every finding."}]
EXTRA = {"difficulty": "hard", "reviewer": {"name": "R. Osei", "round": 2}, "tags": ["nutrition"], "year": 2021}

# One row of each of our own formats, as a user's file would hold it (plus EXTRA columns).
OWN_ROWS = {
    MCQ: {"question": "A sailor has bleeding gums after a long voyage. Which vitamin is lacking?",
          "options": {"A": "Vitamin A", "B": "Vitamin C", "C": "Vitamin D", "D": "Vitamin K"}, "answer": "B",
          "source": "my-bank", "split": "train", "meta": {"batch": 3}},
    Problem: {"question": "A sailor has bleeding gums after a long voyage. What is the cause?",
              "answer": "Vitamin C deficiency", "source": "my-bank", "meta": {"batch": 3}},
    SFTExample: {"question": "A sailor has bleeding gums. Cause?", "complex_cot": "Hmm, gums bleed.\nWait, scurvy.",
                 "response": "Vitamin C deficiency (scurvy).", "variant": "complex", "answer": "Vitamin C deficiency"},
    SearchTrace: {"id": "prob-0123456789abcdef", "question": "A sailor has bleeding gums. Cause?",
                  "answer": "Vitamin C deficiency", "found": True,
                  "steps": [{"attempt": 0, "depth": 0, "strategy": "init", "tag": "search.init", "cot": COT,
                             "conclusion": "Vitamin C deficiency", "verdict": True}]},
    EvalItem: {"bench": "my-exam", "question": "Which vitamin deficiency causes scurvy?",
               "options": {"A": "B1", "B": "C", "C": "D"}, "answer": "B"},
}


# ---------------------------------------------------------------- extra columns in our own formats


@pytest.mark.parametrize("model", list(OWN_ROWS), ids=lambda m: m.__name__)
def test_extra_columns_are_kept_in_meta(tmp_path, model):
    row = OWN_ROWS[model]
    (plain,) = read_jsonl(write(tmp_path, "plain.jsonl", row), model)
    (record,) = read_jsonl(write(tmp_path, "extra.jsonl", {**row, **EXTRA}), model)
    assert record.meta == {**row.get("meta", {}), **EXTRA}
    assert record.id == plain.id  # ids hash the content, not the extra columns
    assert record.model_dump(exclude={"meta"}) == plain.model_dump(exclude={"meta"})
    # written by a stage and read back: the columns stay (now inside meta), nothing is lost or doubled
    out = tmp_path / "out.jsonl"
    with JsonlWriter(out) as writer:
        writer.write(record)
    (again,) = read_jsonl(out, model)
    assert again == record


def test_extra_column_equal_to_meta_is_one_value_and_a_different_one_is_an_error(tmp_path):
    row = {**OWN_ROWS[Problem], "meta": {"difficulty": "hard"}}
    (same,) = read_jsonl(write(tmp_path, "same.jsonl", {**row, "difficulty": "hard"}), Problem)
    assert same.meta == {"difficulty": "hard"}
    path = write(tmp_path, "clash.jsonl", row, {**row, "difficulty": "easy"})
    assert error_of(path, Problem) == (f'{path}:2: difficulty: column and meta.difficulty differ ("easy" vs "hard"); '
                                       "rename the column")


def test_a_traces_nested_problem_keeps_its_columns_too(tmp_path):
    problem = {**OWN_ROWS[Problem], "difficulty": "hard"}
    (trace,) = read_jsonl(write(tmp_path, "t.jsonl", {**OWN_ROWS[SearchTrace], "problem": problem}), SearchTrace)
    assert trace.problem.meta == {"batch": 3, "difficulty": "hard"} and trace.meta == {}
    clash = {**problem, "meta": {"difficulty": "easy"}}
    path = write(tmp_path, "c.jsonl", {**OWN_ROWS[SearchTrace], "problem": clash})
    assert error_of(path, SearchTrace).startswith(f"{path}:1: problem.difficulty: column and meta.difficulty differ")


def test_a_misspelt_required_field_is_still_named(tmp_path):
    row = {k: v for k, v in OWN_ROWS[Problem].items() if k != "answer"}
    path = write(tmp_path, "p.jsonl", {**row, "answr": "Vitamin C deficiency"})
    assert error_of(path, Problem) == f"{path}:1: answer: missing"


def test_in_code_an_unknown_field_stays_an_error_and_records_without_meta_reject_columns(tmp_path):
    with pytest.raises(ValidationError, match="answr"):
        Problem(question="Q?", answer="A", answr="A")

    class Rating(Record):  # a record without `meta` has nowhere to keep a column
        score: int

    path = write(tmp_path, "r.jsonl", {"score": 3, "rater": "x"})
    assert error_of(path, Rating) == f"{path}:1: rater: unknown field"


def test_public_formats_keep_their_other_columns(tmp_path):
    medqa = {"question": "Q?", "options": {"A": "a", "B": "b", "C": "c", "D": "d"}, "answer_idx": "C", "answer": "c",
             "meta_info": "step1"}
    (q,) = read_jsonl(write(tmp_path, "medqa.jsonl", medqa), MCQ)
    assert q.meta == {"meta_info": "step1"}
    medmcqa = {"id": "e9ad821a", "question": "Q?", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 0,
               "choice_type": "single", "exp": "Because a.", "subject_name": "Anatomy", "topic_name": None}
    (m,) = read_jsonl(write(tmp_path, "medmcqa.jsonl", medmcqa), MCQ)
    assert m.meta == {"choice_type": "single", "exp": "Because a.", "topic_name": None, "cop_base": 0}
    assert m.source_id == "e9ad821a" and m.subject == "Anatomy"
    o1 = {"Open-ended Verifiable Question": "What causes scurvy?", "Ground-True Answer": "Vitamin C deficiency",
          "source": "medqa", "id": 17}
    (p,) = read_jsonl(write(tmp_path, "o1.jsonl", o1), Problem)
    assert p.meta == {"source": "medqa"} and p.source == "medical-o1" and p.source_id == "17"
    sft = {"Question": "Q?", "Complex_CoT": "Hmm.", "Response": "R.", "id": "x1", "lang": "en"}
    (s,) = read_jsonl(write(tmp_path, "sft.jsonl", sft), SFTExample)
    assert s.meta == {"id": "x1", "lang": "en"} and s.id.startswith("sft-")


async def test_problem_columns_survive_split_and_search_into_the_trace(openai_server, tmp_path):
    rows = [{"question": f"Patient {i}: a sailor with bleeding gums after months at sea. Cause?",
             "answer": "Vitamin C deficiency", "difficulty": ["easy", "hard"][i % 2], "ward": f"W{i}"}
            for i in range(4)]
    problems = write(tmp_path, "problems.jsonl", *rows)
    n_search, _ = split_file(problems, tmp_path / "search.jsonl", tmp_path / "rl.jsonl", rl_fraction=0.5)
    items = read_jsonl(tmp_path / "search.jsonl", Problem)
    assert len(items) == n_search == 2
    openai_server.handler = fixed(json.dumps({"CoT": COT}))
    from medo1.llm.openai import OpenAIChatModel

    teacher = OpenAIChatModel("teacher", base_url=openai_server.url)
    try:
        summary = await search(items, tmp_path / "traces.jsonl", SearchConfig(), teacher=teacher,
                               verifier=MatchVerifier(), progress=False)
    finally:
        await teacher.aclose()
    assert summary.found == 2
    traces = read_jsonl(tmp_path / "traces.jsonl", SearchTrace)
    by_question = {r["question"]: r for r in rows}
    for trace in traces:
        row = by_question[trace.question]
        assert trace.problem.meta == {"difficulty": row["difficulty"], "ward": row["ward"]}


def test_unknown_recipe_key_is_still_an_error(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: x\ndata:\n  mcq: [sample]\n  difficulty: hard\n")
    with pytest.raises(InputError, match=r"r\.yaml:4: data\.difficulty: unknown key"):
        load_recipe(str(path))


# ---------------------------------------------------------------- MedMCQA cop: 0-based (hub) or 1-based (original)


def medmcqa(cop, n: int = 0, **extra) -> dict:
    return {"id": f"mm-{n}", "question": f"Question {n}?", "opa": "Alpha", "opb": "Beta", "opc": "Gamma",
            "opd": "Delta", "cop": cop, "choice_type": "single", **extra}


def test_hub_file_is_zero_based(tmp_path, caplog):
    path = write(tmp_path, "hub.jsonl", *[medmcqa(c, i) for i, c in enumerate([2, 0, 3, 1])])
    with caplog.at_level(logging.WARNING):
        mcqs = read_jsonl(path, MCQ)
    assert [m.answer for m in mcqs] == ["C", "A", "D", "B"]
    assert all(m.meta["cop_base"] == 0 for m in mcqs) and not caplog.records


def test_original_file_is_detected_as_one_based_for_every_row_and_reported(tmp_path, caplog):
    # the 4 only shows on the last line: the rows before it must not be read 0-based
    path = write(tmp_path, "original.jsonl", *[medmcqa(c, i) for i, c in enumerate([2, 1, 3, 4])])
    with caplog.at_level(logging.WARNING):
        mcqs = read_jsonl(path, MCQ)
    assert [m.answer for m in mcqs] == ["B", "A", "C", "D"]
    assert all(m.meta["cop_base"] == 1 for m in mcqs)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"{path}: MedMCQA cop is read as 1-based (the original release): line 4 has cop 4")


def test_medmcqa_rows_among_other_shapes_decide_alone(tmp_path):
    medqa = {"question": "Q?", "options": {"A": "a", "B": "b"}, "answer_idx": "A"}
    path = write(tmp_path, "mixed.jsonl", medqa, medmcqa(4, 1), medmcqa(1, 2))
    assert [m.answer for m in read_jsonl(path, MCQ)] == ["A", "D", "A"]


def test_ambiguous_file_is_refused_until_the_base_is_stated(tmp_path):
    path = write(tmp_path, "small.jsonl", *[medmcqa(c, i) for i, c in enumerate([2, 1, 3, 2])])
    message = error_of(path, MCQ)
    assert message.startswith(f"{path}:1: cop: no cop is 0 or the last option's number in the 4 MedMCQA rows")
    assert "--cop-base 0 or --cop-base 1" in message
    assert [m.answer for m in read_jsonl(path, MCQ, cop_base=0)] == ["C", "B", "D", "C"]
    assert [m.answer for m in read_jsonl(path, MCQ, cop_base=1)] == ["B", "A", "C", "B"]


def test_file_mixing_zero_and_four_is_an_error(tmp_path):
    path = write(tmp_path, "mixed.jsonl", medmcqa(1, 0), medmcqa(0, 1), medmcqa(2, 2), medmcqa(4, 3))
    assert error_of(path, MCQ) == (f"{path}:4: cop: 4 of 4 options here but 0 on line 2: the file mixes 0-based "
                                   "and 1-based answers")


@pytest.mark.parametrize("cop", [7, -1])
def test_cop_out_of_range_names_file_line_and_field(tmp_path, cop):
    path = write(tmp_path, "m.jsonl", medmcqa(0, 0), medmcqa(1, 1), medmcqa(cop, 2))
    assert error_of(path, MCQ) == (f"{path}:3: cop: {cop} is out of range for 4 options (0..3 counted from 0, "
                                   "1..4 counted from 1)")


def test_stated_base_is_checked_row_by_row(tmp_path):
    path = write(tmp_path, "m.jsonl", medmcqa(1, 0), medmcqa(0, 1))
    assert error_of(path, MCQ, cop_base=1) == f"{path}:2: cop: 0 is not a 1-based option index (1..4)"
    path = write(tmp_path, "n.jsonl", medmcqa(1, 0), medmcqa(4, 1))
    assert error_of(path, MCQ, cop_base=0) == f"{path}:2: cop: 4 is not a 0-based option index (0..3)"


def test_cop_base_from_the_cli_and_the_recipe(tmp_path):
    long = "A 40-year-old sailor returns from a long voyage with bleeding gums and perifollicular haemorrhages. "
    rows = [medmcqa(c, i, question=f"{long}Case {i}: which vitamin is lacking?") for i, c in enumerate([2, 1, 3])]
    path = write(tmp_path, "bank.jsonl", *rows)
    args = ["curate", "--input", path, "--out", str(tmp_path / "p.jsonl"), "--no-llm-filter", "--reformat", "rule"]
    refused = CliRunner().invoke(app, args)
    assert isinstance(refused.exception, InputError) and "--cop-base 0 or --cop-base 1" in str(refused.exception)
    done = CliRunner().invoke(app, [*args, "--cop-base", "1"])
    assert done.exit_code == 0, done.output
    assert [p.answer for p in read_jsonl(tmp_path / "p.jsonl", Problem)] == ["Beta", "Alpha", "Gamma"]
    from medo1.stages import gather_mcqs

    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: x\ndata:\n  mcq: [{path}]\n  split: null\n  cop_base: 0\n")
    assert [m.answer for m in gather_mcqs(load_recipe(str(recipe)))] == ["C", "B", "D"]
