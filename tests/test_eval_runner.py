"""The eval runner against a real OpenAI-compatible server on 127.0.0.1, scoring by hand, tables, CLI."""

import json
import math
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.evaluate import EvalConfig, build_prompt, compare, evaluate, load_benchmark, score, wilson_interval
from medo1.evaluate.runner import data_files, model_spec
from medo1.llm import load_model
from medo1.report import output_stats
from tests.openai_server import Reply, by_last_user
from tests.test_benchmarks import GPQA_ROWS, MEDQA_ROWS, PUBMEDQA_ROWS, write_jsonl

# ---------------------------------------------------------------- scoring by hand


def test_wilson_interval_by_hand():
    # 8 of 10: p = 0.8, z^2/n = 0.38416; centre = (0.8 + 0.19208) / 1.38416; half = 1.96 * sqrt(0.025604) / 1.38416
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(50, 100)
    assert math.isclose(low + high, 1.0) and round(low, 4) == 0.4038


def test_score_by_hand():
    rows = [
        {"correct": True, "method": "answer_is", "run": 0, "completion_tokens": 10, "finish_reason": "stop"},
        {"correct": False, "method": "none", "run": 0, "completion_tokens": 30, "finish_reason": "length"},
        {"correct": True, "method": "letter", "run": 1, "completion_tokens": 20, "finish_reason": "stop"},
        {"correct": True, "method": "option_text", "run": 1, "completion_tokens": 40, "finish_reason": "stop"},
    ]
    s = score(rows, runs=2, failed=1)
    assert s["answered"] == 4 and s["correct"] == 3 and s["accuracy"] == 0.75
    assert s["n"] == 2 and s["runs"] == 2 and s["run_accuracy"] == [0.5, 1.0]
    assert s["unparsed_rate"] == 0.25 and s["truncated_rate"] == 0.25 and s["mean_tokens"] == 25.0
    assert s["failed"] == 1
    # Two runs over two questions: the interval is over 2 questions (1.5 right on average), not 4 answers.
    assert (s["ci_low"], s["ci_high"]) == wilson_interval(1.5, 2)
    one = score(rows[:2])
    assert one["n"] == 2 and one["accuracy"] == 0.5 and (one["ci_low"], one["ci_high"]) == wilson_interval(1, 2)


# ---------------------------------------------------------------- prompts


def test_prompts_free_strict_context_and_zh(tmp_path):
    medqa = load_benchmark("medqa", write_jsonl(tmp_path / "medqa.jsonl", MEDQA_ROWS))[0]
    free = build_prompt(medqa, "free")
    assert free.startswith(medqa.question) and "\nA. Ampicillin\nB. Ceftriaxone\nC. Doxycycline\nD. Nitrofurantoin" in free
    assert "The answer is X" not in free
    strict = build_prompt(medqa, "strict")
    assert '"The answer is X"' in strict and strict.endswith("D. Nitrofurantoin")
    pubmed = load_benchmark("pubmedqa", write_jsonl(tmp_path / "pqa.jsonl", PUBMEDQA_ROWS))[0]
    prompt = build_prompt(pubmed, "free")
    assert prompt.index("Programmed cell death") < prompt.index(pubmed.question) < prompt.index("A. yes")
    assert "答案是 X" in build_prompt(medqa, "strict", lang="zh")
    (tmp_path / "p" / "eval").mkdir(parents=True)
    (tmp_path / "p" / "eval" / "free.txt").write_text("Q: {question}\n{options}\n")
    assert build_prompt(medqa, "free", prompts=str(tmp_path / "p")).startswith("Q: A 23-year-old")
    with pytest.raises(Medo1Error, match="unknown prompt style 'loose'"):
        build_prompt(medqa, "loose")


def test_data_files_and_model_spec(tmp_path):
    assert data_files(["medqa"], ["x.jsonl"]) == {"medqa": "x.jsonl"}
    assert data_files(["medqa", "pubmedqa"], ["pubmedqa=p.parquet"]) == {"pubmedqa": "p.parquet"}
    with pytest.raises(Medo1Error, match="say which one: --data BENCH=x.jsonl"):
        data_files(["medqa", "pubmedqa"], ["x.jsonl"])
    with pytest.raises(Medo1Error, match="'gpqa_med' is not among the benchmarks"):
        data_files(["medqa"], ["gpqa_med=g.csv"])
    assert model_spec(str(tmp_path)) == f"hf:{tmp_path}"
    assert model_spec("embedded") == "embedded" and model_spec("openai:gpt-4o") == "openai:gpt-4o"


# ---------------------------------------------------------------- the runner, on a real HTTP server


def answer(prompt: str) -> Reply | str:
    """A scripted model: right on two questions, wrong on one, unreadable on one."""
    usage = {"prompt_tokens": 50, "completion_tokens": 12}
    if "burning on urination" in prompt:  # MedQA, answer D
        return Reply("## Thinking\n\nCystitis; A? no.\n\n## Final Response\n\nThe answer is D.", usage=usage)
    if "holosystolic murmur" in prompt:  # MedQA, answer B: names the wrong option's text
        return Reply("This is an atrial septal defect.", usage=usage)
    if "lace plant" in prompt:  # PubMedQA, answer yes (A)
        return Reply("The answer is yes.", usage=usage, finish_reason="length")
    if "screening test" in prompt:  # PubMedQA, answer maybe (C)
        return Reply("Hard to say.", usage=usage)
    if "9:3:3:1" in prompt or "unwinds DNA" in prompt:  # GPQA: always picks the option text that is correct
        correct = "Dihybrid" if "9:3:3:1" in prompt else "Helicase"
        letter = next(line[0] for line in prompt.splitlines() if line[3:] == correct)
        return Reply(f"Answer: {letter}", usage=usage)
    return Reply("I am not sure.", usage=usage)


@pytest.fixture
def files(tmp_path):
    return {
        "medqa": str(write_jsonl(tmp_path / "medqa.jsonl", MEDQA_ROWS)),
        "pubmedqa": str(write_jsonl(tmp_path / "pubmedqa.jsonl", PUBMEDQA_ROWS)),
        "gpqa_med": str(write_jsonl(tmp_path / "gpqa.jsonl", GPQA_ROWS)),
    }


@pytest.fixture
async def model(openai_server):
    llm = load_model(f"openai:scripted@{openai_server.url}", cache=False, max_retries=0, concurrency=8)
    yield llm
    await llm.aclose()


async def test_eval_writes_items_results_and_table(openai_server, model, files, tmp_path):
    openai_server.handler = by_last_user(lambda prompt: replace(answer(prompt), latency=0.1))
    out = tmp_path / "eval"
    data = {"medqa": files["medqa"], "pubmedqa": files["pubmedqa"]}
    config = EvalConfig(benches=("medqa", "pubmedqa"), data=data, progress=False)
    results = await evaluate(model, out, config)

    medqa, pubmed = results["benches"]["medqa"], results["benches"]["pubmedqa"]
    assert (medqa["n"], medqa["correct"], medqa["accuracy"]) == (2, 1, 0.5)
    assert (medqa["ci_low"], medqa["ci_high"]) == wilson_interval(1, 2)
    assert (pubmed["correct"], pubmed["unparsed_rate"], pubmed["truncated_rate"]) == (1, 0.5, 0.5)
    assert medqa["mean_tokens"] == 12.0 and results["model"] == f"openai:scripted@{openai_server.url}"
    assert results["usage"]["calls"] == 4 and results["usage"]["completion_tokens"] == 48

    rows = [json.loads(line) for line in (out / "medqa.items.jsonl").read_text().splitlines()]
    by_answer = {r["answer"]: r for r in rows}
    assert by_answer["D"]["extracted"] == "D" and by_answer["D"]["method"] == "answer_is" and by_answer["D"]["correct"]
    assert by_answer["B"]["extracted"] == "A" and by_answer["B"]["method"] == "option_text"
    assert not by_answer["B"]["correct"]
    assert "D. Nitrofurantoin" in by_answer["D"]["prompt"] and by_answer["D"]["output"].startswith("## Thinking")

    # every question was sent at once (bounded by the model's concurrency), tagged `eval`, greedy
    assert openai_server.count == 4 and set(openai_server.tags()) == {"eval"}
    assert openai_server.max_in_flight >= 2
    assert all(r.json["temperature"] == 0.0 and r.json["max_tokens"] == 2048 for r in openai_server.requests)

    saved = json.loads((out / "results.json").read_text())
    assert saved["benches"]["medqa"]["accuracy"] == 0.5 and saved["setup"]["style"] == "free"
    md = (out / "results.md").read_text()
    assert "| Model | MedQA | PubMedQA | Avg. |" in md and "| 50.0 | 50.0 | 50.0 |" in md
    assert "| MedQA | 2 | 1 | 50.0 | 9.5-90.5 |" in md


async def test_an_output_cut_off_in_its_thinking_is_unparsed_and_wrong(openai_server, model, files, tmp_path):
    def cut_off(prompt):
        if "burning on urination" in prompt:  # answer D: the thinking names it, then the length limit cuts in
            return Reply("## Thinking\n\nCystitis in a young woman: nitrofurantoin, so the answer is D. Wait, let",
                         usage={"prompt_tokens": 50, "completion_tokens": 2048}, finish_reason="length")
        return Reply("Ventricular septal defect.", usage={"prompt_tokens": 50, "completion_tokens": 5})  # a plain answer

    openai_server.handler = by_last_user(cut_off)
    out = tmp_path / "eval"
    results = await evaluate(model, out, EvalConfig(benches=("medqa",), data={"medqa": files["medqa"]}, progress=False))
    medqa = results["benches"]["medqa"]
    assert (medqa["correct"], medqa["accuracy"], medqa["unparsed_rate"], medqa["truncated_rate"]) == (1, 0.5, 0.5, 0.5)
    rows = {r["answer"]: r for r in map(json.loads, (out / "medqa.items.jsonl").read_text().splitlines())}
    assert (rows["D"]["extracted"], rows["D"]["method"], rows["D"]["correct"]) == (None, "none", False)
    assert (rows["B"]["extracted"], rows["B"]["method"], rows["B"]["correct"]) == ("B", "option_text", True)
    assert output_stats(list(rows.values()))["format_rate"] == 0.0  # neither has thinking + final response


async def test_an_output_that_states_several_answers_is_unparsed_and_wrong(openai_server, model, files, tmp_path):
    def loop(prompt):
        if "burning on urination" in prompt:  # answer D: a loop that names every option, the right one last
            return Reply("## Thinking\n\nCystitis.\n\n## Final Response\n\n"
                         + "\n".join(f"The answer is: {x}." for x in "ABCD"))
        return Reply("The answer is B. The answer is B.")  # one answer stated twice: right

    openai_server.handler = by_last_user(loop)
    out = tmp_path / "eval"
    results = await evaluate(model, out, EvalConfig(benches=("medqa",), data={"medqa": files["medqa"]}, progress=False))
    rows = {r["answer"]: r for r in map(json.loads, (out / "medqa.items.jsonl").read_text().splitlines())}
    assert (rows["D"]["extracted"], rows["D"]["method"], rows["D"]["correct"]) == (None, "ambiguous", False)
    medqa = results["benches"]["medqa"]
    assert (medqa["correct"], medqa["unparsed_rate"], medqa["ambiguous_rate"]) == (1, 0.5, 0.5)
    assert "| MedQA | 2 | 1 | 50.0 | 9.5-90.5 | 50.0 |" in (out / "results.md").read_text()  # the unparsed column


async def test_rerun_resumes_and_a_larger_limit_asks_only_new_questions(openai_server, model, files, tmp_path):
    openai_server.handler = by_last_user(answer)
    out = tmp_path / "eval"
    config = EvalConfig(benches=("medqa",), data={"medqa": files["medqa"]}, limit=1, progress=False)
    first = await evaluate(model, out, config)
    assert openai_server.count == 1 and first["benches"]["medqa"]["n"] == 1
    again = await evaluate(model, out, config)
    assert openai_server.count == 1 and again["benches"]["medqa"] == first["benches"]["medqa"]
    config.limit = None
    full = await evaluate(model, out, config)
    assert openai_server.count == 2 and full["benches"]["medqa"]["n"] == 2
    assert len((out / "medqa.items.jsonl").read_text().splitlines()) == 2

    with pytest.raises(Medo1Error, match=r"holds answers from another setup \(style 'free' -> 'strict';"):
        await evaluate(model, out, EvalConfig(benches=("medqa",), data=config.data, style="strict", progress=False))


async def test_a_failed_call_is_recorded_and_retried_on_rerun(openai_server, model, files, tmp_path):
    def flaky(prompt):
        if "holosystolic" in prompt:
            return Reply(status=400, error_message="this prompt is not allowed")
        return answer(prompt)

    openai_server.handler = by_last_user(flaky)
    out = tmp_path / "eval"
    config = EvalConfig(benches=("medqa",), data={"medqa": files["medqa"]}, progress=False)
    results = await evaluate(model, out, config)
    assert results["benches"]["medqa"]["n"] == 1 and results["benches"]["medqa"]["failed"] == 1
    failed = [json.loads(line) for line in (out / "medqa.items.failed.jsonl").read_text().splitlines()]
    assert len(failed) == 1 and "this prompt is not allowed" in failed[0]["reason"]

    openai_server.handler = by_last_user(answer)
    results = await evaluate(model, out, config)
    assert results["benches"]["medqa"]["n"] == 2 and results["benches"]["medqa"]["failed"] == 0
    assert openai_server.count == 3


async def test_longest_prompts_are_sent_first(openai_server, files, tmp_path):
    openai_server.handler = by_last_user(answer)
    one_at_a_time = load_model(f"openai:scripted@{openai_server.url}", cache=False, concurrency=1)
    try:
        await evaluate(one_at_a_time, tmp_path / "eval", EvalConfig(
            benches=("medqa", "pubmedqa"), data={"medqa": files["medqa"], "pubmedqa": files["pubmedqa"]},
            progress=False))
    finally:
        await one_at_a_time.aclose()
    sent = [len(r.json["messages"][-1]["content"]) for r in openai_server.requests]
    assert len(sent) == 4 and sent == sorted(sent, reverse=True)


async def test_all_calls_failing_is_an_error(openai_server, model, files, tmp_path):
    openai_server.handler = by_last_user(lambda prompt: Reply(status=401, error_message="bad key"))
    with pytest.raises(Medo1Error, match="all 2 model calls failed; the first: .*bad key"):
        await evaluate(model, tmp_path / "eval",
                       EvalConfig(benches=("medqa",), data={"medqa": files["medqa"]}, progress=False))


async def test_gpqa_five_shuffled_runs_per_subset(openai_server, model, files, tmp_path):
    openai_server.handler = by_last_user(answer)
    out = tmp_path / "eval"
    config = EvalConfig(benches=("gpqa_med",), data={"gpqa_med": files["gpqa_med"]}, progress=False)
    results = await evaluate(model, out, config)
    gpqa = results["benches"]["gpqa_med"]
    assert gpqa["runs"] == 5 and gpqa["answered"] == 10 and gpqa["n"] == 2 and gpqa["accuracy"] == 1.0
    assert gpqa["run_accuracy"] == [1.0] * 5
    assert set(gpqa["subsets"]) == {"genetics", "molecular biology"}
    assert gpqa["subsets"]["genetics"]["answered"] == 5 and gpqa["subsets"]["genetics"]["n"] == 1
    assert sorted(r.json["seed"] for r in openai_server.requests) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]  # seed + run
    rows = [json.loads(line) for line in (out / "gpqa_med.items.jsonl").read_text().splitlines()]
    assert len({r["answer"] for r in rows}) > 1  # the correct letter moves between runs
    table = (out / "results.md").read_text()
    assert "| GPQA Genetics | GPQA Molecular Biology |" in table


# ---------------------------------------------------------------- tables and the CLI


def _results(tmp_path, name, model, benches):
    d = tmp_path / name
    d.mkdir()
    (d / "results.json").write_text(json.dumps({"model": model, "setup": {"style": "free"}, "benches": benches}))
    return d


def test_compare_puts_models_side_by_side(tmp_path):
    sub = lambda a: {"accuracy": a, "n": 10, "ci_low": 0, "ci_high": 1, "unparsed_rate": 0, "mean_tokens": 1}
    base = _results(tmp_path, "base", "hf:base", {
        "medqa": {"title": "MedQA", **sub(0.5)},
        "mmlu_pro_med": {"title": "MMLU-Pro", **sub(0.45), "subsets": {"health": sub(0.4), "biology": sub(0.5)}},
    })
    rl = _results(tmp_path, "rl", "hf:rl", {"medqa": {"title": "MedQA", **sub(0.726)}})
    table = compare([base, rl]).splitlines()
    assert table[0] == "| Model | MedQA | MMLU-Pro Health | MMLU-Pro Biology | Avg. |"
    assert table[2] == "| hf:base | 50.0 | 40.0 | 50.0 | 46.7 |"
    assert table[3] == "| hf:rl | 72.6 | - | - | 72.6* |"
    with pytest.raises(Medo1Error, match="results.json: no such file"):
        compare([tmp_path])


def test_cli_eval_and_compare(openai_server, files, tmp_path):
    openai_server.handler = by_last_user(answer)
    out = tmp_path / "cli-eval"
    spec = f"openai:scripted@{openai_server.url}"
    result = CliRunner().invoke(app, ["eval", "--model", spec, "--bench", "medqa,pubmedqa", "--data",
                                      f"medqa={files['medqa']}", "--data", f"pubmedqa={files['pubmedqa']}",
                                      "--out", str(out), "--style", "strict", "--max-tokens", "64", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "| Model | MedQA | PubMedQA | Avg. |" in result.output
    assert all(r.json["max_tokens"] == 64 for r in openai_server.requests)
    assert "The answer is X" in openai_server.requests[0].json["messages"][-1]["content"]
    result = CliRunner().invoke(app, ["eval", "--compare", str(out), str(out), "--out", str(tmp_path / "t.md")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.md").read_text().count(f"| {spec} (strict) | 50.0 | 50.0 | 50.0 |") == 2


# ---------------------------------------------------------------- a real model


@pytest.mark.embedded
def test_embedded_model_on_the_bundled_eval_split(tmp_path):
    from medo1.evaluate import run_eval
    from medo1.verify.extract import METHODS

    out = tmp_path / "eval"
    config = EvalConfig(benches=("sample",), limit=5, max_tokens=12, style="strict", progress=False)
    results = run_eval("embedded", out, config, cache=False)
    sample = results["benches"]["sample"]
    assert sample["answered"] == 5 and sample["failed"] == 0 and 0 < sample["mean_tokens"] <= 12
    rows = [json.loads(line) for line in (out / "sample.items.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and all(r["output"].strip() for r in rows)
    for r in rows:
        assert r["method"] in METHODS and r["correct"] == (r["extracted"] == r["answer"])
    assert sample["correct"] == sum(r["correct"] for r in rows)
    assert "| embedded (strict) |" in (out / "results.md").read_text()
