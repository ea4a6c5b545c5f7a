"""The pass-rate stage: each RL problem sampled K times from the policy, each response scored by the run's reward
rule, the problems solved sometimes kept; resumable, one failed problem recorded and retried; and in `medo1
run`, between sft and rl, with rl training on what it kept and the report showing the histogram.

The policy is a real OpenAI-compatible server on 127.0.0.1 that answers problem i correctly for seeds below
i's target (so its pass counts are known), or, in the pipeline, a tiny model taught to answer A or B."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.passrate import PassRateConfig, passrate_file, read_counts, selected_path
from medo1.records import Problem
from tests.openai_server import Reply
from tests.tiny import teach_replies

# problem i: its correct letter, and how many of 4 seeds (0..3) the policy answers correctly
TARGETS = [("A", 0), ("B", 1), ("C", 2), ("D", 3), ("A", 4), ("B", 2)]


def answer(letter: str) -> str:
    return f"## Thinking\n\nLet me weigh the options.\n\n## Final Response\n\nThe answer is {letter}."


class Policy:
    """Answers problem i right for seeds below its target, else a wrong letter; problem 5 is cut off at seed 0
    (its text right, its finish "length": no pass) and, while `down`, problem 2 gets 503s."""

    def __init__(self):
        self.down = True

    def __call__(self, body: dict, headers: dict):
        i = int(re.search(r"Question number (\d+)", body["messages"][-1]["content"]).group(1))
        letter, passes = TARGETS[i]
        if i == 2 and self.down:
            return Reply(status=503, error_message="policy server overloaded", retry_after_ms=1)
        right = body["seed"] < passes
        wrong = "E" if letter != "E" else "A"
        if i == 5 and body["seed"] == 0:
            return Reply(text=answer(letter), finish_reason="length")
        return answer(letter if right else wrong)


@pytest.fixture
def problems_file(tmp_path) -> Path:
    path = tmp_path / "rl.jsonl"
    path.write_text("".join(Problem(question=f"Question number {i}: which option?", answer=letter).model_dump_json()
                            + "\n" for i, (letter, _) in enumerate(TARGETS)))
    return path


def test_pass_counts_histogram_and_selection_resumable_with_one_failure(openai_server, problems_file, tmp_path):
    policy = Policy()
    openai_server.handler = policy
    out = tmp_path / "passrate.jsonl"
    cfg = PassRateConfig(samples=4, verifier="option", temperature=0.5)
    summary = passrate_file(problems_file, out, cfg, model=f"openai:policy@{openai_server.url}", cache=False,
                            progress=False)
    counts = read_counts(out)
    ids = [p["id"] for p in map(json.loads, problems_file.read_text().splitlines())]
    assert [counts[i]["passes"] if i in counts else None for i in ids] == [0, 1, None, 3, 4, 1]
    assert counts[ids[5]]["truncated"] == 1 and counts[ids[5]]["scores"][0] == 0.0  # cut off: no pass, whatever it says
    failed = [json.loads(line) for line in (tmp_path / "passrate.failed.jsonl").read_text().splitlines()]
    assert [f["id"] for f in failed] == [ids[2]] and "policy server overloaded" in failed[0]["reason"]
    assert summary.as_dict() == {"problems": 6, "samples": 4, "histogram": {"0": 1, "1": 2, "2": 0, "3": 1, "4": 1},
                                 "kept": 3, "removed": {"min_pass_rate": 1, "max_pass_rate": 1}, "failed": 1,
                                 "bounds": [0.0, 1.0]}
    kept = [json.loads(line)["id"] for line in selected_path(out).read_text().splitlines()]
    assert kept == [ids[1], ids[3], ids[5]]

    policy.down = False  # a re-run asks only for the problem that failed
    openai_server.reset()
    summary = passrate_file(problems_file, out, cfg, model=f"openai:policy@{openai_server.url}", cache=False,
                            progress=False)
    assert openai_server.count == 4 and summary.failed == 0 and summary.histogram[2] == 1 and summary.kept == 4
    assert not (tmp_path / "passrate.failed.jsonl").read_text().strip()

    tight = PassRateConfig(samples=4, verifier="option", min_pass_rate=0.25, max_pass_rate=0.75)
    summary = passrate_file(problems_file, out, tight, model=f"openai:policy@{openai_server.url}", cache=False,
                            progress=False)  # other bounds: the same counts, another selection, no new call
    assert openai_server.count == 4 and summary.kept == 1 and summary.removed == {"min_pass_rate": 3,
                                                                                  "max_pass_rate": 2}
    with pytest.raises(Medo1Error, match="another setup .*samples 4 -> 8"):
        passrate_file(problems_file, out, PassRateConfig(samples=8, verifier="option"),
                      model=f"openai:policy@{openai_server.url}", cache=False, progress=False)


def test_the_cli_prints_the_histogram_and_refuses_bad_bounds(openai_server, problems_file, tmp_path):
    openai_server.handler = Policy()
    out, chosen = tmp_path / "counts.jsonl", tmp_path / "chosen.jsonl"
    args = ["passrate", "--model", f"openai:policy@{openai_server.url}", "--problems", str(problems_file),
            "--samples", "4", "--out", str(out), "--verifier", "option", "--selected", str(chosen), "--no-cache"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "  1/4 passed      2" in result.output and "kept 3 of 6" in result.output
    assert len(chosen.read_text().splitlines()) == 3
    result = CliRunner().invoke(app, args + ["--min-pass-rate", "0.5", "--max-pass-rate", "0.5"])
    assert result.exit_code != 0 and "expected 0 <= min < max <= 1" in str(result.exception)


# ---------------------------------------------------------------- in `medo1 run`


@pytest.fixture(scope="module")
def coin_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model taught to answer every question with "The answer is A." or, as often, "... B." (well
    formed), so sampled at temperature 1 it solves A and B problems sometimes and the others never."""
    from transformers import AutoTokenizer

    from medo1.curate import CurateConfig, options_rewrite
    from medo1.data import load_sample

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = []
    for mcq in load_sample("train")[:TRAINED]:  # questions of the run below, with their options
        question, _ = options_rewrite(mcq, CurateConfig())
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                               add_generation_prompt=True, tokenize=True, return_dict=True)
        for letter in "AB":
            reply = tokenizer(answer(letter) + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
            rows.append((list(prompt["input_ids"]), reply))
    return teach_replies(tiny_model_dir, rows, tmp_path_factory.mktemp("coin-model"), steps=STEPS)


STEPS = 120
TRAINED = 4

RECIPE = """name: passrate
seed: 0
data: {mcq: [sample], limit: 12}
models: {teacher: embedded, difficulty: [], policy: embedded, verifier: option, concurrency: 8}
curate: {reformat: options, llm_filter: false}
split: {rl_fraction: 1.0}
decontaminate: {enabled: false}
passrate: {enabled: true, samples: 4}
rl: {algo: grpo, num_generations: 2, batch_size: 2, micro_batch_size: 2, max_new_tokens: 40, max_steps: 1,
     temperature: 1.0, bf16: false}
eval: {benches: [sample], limit: 2}
"""


def test_in_a_run_rl_trains_on_the_problems_kept_and_the_report_shows_the_histogram(coin_model_dir, tmp_path):
    from medo1.pipeline import run_recipe
    from medo1.report import write_report

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    run_dir = tmp_path / "run"
    run_recipe(recipe, run_dir, only=["curate", "split", "decontaminate"], report=False)
    shutil.copytree(coin_model_dir, run_dir / "ckpt" / "sft")  # the SFT model: answers A or B
    run_recipe(recipe, run_dir, only=["passrate", "rl"], report=False)

    stages = json.loads((run_dir / "run.json").read_text())["stages"]
    s = stages["passrate"]["summary"]
    problems = [json.loads(line) for line in (run_dir / "clean" / "rl.jsonl").read_text().splitlines()]
    letters = {p["id"]: p["answer"] for p in problems}
    counts = read_counts(run_dir / "passrate" / "passrate.jsonl")
    assert s["problems"] == len(problems) == len(counts) == 12 and s["failed"] == 0
    assert all(counts[i]["passes"] == 0 for i in letters if letters[i] not in "AB")  # never solved
    assert sum(s["histogram"].values()) == 12 and 0 < s["kept"] < 12
    kept = [json.loads(line)["id"] for line in (run_dir / "passrate" / "rl.jsonl").read_text().splitlines()]
    assert kept and all(letters[i] in "AB" and 0 < counts[i]["passes"] < 4 for i in kept)
    assert s["removed"]["min_pass_rate"] == sum(c["passes"] == 0 for c in counts.values())
    grpo = json.loads((run_dir / "ckpt" / "rl" / "medo1_grpo.json").read_text())
    assert grpo["problems"] == len(kept) and grpo["settings"]["problems"].endswith("passrate/rl.jsonl")

    md, _ = write_report(run_dir)
    report = md.read_text()
    assert "## RL problems by pass rate" in report and f"Kept **{len(kept)}** of 12" in report
    assert f"| RL problems (kept by pass rate) | {len(kept)} |" in report
    assert "`option` decides by rules" in report

    text = recipe.read_text().replace("samples: 4}", "samples: 4, max_pass_rate: 0.5}")
    recipe.write_text(text)  # other bounds: passrate and rl must be redone, never silently mixed
    with pytest.raises(Medo1Error, match="stage passrate finished earlier .* --from passrate --force"):
        run_recipe(recipe, run_dir, only=["passrate", "rl"], report=False)
