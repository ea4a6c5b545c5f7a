"""Synthesis of SFT examples from search traces, with a real local server as the teacher."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.jsonl import failed_path, read_jsonl
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from medo1.pool import usage_path
from medo1.reasoning.cot import ReplyError, parse_cot
from medo1.reasoning.synth_replies import reasoning_parser, repeated_share
from medo1.reasoning.synthesize import SynthConfig, example_id, official_path, synthesize, synthesize_file
from medo1.records import Problem, SearchTrace, SFTExample, TraceStep
from medo1.thinking import format_target, parse_output
from tests.openai_server import Reply, by_tag

QUESTION = "A vegan woman has numbness in her feet and macrocytic anaemia. What is the most likely cause?"
REASONING = ("Hmm, macrocytic anaemia with numbness.\nWait, she is vegan, so B12 is low.\n"
             "Oh, that fits vitamin B12 deficiency.")
RESPONSE = "The most likely cause is vitamin B12 deficiency from a vegan diet."
# a reasoning that weighs the verified answer on the way but concludes with another one
DRIFTING_REASONING = ("Hmm, numbness and macrocytic anaemia, vitamin B12 deficiency fits.\n"
                      "Wait, she eats leafy greens every day.\nSo it is folate deficiency.")
DRIFTING_RESPONSE = "The most likely cause is folate deficiency; she should take folic acid."
ANSWER = "Vitamin B12 deficiency"


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
    """Plays the teacher: queued replies per call kind, then replies that state the verified answer."""

    def __init__(self, reasoning: list[str] | None = None, responses: list[str] | None = None):
        self.reasoning = list(reasoning or [])
        self.responses = list(responses or [])

    def __call__(self, body: dict, headers: dict) -> str:
        if headers["x-medo1-tag"] == "synth.cot":
            if self.reasoning:
                return self.reasoning.pop(0)
            return json.dumps({"NaturalReasoning": REASONING})
        assert headers["x-medo1-tag"] == "synth.response"
        return "## Final Response\n\n" + (self.responses.pop(0) if self.responses else RESPONSE)


def natural(text: str) -> str:
    return json.dumps({"NaturalReasoning": text})


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


# ---------------------------------------------------------------- the answer check


def requests_of(server, tag: str) -> list[list[dict]]:
    return [r.json["messages"] for r in server.requests if r.tag == tag]


async def test_prompts_state_the_verified_answer(openai_server, tmp_path):
    openai_server.handler = Teacher()
    summary = await run(openai_server, [trace(0)], tmp_path / "sft.jsonl")
    assert summary.written == 1 and summary.checked == summary.agreed_first == 1
    for tag in ("synth.cot", "synth.response"):
        prompt = requests_of(openai_server, tag)[0][0]["content"]
        assert "<verified answer>\nVitamin B12 deficiency\n</verified answer>" in prompt
    example = read_jsonl(tmp_path / "sft.jsonl", SFTExample)[0]
    assert example.meta["answer_check"] == {"verifier": "match", "reasks": {"reasoning": 0, "response": 0}}


async def test_drifting_response_is_reasked_then_kept(openai_server, tmp_path):
    openai_server.handler = Teacher(responses=[DRIFTING_RESPONSE])
    out = tmp_path / "sft.jsonl"
    summary = await run(openai_server, [trace(0)], out)
    assert (summary.written, summary.failed) == (1, 0)
    example = read_jsonl(out, SFTExample)[0]
    assert example.response == RESPONSE  # the fixed reply, not the drifting one
    assert example.meta["answer_check"]["reasks"] == {"reasoning": 0, "response": 1}
    first, reask = requests_of(openai_server, "synth.response")
    assert reask[:1] == first  # the same request, then the teacher's own reply and what is wrong with it
    assert reask[1] == {"role": "assistant", "content": "## Final Response\n\n" + DRIFTING_RESPONSE}
    assert "does not commit to the verified answer" in reask[2]["content"]
    assert "The verified answer is: Vitamin B12 deficiency" in reask[2]["content"]
    assert (summary.checked, summary.agreed_first, summary.reasked, summary.drifted) == (1, 0, 1, 0)
    assert summary.consistency_rate == 0.0


async def test_response_that_keeps_drifting_is_recorded_with_the_reason(openai_server, tmp_path):
    openai_server.handler = Teacher(responses=[DRIFTING_RESPONSE] * 3)
    out = tmp_path / "sft.jsonl"
    summary = await run(openai_server, [trace(0)], out, SynthConfig(answer_retries=2))
    assert (summary.written, summary.failed, summary.drifted, summary.checked) == (0, 1, 1, 1)
    assert not out.read_text()
    assert len(requests_of(openai_server, "synth.response")) == 3  # the ask and 2 re-asks, no more
    row = json.loads(failed_path(out).read_text())
    assert row["id"] == trace(0).id
    assert row["reason"].startswith("response does not state the verified answer 'Vitamin B12 deficiency' "
                                    "(verifier match, 3 tries)")
    assert "folate deficiency" in row["reason"]
    assert row["answer_check"] == {"verifier": "match", "reasks": {"reasoning": 0, "response": 2},
                                   "drifted": "response"}


async def test_reasoning_whose_conclusion_drifts_is_caught(openai_server, tmp_path):
    # It names the verified answer on the way: only its final thought counts.
    openai_server.handler = Teacher(reasoning=[natural(DRIFTING_REASONING)] * 2)
    out = tmp_path / "sft.jsonl"
    summary = await run(openai_server, [trace(0)], out, SynthConfig(answer_retries=1))
    assert (summary.written, summary.drifted) == (0, 1)
    assert requests_of(openai_server, "synth.response") == []  # no response is written from a drifting reasoning
    reask = requests_of(openai_server, "synth.cot")[1]
    assert "'So it is folate deficiency.'" in reask[2]["content"]
    row = json.loads(failed_path(out).read_text())
    assert row["reason"].startswith("the reasoning's final thought does not state the verified answer")
    assert row["answer_check"]["drifted"] == "reasoning"

    openai_server.reset()
    openai_server.handler = Teacher(reasoning=[natural(DRIFTING_REASONING)])
    summary = await run(openai_server, [trace(0)], tmp_path / "fixed.jsonl")
    example = read_jsonl(tmp_path / "fixed.jsonl", SFTExample)[0]
    assert example.complex_cot == REASONING.replace("\n", "\n\n")
    assert example.meta["answer_check"]["reasks"] == {"reasoning": 1, "response": 0}
    # the response was written from the fixed reasoning
    assert "Oh, that fits vitamin B12" in requests_of(openai_server, "synth.response")[0][0]["content"]


async def test_summary_counts_and_consistency_rate(openai_server, tmp_path):
    """Four traces: one agrees at once, one after a re-ask, one keeps drifting, one has no verified answer."""
    asked: dict[int, int] = {}

    def handler(body: dict, headers: dict) -> str:
        case = int(body["messages"][0]["content"].split("(case ")[1][0])
        if headers["x-medo1-tag"] == "synth.cot":
            return natural(REASONING)
        asked[case] = asked.get(case, 0) + 1
        drifts = case == 2 or (case == 1 and asked[case] == 1)
        return DRIFTING_RESPONSE if drifts else RESPONSE

    openai_server.handler = handler
    out = tmp_path / "sft.jsonl"
    traces = [trace(0), trace(1), trace(2), trace(3, found=False)]
    summary = await run(openai_server, traces, out)
    assert summary.as_dict() == {"input": 4, "skipped": 0, "written": 2, "failed": 2, "checked": 3,
                                 "agreed_first": 1, "reasked": 1, "drifted": 1, "verify_errors": 0,
                                 "consistency_rate": 0.3333}
    # the same figures from the files (what the run report reads; they also cover resumed runs)
    from medo1.reasoning.synthesize import answer_checks

    again = answer_checks(out)
    assert (again.checked, again.agreed_first, again.reasked, again.drifted) == (3, 1, 1, 1)
    assert abs(again.consistency_rate - 1 / 3) < 1e-9


async def test_simple_and_direct_responses_are_checked_mcq_is_not(openai_server, tmp_path):
    openai_server.handler = Teacher(responses=[DRIFTING_RESPONSE] * 2)
    simple = await run(openai_server, [trace(0, first_right=True)], tmp_path / "simple.jsonl",
                       SynthConfig(variant="simple", answer_retries=1))
    assert (simple.written, simple.drifted) == (0, 1)
    assert requests_of(openai_server, "synth.cot") == []  # simple keeps the initial CoT as it is

    openai_server.reset()
    openai_server.handler = Teacher(reasoning=[natural(DRIFTING_REASONING)], responses=[DRIFTING_RESPONSE])
    direct = await run(openai_server, [trace(0)], tmp_path / "direct.jsonl", SynthConfig(variant="direct"))
    example = read_jsonl(tmp_path / "direct.jsonl", SFTExample)[0]
    assert example.complex_cot == "" and example.response == RESPONSE
    # the same calls and checks as complex, so both variants hold the same responses
    assert example.meta["answer_check"]["reasks"] == {"reasoning": 1, "response": 1} and direct.reasked == 1

    mcq = await synthesize([trace(0)], tmp_path / "mcq.jsonl", SynthConfig(variant="mcq"), teacher=None,
                           progress=False)
    assert mcq.written == 1 and mcq.checked == 0 and mcq.consistency_rate is None
    assert "answer_check" not in read_jsonl(tmp_path / "mcq.jsonl", SFTExample)[0].meta


async def test_no_check_answer_keeps_the_first_valid_reply(openai_server, tmp_path):
    openai_server.handler = Teacher(responses=[DRIFTING_RESPONSE])
    summary = await run(openai_server, [trace(0)], tmp_path / "sft.jsonl", SynthConfig(check_answer=False))
    example = read_jsonl(tmp_path / "sft.jsonl", SFTExample)[0]
    assert summary.written == 1 and summary.checked == 0 and example.response == DRIFTING_RESPONSE
    assert "answer_check" not in example.meta


async def test_hedged_response_is_not_accepted(openai_server, tmp_path):
    from medo1.verify import MatchVerifier

    hedge = "It is either vitamin B12 deficiency or folate deficiency; both are possible."
    if MatchVerifier().check(hedge, ANSWER):
        pytest.xfail("the match verifier still accepts hedges (issue 10, section 2)")
    openai_server.handler = Teacher(responses=[hedge])
    summary = await run(openai_server, [trace(0)], tmp_path / "sft.jsonl")
    assert summary.reasked == 1 and read_jsonl(tmp_path / "sft.jsonl", SFTExample)[0].response == RESPONSE


def judge(body: dict, headers: dict) -> str:
    """A judge on the same server: True when the response it is shown names vitamin B12 and not folate."""
    prompt = body["messages"][0]["content"]
    response = prompt.split("<response>")[1].split("</response>")[0].lower()
    return "True" if "vitamin b12" in response and "folate" not in response else "False"


def test_judge_verifier_from_the_cli(openai_server, tmp_path):
    teacher_replies = Teacher(reasoning=[natural(DRIFTING_REASONING)], responses=[DRIFTING_RESPONSE] * 5)
    openai_server.handler = by_tag({"verify": judge}, default=teacher_replies)
    traces_path = tmp_path / "traces.jsonl"
    traces_path.write_text("".join(t.model_dump_json() + "\n" for t in [trace(0), trace(1)]))
    out = tmp_path / "sft.jsonl"
    result = CliRunner().invoke(app, ["synthesize", "--traces", str(traces_path), "--out", str(out),
                                      "--teacher", f"openai:teacher@{openai_server.url}",
                                      "--verifier", f"judge:openai:judge@{openai_server.url}",
                                      "--concurrency", "1", "--no-cache"])
    assert result.exit_code == 0, result.output
    # 1 drifting reasoning and 5 drifting responses shared by two traces: one drops after 3, one is kept after 2
    assert "1 examples, 1 failed" in result.output
    assert "consistency 0.0% (0 of 2 agreed at the first ask, 1 kept after a re-ask, 1 dropped for drift)" \
        in result.output
    judged = [r.json for r in openai_server.requests if r.tag == "verify"]
    assert all(r["model"] == "judge" for r in judged) and len(judged) == 2 + 3 + 1 + 3
    shown = [m["messages"][0]["content"].split("<response>")[1].split("</response>")[0].strip() for m in judged]
    assert "So it is folate deficiency." in shown  # the judge sees the reasoning's final thought, not all of it
    assert not any("leafy greens" in text for text in shown)
    example = read_jsonl(out, SFTExample)[0]
    assert example.meta["answer_check"]["verifier"] == f"judge:openai:judge@{openai_server.url}"
    assert f"(verifier judge:openai:judge@{openai_server.url}, 3 tries)" in \
        json.loads(failed_path(out).read_text())["reason"]
    usage = json.loads((tmp_path / "sft.usage.json").read_text())
    assert usage["by_tag"]["verify"]["calls"] == len(judged)


async def test_judge_outage_is_a_failure_with_its_reason(openai_server, tmp_path):
    from medo1.verify import JudgeVerifier

    def handler(body: dict, headers: dict):
        if headers["x-medo1-tag"] == "verify":
            return Reply(status=503, error_message="judge overloaded")
        return Teacher()(body, headers)

    openai_server.handler = handler
    verifier = JudgeVerifier(OpenAIChatModel("judge", base_url=openai_server.url,
                                             retry=RetryPolicy(max_retries=1, initial_delay=0.01)))
    out = tmp_path / "sft.jsonl"
    try:
        summary = await run(openai_server, [trace(0), trace(1)], out, verifier=verifier)
    finally:
        await verifier.model.aclose()
    assert (summary.written, summary.failed, summary.verify_errors, summary.checked) == (0, 2, 2, 0)
    rows = [json.loads(line) for line in failed_path(out).read_text().splitlines()]
    assert all(r["reason"].startswith("verify (reasoning, judge:openai:judge@") and "ModelError" in r["reason"]
               and "judge overloaded" in r["reason"] for r in rows)
    assert all(r["answer_check"]["error"] == "reasoning" for r in rows)


def test_pipeline_stage_checks_with_the_runs_verifier(openai_server, tmp_path):
    import io

    from rich.console import Console

    from medo1.pipeline import Run
    from medo1.recipe import load_recipe
    from medo1.stages import stage_synthesize

    openai_server.handler = by_tag({"verify": judge}, default=Teacher(responses=[DRIFTING_RESPONSE]))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"name: t\nmodels:\n  teacher: openai:teacher@{openai_server.url}\n"
                      f"  verifier: judge:openai:judge@{openai_server.url}\n  concurrency: 2\n"
                      "synthesize:\n  answer_retries: 1\n")
    console = Console(file=io.StringIO(), width=200)
    run = Run(load_recipe(recipe), tmp_path / "run", concurrency=None, cache=False, console=console)
    run.paths.traces.write_text(trace(0).model_dump_json() + "\n")
    summary = stage_synthesize(run)
    assert (summary["written"], summary["reasked"], summary["consistency_rate"]) == (1, 1, 0.0)
    assert "consistency with the verified answer 0.0% (0 of 1 at the first ask, 1 after a re-ask" \
        in console.file.getvalue()
    assert [r.json["model"] for r in openai_server.requests if r.tag == "verify"] == ["judge"] * 3
    # the recipe section takes the new settings, and the stage's fingerprint follows the verifier
    before = run.fingerprint("synthesize")
    recipe.write_text(recipe.read_text().replace(f"judge:openai:judge@{openai_server.url}", "match"))
    assert Run(load_recipe(recipe), tmp_path / "run", concurrency=None, cache=False).fingerprint("synthesize") \
        != before


async def test_report_shows_the_consistency_rate(openai_server, tmp_path):
    from medo1.report import build_markdown

    asked: dict[str, int] = {}

    def handler(body: dict, headers: dict) -> str:
        if headers["x-medo1-tag"] == "synth.cot":
            return natural(REASONING)
        case = body["messages"][0]["content"].split("(case ")[1][0]
        asked[case] = asked.get(case, 0) + 1
        return DRIFTING_RESPONSE if case == "1" and asked[case] == 1 else RESPONSE

    openai_server.handler = handler
    await run(openai_server, [trace(0), trace(1), trace(2)], tmp_path / "sft.jsonl")
    report = build_markdown(tmp_path, {})
    assert "## Synthesis: agreement with the verified answer" in report
    assert "| 3 | 2 | 1 | 0 | 0 | 66.7 |" in report


@pytest.mark.embedded
def test_embedded_teacher_yields_examples_that_state_the_answer(tmp_path, capsys):
    """The demo's settings on the embedded 135M teacher (llama.cpp, grammar-held reasoning): told the verified
    answer, it still yields SFT examples, and every one of them passes the check. With response_max_chars 0 the
    grammar allows one response, the answer line, so none is asked for."""
    from medo1.reasoning.consistency import final_thought
    from medo1.verify import MatchVerifier

    traces_path = tmp_path / "traces.jsonl"
    traces_path.write_text("".join(trace(n, hint=True).model_dump_json() + "\n" for n in range(3)))
    out = tmp_path / "sft.jsonl"
    summary = synthesize_file(traces_path, out, SynthConfig(max_tokens=320, temperature=0.7, response_max_chars=0),
                              teacher="embedded", verifier="match", concurrency=1, cache=False, progress=False)
    with capsys.disabled():
        print(f"\nembedded synthesis: {summary.as_dict()}")
    examples = read_jsonl(out, SFTExample)
    assert examples and summary.checked == summary.agreed_first + summary.reasked + summary.drifted
    for example in examples:
        assert "vitamin b12 deficiency" in final_thought(example.complex_cot).lower()
        assert example.response == f"The answer is {ANSWER}." and MatchVerifier().check(example.response, ANSWER)
    usage = json.loads(usage_path(out).read_text())["by_tag"]
    assert usage["synth.cot"]["calls"] >= len(examples) and "synth.response" not in usage


def test_grammar_backed_replies_state_the_answer_in_a_fixed_sentence():
    """For the embedded (llama.cpp) teacher the schemas hold the reasoning's last line and the response's
    first sentence to the rendered answer line ("The answer is X."), word for word."""
    import re

    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from medo1.llm import load_model
    from medo1.reasoning.synth_replies import REASONING_SCHEMA, reasoning_schema, response_schema

    model = load_model("embedded", cache=False)  # loads nothing until the first call
    line = "The answer is Type 2 diabetes mellitus (T2DM)."
    pattern = reasoning_schema(model, 2, line)["properties"]["NaturalReasoning"]["pattern"]

    def body(*lines: str) -> str:  # the string as it appears inside the JSON reply, which the grammar constrains
        return json.dumps("\n\n".join(lines))[1:-1]

    assert re.fullmatch(pattern, body("Hmm, thirst and weight loss in an adult.", line))
    assert not re.fullmatch(pattern, body(line, "Hmm, or maybe type 1 after all."))
    assert not re.fullmatch(pattern, body("Hmm, thirst and weight loss in an adult.", "So it is diabetes."))
    assert not re.fullmatch(pattern, body(f"So {line}"))  # still at least one thought before the answer line
    # llama.cpp reads the answer back as a literal (the brackets and the point are not pattern syntax)
    assert '"The answer is Type 2 diabetes mellitus (T2DM)" [.]' in json_schema_to_gbnf(
        json.dumps(reasoning_schema(model, 2, line)))

    reply = response_schema(model, line)["properties"]["Response"]["pattern"]
    assert re.fullmatch(reply, body(f"{line} Polyuria, thirst and weight loss in an overweight adult."))
    assert not re.fullmatch(reply, body("Polyuria and thirst point to diabetes. " + line))
    assert not re.fullmatch(reply, body(f"{line} " + "It fits. " * 40))  # at most 240 more characters
    short = response_schema(model, line, max_chars=60)["properties"]["Response"]["pattern"]  # response_max_chars
    assert re.fullmatch(short, body(f"{line} Polyuria, thirst and weight loss in an adult."))
    assert not re.fullmatch(short, body(f"{line} Polyuria, thirst and weight loss in an overweight adult, not type 1."))
    alone = response_schema(model, line, max_chars=0)["properties"]["Response"]["pattern"]
    assert re.fullmatch(alone, body(line)) and not re.fullmatch(alone, body(f"{line} It fits."))

    # an answer a pattern cannot hold leaves the plain schemas; other backends get the portable ones
    assert reasoning_schema(model, 2, 'The answer is the "Q" wave.') == reasoning_schema(model, 2)
    assert response_schema(model, 'The answer is the "Q" wave.') is None
    openai = OpenAIChatModel("t", base_url="http://127.0.0.1:9/v1")
    assert reasoning_schema(openai, 2, line) == REASONING_SCHEMA and response_schema(openai, line) is None


def test_grammar_held_reasoning_fits_the_token_budget():
    """A grammar-held reasoning reply must end within max_tokens: one cut off at the limit is invalid JSON and
    its call is wasted (the quick demo lost 5 of 13 traces that way at 160 tokens)."""
    import re

    from medo1.llm import load_model
    from medo1.reasoning.cot import CHARS_PER_TOKEN
    from medo1.reasoning.synth_replies import JSON_CHARS, LINE_MAX, reasoning_schema

    model = load_model("embedded", cache=False)
    line = "The answer is Type 2 diabetes mellitus (T2DM)."

    def longest(pattern: str, answer: str | None) -> int:  # the longest reply the pattern allows, in characters
        width, most = map(int, re.match(r"\^\(\[.*?\]\{10,(\d+)\}\\\\n\\\\n\)\{\d+,(\d+)\}", pattern).groups())
        return JSON_CHARS + most * (width + 4) + (len(answer) if answer else width)

    for answer in (line, None):
        for max_tokens in (64, 96, 128, 160, 256):
            pattern = reasoning_schema(model, 2, answer, max_tokens)["properties"]["NaturalReasoning"]["pattern"]
            assert longest(pattern, answer) <= max_tokens * CHARS_PER_TOKEN, (answer, max_tokens, pattern)
            assert re.fullmatch(pattern, json.dumps("\n\n".join(["Thirst and weight loss in an adult.", line]))[1:-1])
    # a generous budget keeps the 160-character lines; a small one shortens them, then allows fewer
    assert reasoning_schema(model, 2, line, 8192) == reasoning_schema(model, 2, line)
    assert f"{{10,{LINE_MAX}}}" in reasoning_schema(model, 2, line, 256)["properties"]["NaturalReasoning"]["pattern"]
    tight = reasoning_schema(model, 2, line, 64)["properties"]["NaturalReasoning"]["pattern"]
    assert "){1,2}" in tight and not re.fullmatch(tight, json.dumps("\n\n".join(["x" * 60, line]))[1:-1])


async def test_grammar_backed_response_reply_is_read_from_its_json():
    from medo1.reasoning.synth_replies import response_parser

    parse = response_parser(0.3, json_reply=True)
    assert parse('{"Response": "The answer is Gout. Monosodium urate crystals in the joint."}') == \
        "The answer is Gout. Monosodium urate crystals in the joint."
    with pytest.raises(ReplyError, match="Response"):
        parse('{"NaturalReasoning": "The answer is Gout."}')
    assert response_parser(0.3)('{"Response": "x"}') == '{"Response": "x"}'  # plain-text teachers: as written
