"""Sampled answers (Avg@K, maj@K), the official scorer's column and paired tests, through the eval runner and
`medo1 eval` against a real OpenAI-compatible server on 127.0.0.1."""

import json

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.evaluate import EvalConfig, evaluate, wilson_interval
from medo1.evaluate.paired import paired_lines
from medo1.llm import load_model
from tests.openai_server import Reply
from tests.test_benchmarks import MEDQA_ROWS, write_jsonl

# MedQA question 1 (answer D) and question 2 (answer B): what the model says for each sampling seed
SAMPLED = {
    "burning on urination": ["The answer is D.", "The answer is D.", "The answer is D.", "The answer is A."],
    "holosystolic murmur": ["The answer is B.", "I am not sure.", "Hmm.", "The answer is C."],
}


def sampled(body, headers):
    prompt = body["messages"][-1]["content"]
    key = next(k for k in SAMPLED if k in prompt)
    return Reply(SAMPLED[key][body["seed"] % 4], usage={"prompt_tokens": 40, "completion_tokens": 8})


@pytest.fixture
def medqa(tmp_path):
    return str(write_jsonl(tmp_path / "medqa.jsonl", MEDQA_ROWS))


@pytest.fixture
async def model(openai_server):
    llm = load_model(f"openai:scripted@{openai_server.url}", cache=False, max_retries=0, concurrency=8)
    yield llm
    await llm.aclose()


async def test_samples_give_avg_and_maj_at_k_with_intervals(openai_server, model, medqa, tmp_path):
    openai_server.handler = sampled
    config = EvalConfig(benches=("medqa",), data={"medqa": medqa}, samples=4, temperature=0.7, progress=False)
    results = await evaluate(model, tmp_path / "eval", config)
    m = results["benches"]["medqa"]
    # question 1: 3 of 4 right, majority D (right); question 2: 1 of 4 right, two unparsed that never vote,
    # B and C once each: the tie goes to the answer given first, B (right)
    assert (m["runs"], m["n"], m["answered"]) == (4, 2, 8)
    assert m["accuracy"] == 0.5 and m["maj_accuracy"] == 1.0
    assert (m["ci_low"], m["ci_high"]) == wilson_interval(1, 2)  # over 2 questions, not 8 answers
    assert (m["maj_ci_low"], m["maj_ci_high"]) == wilson_interval(2, 2)
    assert sorted(r.json["seed"] for r in openai_server.requests) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert {r.json["temperature"] for r in openai_server.requests} == {0.7}
    rows = [json.loads(line) for line in (tmp_path / "eval" / "medqa.items.jsonl").read_text().splitlines()]
    assert {r["extracted_text"] for r in rows if r["correct"]} == {"Nitrofurantoin", "Ventricular septal defect"}
    md = (tmp_path / "eval" / "results.md").read_text()
    assert "| Accuracy % (Avg@K) | 95% CI | maj@K % | maj 95% CI |" in md and "| 50.0 | 9.5-90.5 | 100.0 |" in md


async def test_sampling_settings_that_cannot_work_are_refused(model, medqa, tmp_path):
    with pytest.raises(Medo1Error, match="--samples 4 needs --temperature above 0"):
        await evaluate(model, tmp_path / "e", EvalConfig(benches=("medqa",), data={"medqa": medqa}, samples=4))
    with pytest.raises(Medo1Error, match="--runs 2 and --samples 4 disagree"):
        await evaluate(model, tmp_path / "e", EvalConfig(benches=("medqa",), data={"medqa": medqa}, samples=4,
                                                         runs=2, temperature=0.5))


async def test_the_official_scorer_is_a_second_column_and_reads_saved_answers_again(openai_server, model, medqa,
                                                                                    tmp_path):
    # question 1 (D): a refusal, wrong for us, read by the official fallback as the most similar option;
    # question 2 (B): "A or B", no answer for us, B for the official scorer
    openai_server.handler = lambda body, headers: (
        "I cannot say; maybe Nitrofurantoin?" if "burning" in body["messages"][-1]["content"] else "A or B")
    out = tmp_path / "eval"
    ours = await evaluate(model, out, EvalConfig(benches=("medqa",), data={"medqa": medqa}, progress=False))
    assert ours["benches"]["medqa"]["accuracy"] == 0.5 and "official_accuracy" not in ours["benches"]["medqa"]
    rows = [json.loads(line) for line in (out / "medqa.items.jsonl").read_text().splitlines()]
    assert not any("official_first" in r for r in rows)

    both = await evaluate(model, out, EvalConfig(benches=("medqa",), data={"medqa": medqa}, scorer="official",
                                                 progress=False))
    assert openai_server.count == 2  # the saved answers were read again; the model was not asked
    m = both["benches"]["medqa"]
    assert m["accuracy"] == 0.5 and m["official_accuracy"] == 1.0 and m["official_first"] == 1.0
    md = (out / "results.md").read_text()
    assert "| Model | MedQA | MedQA (official) | Avg. | Avg. (official) |" in md and "| 50.0 | 100.0 | 50.0 | 100.0 |" in md
    assert "| Official % |" in md

    # answers asked with the official scorer on record its first and last letters
    fresh = tmp_path / "fresh"
    await evaluate(model, fresh, EvalConfig(benches=("medqa",), data={"medqa": medqa}, scorer="official",
                                            progress=False))
    rows = {r["answer"]: r for r in map(json.loads, (fresh / "medqa.items.jsonl").read_text().splitlines())}
    assert (rows["B"]["official_first"], rows["B"]["official_last"], rows["B"]["official_kind"]) == ("B", "B", "letter")
    assert (rows["B"]["extracted"], rows["B"]["correct"]) == (None, False)


def test_cli_samples_scorer_and_compare_with_a_paired_test(openai_server, medqa, tmp_path):
    spec = f"openai:scripted@{openai_server.url}"
    runner = CliRunner()
    openai_server.handler = lambda body, headers: "I am not sure."
    before = tmp_path / "before"
    result = runner.invoke(app, ["eval", "--model", spec, "--bench", "medqa", "--data", medqa, "--out", str(before),
                                 "--no-cache", "--scorer", "official"])
    assert result.exit_code == 0, result.output
    assert "MedQA (official)" in result.output
    openai_server.handler = lambda body, headers: ("The answer is D." if "burning" in body["messages"][-1]["content"]
                                                   else "The answer is B.")
    after = tmp_path / "after"
    result = runner.invoke(app, ["eval", "--model", spec, "--bench", "medqa", "--data", medqa, "--out", str(after),
                                 "--no-cache"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["eval", "--compare", str(before), str(after)])
    assert result.exit_code == 0, result.output
    assert "Paired tests (same questions):" in result.output
    assert (f"- MedQA, {spec} → {spec}: +100.0 points, p = 0.500, not significant "
            "(McNemar exact, 0 vs 2 discordant of 2)") in result.output

    sampled_dir = tmp_path / "k4"
    openai_server.handler = sampled
    result = runner.invoke(app, ["eval", "--model", spec, "--bench", "medqa", "--data", medqa, "--out",
                                 str(sampled_dir), "--no-cache", "--samples", "4", "--temperature", "0.7"])
    assert result.exit_code == 0, result.output
    assert "maj@K %" in result.output
    # greedy before, four samples after: Avg@K compared by a paired bootstrap
    line = paired_lines([before, sampled_dir])[0]
    assert "+50.0 points" in line and "paired bootstrap over 2 questions" in line
    result = runner.invoke(app, ["eval", "--model", spec, "--bench", "medqa", "--data", medqa, "--out",
                                 str(tmp_path / "x"), "--scorer", "lenient"])
    assert result.exit_code == 2 and "Invalid value for '--scorer'" in result.output  # the option's closed set
    assert "'lenient' is not one of" in result.output


def test_a_recipe_sets_samples_scorer_and_backend(tmp_path):
    from medo1.errors import Medo1Error as Error
    from medo1.recipe import load_recipe

    path = tmp_path / "r.yaml"
    path.write_text("name: k4\neval:\n  samples: 4\n  temperature: 0.7\n  scorer: official\n  backend: vllm\n")
    recipe = load_recipe(path)
    config = EvalConfig(**recipe.eval.model_dump())
    assert (config.samples, config.temperature, config.scorer, config.backend) == (4, 0.7, "official", "vllm")
    path.write_text("name: k4\neval:\n  scorer: lenient\n")
    with pytest.raises(Error, match="scorer"):
        load_recipe(path)
