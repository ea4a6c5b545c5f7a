"""Synthesis of SFT examples from search traces, with a real local server as the teacher."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.cot import ReplyError, parse_cot
from medo1.jsonl import failed_path, read_jsonl
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from medo1.records import Problem, SearchTrace, SFTExample, TraceStep
from medo1.synthesize import (SynthConfig, example_id, official_path, reasoning_parser, repeated_share, synthesize,
                              synthesize_file)
from medo1.thinking import format_target, parse_output

QUESTION = "A vegan woman has numbness in her feet and macrocytic anaemia. What is the most likely cause?"
REASONING = "Hmm, macrocytic anaemia with numbness.\nWait, she is vegan, so B12 is low.\nOh, that fits B12 deficiency."
RESPONSE = "The most likely cause is vitamin B12 deficiency from a vegan diet."


def cot(conclusion: str) -> list:
    return parse_cot(json.dumps({"CoT": [
        {"action": "Inner Thinking", "title": "Findings", "content": f"Weighing the findings toward {conclusion}."},
        {"action": "Final Conclusion", "title": "Conclusion", "content": conclusion},
        {"action": "Verification", "title": "Check", "content": "Checked."}]}))


def trace(n: int, *, found: bool = True, first_right: bool = False, hint: bool = False) -> SearchTrace:
    problem = Problem(question=f"{QUESTION} (case {n})", answer="Vitamin B12 deficiency", source="medqa",
                      source_id=f"q{n}", options={"A": "Folate deficiency", "B": "Vitamin B12 deficiency"},
                      original_answer="B", meta={"original_question": f"Which deficiency? (case {n})"})
    steps = [TraceStep(attempt=0, depth=0, strategy="init", tag="search.init", cot=cot("Folate deficiency"),
                       conclusion="Folate deficiency", verdict=first_right)]
    if not first_right:
        steps.append(TraceStep(attempt=0, depth=1, strategy="correction", tag="search.correction",
                               cot=cot("Vitamin B12 deficiency"), conclusion="Vitamin B12 deficiency",
                               verdict=found))
    return SearchTrace(id=problem.id, question=problem.question, answer=problem.answer, found=found,
                       label_hint=hint, steps=steps, seed=0, problem=problem)


class Teacher:
    def __init__(self, reasoning: list[str] | None = None):
        self.reasoning = reasoning or []

    def __call__(self, body: dict, headers: dict) -> str:
        if headers["x-medo1-tag"] == "synth.cot":
            if self.reasoning:
                return self.reasoning.pop(0)
            return json.dumps({"NaturalReasoning": REASONING})
        assert headers["x-medo1-tag"] == "synth.response"
        return "## Final Response\n\n" + RESPONSE


def teacher(server) -> OpenAIChatModel:
    return OpenAIChatModel("teacher", base_url=server.url, concurrency=4,
                           retry=RetryPolicy(max_retries=1, initial_delay=0.01))


async def run(server, traces, out, cfg=SynthConfig(), **kw):
    model = teacher(server)
    try:
        return await synthesize(traces, out, cfg, teacher=model, concurrency=4, progress=False, **kw)
    finally:
        await model.aclose()


async def test_complex_variant(openai_server, tmp_path):
    openai_server.handler = Teacher()
    traces = [trace(0), trace(1, found=False), trace(2, hint=True)]
    out = tmp_path / "sft.jsonl"
    summary = await run(openai_server, traces, out)
    assert (summary.written, summary.failed) == (2, 1)
    examples = {e.problem_id: e for e in read_jsonl(out, SFTExample)}
    example = examples[traces[0].id]
    assert example.id == example_id(traces[0].id, "complex") and example.variant == "complex"
    assert example.complex_cot == REASONING.replace("\n", "\n\n") and example.response == RESPONSE
    assert example.answer == "Vitamin B12 deficiency" and example.source == "medqa"
    assert examples[traces[2].id].meta["label_hint"] is True
    parsed = parse_output(format_target(example.complex_cot, example.response))
    assert parsed.well_formed and parsed.final == RESPONSE
    # the rewrite saw the whole successful trajectory, the response call saw the rewritten reasoning
    cot_prompt = next(r for r in openai_server.requests if r.tag == "synth.cot" and traces[0].question
                      in r.json["messages"][0]["content"]).json["messages"][0]["content"]
    assert "### Findings" in cot_prompt and "Folate deficiency" in cot_prompt and "### Conclusion" in cot_prompt
    response_prompt = next(r for r in openai_server.requests if r.tag == "synth.response").json
    assert "Wait, she is vegan" in response_prompt["messages"][0]["content"]
    assert failed_path(out).read_text().count("no verified answer") == 1
    usage = json.loads((tmp_path / "sft.usage.json").read_text())
    assert usage["by_tag"]["synth.cot"]["calls"] == 2 and usage["by_tag"]["synth.response"]["calls"] == 2

    # resume: nothing new is asked
    openai_server.reset()
    again = await run(openai_server, traces, out)
    assert again.skipped == 3 and openai_server.count == 0


async def test_single_line_reasoning_is_reasked_then_recorded(openai_server, tmp_path):
    one_line = json.dumps({"NaturalReasoning": "It is B12 deficiency because she is vegan."})
    openai_server.handler = Teacher([one_line, json.dumps({"NaturalReasoning": REASONING})])
    out = tmp_path / "sft.jsonl"
    summary = await run(openai_server, [trace(0)], out)
    assert summary.written == 1
    reask = [r for r in openai_server.requests if r.tag == "synth.cot"][1].json["messages"]
    assert "own line" in reask[2]["content"]

    openai_server.handler = Teacher([one_line] * 3)
    out2 = tmp_path / "sft2.jsonl"
    summary = await run(openai_server, [trace(0)], out2, SynthConfig(retries=2))
    assert summary.failed == 1
    assert "own line" in json.loads(failed_path(out2).read_text())["reason"]


async def test_simple_direct_and_mcq_variants(openai_server, tmp_path):
    openai_server.handler = Teacher()
    traces = [trace(0, first_right=True), trace(1)]  # only the first has a correct initial CoT

    simple = await run(openai_server, traces, tmp_path / "simple.jsonl", SynthConfig(variant="simple"))
    assert (simple.written, simple.failed) == (1, 1)
    example = read_jsonl(tmp_path / "simple.jsonl", SFTExample)[0]
    assert example.variant == "simple" and example.complex_cot.startswith("### Findings")
    assert "### Conclusion\nFolate deficiency" in example.complex_cot  # (e0, y0) of the trace
    assert "simple keeps only" in failed_path(tmp_path / "simple.jsonl").read_text()

    direct = await run(openai_server, traces, tmp_path / "direct.jsonl", SynthConfig(variant="direct"))
    assert direct.written == 2
    assert all(e.complex_cot == "" and e.response == RESPONSE for e in read_jsonl(tmp_path / "direct.jsonl",
                                                                                   SFTExample))
    openai_server.reset()
    mcq = await synthesize(traces, tmp_path / "mcq.jsonl", SynthConfig(variant="mcq"), teacher=None,
                           progress=False)
    assert mcq.written == 2 and openai_server.count == 0  # no model needed
    example = read_jsonl(tmp_path / "mcq.jsonl", SFTExample)[0]
    assert example.question == "Which deficiency? (case 0)\n\nA. Folate deficiency\nB. Vitamin B12 deficiency"
    assert example.response == "B. Vitamin B12 deficiency" and example.complex_cot == ""


def test_official_format_and_cli(openai_server, tmp_path):
    openai_server.handler = Teacher()
    traces_path = tmp_path / "traces.jsonl"
    traces_path.write_text("".join(t.model_dump_json() + "\n" for t in [trace(0), trace(1)]))
    out = tmp_path / "sft.jsonl"
    result = CliRunner().invoke(app, ["synthesize", "--traces", str(traces_path), "--out", str(out),
                                      "--format", "official", "--teacher", f"openai:t@{openai_server.url}",
                                      "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "2 examples" in result.output
    rows = json.loads(official_path(out).read_text())
    assert [set(r) for r in rows] == [{"Question", "Complex_CoT", "Response"}] * 2
    assert {r["Response"] for r in rows} == {RESPONSE}
    # the official file reads back through the public-format loader
    assert SFTExample.from_raw(rows[0]).source == "medical-o1"


def test_reasoning_parser():
    parse = reasoning_parser(2)
    assert parse(json.dumps({"NaturalReasoning": "a\n\n\nb"})) == "a\n\nb"
    assert parse('{"NaturalReasoning": "a\nb"}') == "a\n\nb"  # a raw line break inside the string
    with pytest.raises(ReplyError, match="own line"):
        parse(json.dumps({"NaturalReasoning": "one line"}))
    with pytest.raises(ReplyError, match="NaturalReasoning"):
        parse(json.dumps({"reasoning_text": "a\nb"}))


def test_looping_replies_are_rejected():
    loop = "I will check the heart. " * 12
    assert repeated_share(loop) > 0.8 and repeated_share(REASONING) < 0.05
    assert repeated_share("Inner Thinking 1.2.3." + "1." * 60) > 0.5  # loops without spaces too
    with pytest.raises(ReplyError, match="repeats itself"):
        reasoning_parser(2, max_repeated=0.3)(json.dumps({"NaturalReasoning": f"First.\n{loop}"}))
    assert reasoning_parser(2, max_repeated=0.3)(json.dumps({"NaturalReasoning": REASONING}))


async def test_looping_response_is_reasked(openai_server, tmp_path):
    answers = ["## Final Response\n\n" + "It is B12. " * 10, "## Final Response\n\n" + RESPONSE]

    def handler(body: dict, headers: dict) -> str:
        if headers["x-medo1-tag"] == "synth.cot":
            return json.dumps({"NaturalReasoning": REASONING})
        return answers.pop(0)

    openai_server.handler = handler
    summary = await run(openai_server, [trace(0)], tmp_path / "sft.jsonl")
    assert summary.written == 1 and read_jsonl(tmp_path / "sft.jsonl", SFTExample)[0].response == RESPONSE
    reask = [r for r in openai_server.requests if r.tag == "synth.response"][1].json["messages"]
    assert "repeats itself" in reask[-1]["content"]


def test_synthesize_file_needs_a_teacher_except_for_mcq(tmp_path):
    from medo1.errors import Medo1Error

    traces_path = tmp_path / "traces.jsonl"
    traces_path.write_text(trace(0).model_dump_json() + "\n")
    with pytest.raises(Medo1Error, match="needs a teacher"):
        synthesize_file(traces_path, tmp_path / "s.jsonl", SynthConfig(), teacher=None, progress=False)
    summary = synthesize_file(traces_path, tmp_path / "m.jsonl", SynthConfig(variant="mcq"), teacher=None,
                              progress=False)
    assert summary.written == 1
