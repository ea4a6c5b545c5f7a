import json
import os
import subprocess
import sys
import textwrap

import pytest

from medo1.errors import InputError
from medo1.jsonl import JsonlWriter, StageOutput, failed_path, read_jsonl
from medo1.records import MCQ, EvalItem, Problem, SFTExample

OURS = {"question": "A 30-year-old has fever. Diagnosis?", "options": {"A": "Flu", "B": "Cold"}, "answer": "A"}


def write(tmp_path, name, text: str | bytes):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def lines(*records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def error_of(path, model) -> str:
    with pytest.raises(InputError) as err:
        read_jsonl(path, model)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ------------------------------------------------------------------ accepted formats


def test_reads_our_mcq_and_ids_are_stable(tmp_path):
    path = write(tmp_path, "q.jsonl", lines(OURS, {**OURS, "answer": "B"}))
    first, second = read_jsonl(path, MCQ)
    assert first.answer == "A" and first.answer_text == "Flu"
    assert first.id.startswith("mcq-") and first.id != second.id
    assert read_jsonl(path, MCQ)[0].id == first.id  # same content, same id
    assert MCQ.from_raw({**OURS, "source": "x"}).id == first.id  # id hashes content, not metadata


def test_reads_medqa_shape(tmp_path):
    raw = {"question": "Q?", "options": {"A": "a", "B": "b", "C": "c", "D": "d"}, "answer_idx": "C", "answer": "c",
           "meta_info": "step1"}
    (mcq,) = read_jsonl(write(tmp_path, "medqa.jsonl", lines(raw)), MCQ)
    assert mcq.answer == "C" and mcq.source == "medqa" and mcq.options["D"] == "d"


def test_reads_medmcqa_shape(tmp_path):
    raw = {"id": "abc-1", "question": "Q?", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 3,
           "subject_name": "Anatomy", "choice_type": "single", "exp": None}
    path = write(tmp_path, "medmcqa.jsonl", lines(raw, {**raw, "id": "abc-2", "cop": 0}))
    mcq, first = read_jsonl(path, MCQ)
    assert mcq.answer == "D" and mcq.source == "medmcqa" and mcq.source_id == "abc-1" and mcq.subject == "Anatomy"
    assert first.answer == "A"
def test_reads_medical_o1_problem_and_sft_shapes(tmp_path):
    prob = {"Open-ended Verifiable Question": "What causes scurvy?", "Ground-True Answer": "Vitamin C deficiency"}
    (p,) = read_jsonl(write(tmp_path, "p.jsonl", lines(prob)), Problem)
    assert p.answer == "Vitamin C deficiency" and p.source == "medical-o1"
    sft = {"Question": "Q?", "Complex_CoT": "Hmm.\nWait.", "Response": "R."}
    (s,) = read_jsonl(write(tmp_path, "s.jsonl", lines(sft)), SFTExample)
    assert s.complex_cot == "Hmm.\nWait." and s.response == "R."


def test_reads_json_array(tmp_path):
    path = write(tmp_path, "q.json", json.dumps([OURS, {**OURS, "answer": "B"}], indent=2))
    assert [m.answer for m in read_jsonl(path, MCQ)] == ["A", "B"]


def test_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path, "q.jsonl", "\n" + lines(OURS) + "\n\n")
    assert len(read_jsonl(path, MCQ)) == 1


# ------------------------------------------------------------------ bad input: one line, file:line: field


def test_malformed_json_names_line(tmp_path):
    path = write(tmp_path, "q.jsonl", lines(OURS) + '{"question": "x", \n')
    assert error_of(path, MCQ).startswith(f"{path}:2: (json): ")


def test_missing_field_names_field(tmp_path):
    bad = {k: v for k, v in OURS.items() if k != "question"}
    path = write(tmp_path, "q.jsonl", lines(OURS, OURS, bad))
    assert error_of(path, MCQ) == f"{path}:3: question: missing"


def test_wrong_type_names_field(tmp_path):
    path = write(tmp_path, "q.jsonl", lines({**OURS, "question": 42}))
    message = error_of(path, MCQ)
    assert message.startswith(f"{path}:1: question: expected str") and "42" in message


def test_answer_not_an_option(tmp_path):
    path = write(tmp_path, "q.jsonl", lines({**OURS, "answer": "E"}))
    assert error_of(path, MCQ).startswith(f"{path}:1: answer: 'E' is not one of the options AB")


def test_pydantic_type_error_in_problem(tmp_path):
    path = write(tmp_path, "p.jsonl", lines({"question": "Q?", "answer": "A", "meta": "oops"}))
    assert error_of(path, Problem).startswith(f"{path}:1: meta: ")


def test_empty_file(tmp_path):
    path = write(tmp_path, "q.jsonl", "")
    assert error_of(path, MCQ) == f"{path}:1: (file): empty file, expected JSON records"
    path = write(tmp_path, "w.jsonl", "\n  \n")
    assert "empty file" in error_of(path, MCQ)


def test_empty_json_array(tmp_path):
    assert "empty JSON array" in error_of(write(tmp_path, "q.json", "[\n]"), MCQ)


def test_non_utf8_byte_names_line(tmp_path):
    path = write(tmp_path, "q.jsonl", lines(OURS).encode() + b'{"question": "caf\xe9"}\n')
    assert error_of(path, MCQ) == f"{path}:2: (encoding): not valid UTF-8 (byte 0xe9 at column 18)"


def test_not_an_object(tmp_path):
    path = write(tmp_path, "q.jsonl", lines(OURS) + "[1, 2]\n")
    assert error_of(path, MCQ) == f"{path}:2: (record): expected a JSON object, got list"


def test_json_array_error_names_element_line(tmp_path):
    text = "[\n" + json.dumps(OURS) + ",\n" + json.dumps({**OURS, "answer": 3}) + "\n]"
    path = write(tmp_path, "q.json", text)
    assert error_of(path, MCQ).startswith(f"{path}:3: answer: expected an option letter")


def test_json_array_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "q.json", "[\n" + json.dumps(OURS) + "\n" + json.dumps(OURS) + "\n]")
    assert error_of(path, MCQ).startswith(f"{path}:3: (json): expected ',' or ']'")


def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nope.jsonl", MCQ).endswith("(file): no such file")


def test_eval_item_ids(tmp_path):
    item = EvalItem(bench="medqa", question="Q", options={"A": "a", "B": "b"}, answer="A")
    assert item.id.startswith("eval-") and item.id == EvalItem(**item.model_dump(exclude={"id"})).id


# ------------------------------------------------------------------ resumable writing


def test_writer_appends_and_remembers_ids(tmp_path):
    out = tmp_path / "out.jsonl"
    with JsonlWriter(out) as w:
        w.write({"id": "a", "x": 1})
        w.write(Problem(question="Q", answer="A"))
        assert "a" in w and len(w) == 2
    with JsonlWriter(out) as w:
        assert "a" in w and len(w) == 2
        w.write({"id": "c"})
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()][::2] == ["a", "c"]


def test_writer_repairs_half_written_last_line(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b", "text": "cut in the mid')
    with JsonlWriter(out) as w:
        assert w.ids == {"a"}
        w.write({"id": "b"})
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{"id": "a"}, {"id": "b"}]


def test_writer_repairs_file_with_only_partial_line(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "te')
    with JsonlWriter(out) as w:
        assert len(w) == 0
        w.write({"id": "a"})
    assert out.read_text() == '{"id": "a"}\n'


def test_resume_after_kill(tmp_path):
    """A process killed mid-run leaves complete records behind; a re-run skips them and finishes."""
    out = tmp_path / "stage.jsonl"
    script = textwrap.dedent(f"""
        import os, sys, time
        from medo1.jsonl import StageOutput
        stage = StageOutput({str(out)!r})
        for i in range(100):
            if stage.done(f"item-{{i}}"):
                continue
            if i % 7 == 3:
                stage.fail(f"item-{{i}}", "bad item")
            else:
                stage.write({{"id": f"item-{{i}}", "payload": "x" * 2000}})
            if i == int(sys.argv[1]):
                stage.ok._file.write('{{"id": "item-half", "payl')  # a write cut by the kill
                stage.ok._file.flush()
                os.kill(os.getpid(), 9)
        print("finished")
    """)
    killed = subprocess.run([sys.executable, "-c", script, "40"], capture_output=True, text=True)
    assert killed.returncode == -9
    stage = StageOutput(out)
    assert len(stage.ok) + len(stage.failed) == 41
    stage.close()
    done = subprocess.run([sys.executable, "-c", script, "1000"], capture_output=True, text=True)
    assert done.returncode == 0 and "finished" in done.stdout
    ok_ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    failed = [json.loads(line) for line in failed_path(out).read_text().splitlines()]
    assert len(ok_ids) == len(set(ok_ids)) and "item-half" not in ok_ids
    assert sorted(ok_ids + [f["id"] for f in failed], key=lambda s: int(s.split("-")[1])) == [
        f"item-{i}" for i in range(100)
    ]
    assert all(f["reason"] == "bad item" for f in failed)


def test_stage_output_retry_failed(tmp_path):
    out = tmp_path / "p.jsonl"
    with StageOutput(out, failed_kind="rejected") as stage:
        stage.fail("x", "too short", stage="rules")
        stage.write({"id": "y"})
    assert failed_path(out, "rejected").name == "p.rejected.jsonl"
    with StageOutput(out, failed_kind="rejected") as stage:
        assert stage.done("x") and stage.done("y")
    with StageOutput(out, failed_kind="rejected", retry_failed=True) as stage:
        assert not stage.done("x") and stage.done("y")
    assert os.path.exists(failed_path(out, "rejected"))
