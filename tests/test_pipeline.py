"""`medo1 run`: the whole recipe in a run directory, resumed after kills, and its report.

The teacher and difficulty model are a real OpenAI-compatible server on 127.0.0.1 that plays
its part from the prompt; the policy is a tiny random Llama. Every stage runs for real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medo1.data import load_sample
from medo1.errors import Medo1Error
from medo1.jsonl import read_jsonl
from medo1.pipeline import STAGES, run_recipe
from medo1.records import SearchTrace
from tests.conftest import default_path_env
from tests.openai_server import Reply

REPO = Path(__file__).resolve().parents[1]
SAMPLE = load_sample("train")


def answer_in(prompt: str) -> str:
    """The correct option text of the sample question the prompt is about."""
    return next(m.answer_text for m in SAMPLE if m.question[:80] in prompt)


def cot(conclusion: str) -> str:
    return json.dumps({"CoT": [
        {"action": "Inner Thinking", "title": "Findings", "content": "The findings point one way."},
        {"action": "Final Conclusion", "title": "Conclusion", "content": conclusion},
        {"action": "Verification", "title": "Check", "content": "It fits every finding."},
    ]})


class Teacher:
    """Plays every teacher role; search replies take `search_latency` seconds (to be killed in the middle)."""

    def __init__(self, search_latency: float = 0.0):
        self.search_latency = search_latency

    def __call__(self, body: dict, headers: dict):
        tag = headers.get("x-medo1-tag", "")
        prompt = "\n".join(m["content"] for m in body["messages"])
        if tag.startswith("curate.difficulty"):
            return "I am not sure."  # no answer: every question counts as hard enough
        if tag == "curate.filter":
            return json.dumps({"label": "Pass"})
        if tag.startswith("search."):
            return Reply(text=cot(answer_in(prompt)), latency=self.search_latency)
        if tag == "synth.cot":
            return json.dumps({"NaturalReasoning": f"First, the findings.\nSo it is {answer_in(prompt)}."})
        if tag == "synth.response":
            return f"The answer is {answer_in(prompt)}, as the findings show."
        raise AssertionError(f"unexpected call {tag}")


def recipe_text(url: str, policy: Path, **sections: str) -> str:
    parts = {
        "data": "  mcq: [sample]\n  limit: 6\n",
        "models": f"  teacher: openai:teacher@{url}\n  difficulty: [openai:small@{url}]\n  policy: hf:{policy}\n"
                  "  verifier: match\n  concurrency: 4\n",
        "curate": "  reformat: rule\n",
        "split": "  rl_fraction: 0.34\n",
        "search": "  max_depth: 1\n  max_attempts: 1\n",
        "sft": "  epochs: 2\n  lr: 1.0e-3\n  batch_size: 2\n  micro_batch_size: 2\n  max_length: 1024\n  save_steps: 1\n",
        "rl": "  algo: ppo\n  batch_size: 2\n  micro_batch_size: 2\n  rollout_batch_size: 2\n  max_new_tokens: 8\n"
              "  max_steps: 1\n",
        "eval": "  benches: [sample]\n  limit: 3\n  max_tokens: 8\n",
    }
    parts.update(sections)
    return "name: test\nseed: 0\n" + "".join(f"{name}:\n{body}" for name, body in parts.items())


@pytest.fixture
def recipe(tmp_path, openai_server, tiny_model_dir):
    openai_server.handler = Teacher()
    path = tmp_path / "recipe.yaml"
    path.write_text(recipe_text(openai_server.url, tiny_model_dir))
    return path


def state(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())["stages"]


def test_whole_recipe_then_rerun_is_free(recipe, tmp_path, openai_server, cpu_of_kind):
    cpu_of_kind("emulated")  # a CPU without native bf16: evaluation's "auto" engine is llama.cpp there
    run_dir = run_recipe(recipe, tmp_path / "run")
    stages = state(run_dir)
    assert list(stages) == list(STAGES)
    assert stages["curate"]["summary"]["kept"] == 6 and stages["split"]["summary"] == {"search": 4, "rl": 2}
    assert stages["search"]["summary"]["found"] == 4 and stages["synthesize"]["summary"]["written"] == 4
    assert stages["rl"]["summary"]["steps"] == 1
    assert set(stages["eval"]["summary"]) == {"base", "sft", "rl"}
    for name in ("sft", "rl"):
        assert (run_dir / "ckpt" / name / "model.safetensors").is_file()
    for name in ("base", "sft", "rl"):
        results = json.loads((run_dir / "eval" / name / "results.json").read_text())
        assert results["benches"]["sample"]["n"] == 3
        assert results["setup"]["backend"] == "llama.cpp f16"  # such a CPU evaluates checkpoints on llama.cpp
    assert (run_dir / "ckpt" / "sft.f16.gguf").is_file() and (run_dir / "ckpt" / "rl.f16.gguf").is_file()

    report = (run_dir / "report.md").read_text()
    assert "| MCQs | 6 |" in report and "| traces found | 4 |" in report and "| SFT examples | 4 |" in report
    assert "| RL problems (after decontamination) | 2 |" in report
    assert "Format rate" in report and "plots/sft_loss.png" in report
    html = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html
    assert (run_dir / "plots" / "sft_loss.png").stat().st_size > 1000

    calls = openai_server.count
    openai_server.reset()
    run_recipe(recipe, run_dir)
    assert openai_server.count == 0 and state(run_dir) == stages  # every stage skipped
    assert calls > 0


def test_changed_settings_of_a_finished_stage_need_force(recipe, tmp_path, openai_server, tiny_model_dir):
    run_dir = run_recipe(recipe, tmp_path / "run", only=["curate", "split", "decontaminate"], report=False)
    recipe.write_text(recipe_text(openai_server.url, tiny_model_dir, split="  rl_fraction: 0.5\n"))
    with pytest.raises(Medo1Error, match="--from split --force"):
        run_recipe(recipe, run_dir, only=["split"], report=False)
    openai_server.reset()
    run_recipe(recipe, run_dir, start="split", force=True, report=False)
    assert state(run_dir)["split"]["summary"] == {"search": 3, "rl": 3}
    assert not any(t and t.startswith("curate") for t in openai_server.tags())  # curate was kept
    with pytest.raises(Medo1Error, match="unknown stage 'train'"):
        run_recipe(recipe, run_dir, only=["train"])


def _start(recipe: Path, run_dir: Path, *args: str) -> subprocess.Popen:
    env = default_path_env(PYTHONPATH=str(REPO / "src"))  # trains in a fresh process, as for users
    return subprocess.Popen([sys.executable, "-m", "medo1", "run", str(recipe), "--out", str(run_dir), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        assert time.monotonic() < deadline, "the run never reached the point to kill it at"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_kill_in_the_middle_of_search_then_resume(tmp_path, openai_server, tiny_model_dir):
    openai_server.handler = Teacher(search_latency=0.4)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(recipe_text(openai_server.url, tiny_model_dir, data="  mcq: [sample]\n  limit: 12\n",
                                  models=f"  teacher: openai:teacher@{openai_server.url}\n  difficulty: []\n"
                                         f"  policy: hf:{tiny_model_dir}\n  concurrency: 2\n"))
    run_dir = tmp_path / "run"
    stages = "curate,split,decontaminate,search"
    _kill_when(_start(recipe, run_dir, "--only", stages), lambda: _lines(run_dir / "traces.jsonl") >= 2)
    done_before = {t.id for t in read_jsonl(run_dir / "traces.jsonl", SearchTrace)}
    n_search = _lines(run_dir / "clean" / "search.jsonl")
    assert "search" not in state(run_dir) and 2 <= len(done_before) < n_search

    openai_server.handler = Teacher()
    openai_server.reset()
    run_recipe(recipe, run_dir, only=stages.split(","), report=False)
    traces = read_jsonl(run_dir / "traces.jsonl", SearchTrace)
    assert len(traces) == len({t.id for t in traces}) == state(run_dir)["search"]["summary"]["input"] == n_search
    asked = [json.dumps(r.json["messages"]) for r in openai_server.requests]
    finished = [t.question for t in traces if t.id in done_before]
    assert not any(q[:60] in a for q in finished for a in asked)  # finished problems cost no new call
    assert len(asked) == n_search - len(done_before)  # one call per problem here


def test_kill_in_the_middle_of_sft_then_resume(recipe, tmp_path, openai_server, tiny_model_dir):
    recipe.write_text(recipe_text(openai_server.url, tiny_model_dir,
                                  sft="  epochs: 40\n  lr: 1.0e-3\n  batch_size: 1\n  micro_batch_size: 1\n"
                                      "  max_length: 1024\n  save_steps: 5\n"))
    run_dir = run_recipe(recipe, tmp_path / "run", only=["curate", "split", "decontaminate", "search", "synthesize"],
                         report=False)
    sft_dir = run_dir / "ckpt" / "sft"
    _kill_when(_start(recipe, run_dir, "--only", "sft"), lambda: (sft_dir / "checkpoint-10" / "trainer_state.json").exists())
    assert "sft" not in state(run_dir)
    from medo1.train.common import last_checkpoint, read_metrics

    resumed_from = int(last_checkpoint(sft_dir).name.split("-")[1])
    assert 10 <= resumed_from < 160

    run_recipe(recipe, run_dir, only=["sft"], report=False)
    summary = state(run_dir)["sft"]["summary"]
    assert summary["examples"] == 4 and summary["steps"] == 160  # 4 examples x 40 epochs, batch 1
    steps = [m["step"] for m in read_metrics(sft_dir) if "loss" in m]
    assert steps == sorted(set(steps))  # the curve continues; nothing was trained twice
    assert (sft_dir / "model.safetensors").is_file()


def test_keeping_more_checkpoints_is_not_another_training(tmp_path):
    """`--keep-checkpoints N` changes what stays on disk, not what a stage computes: a finished SFT stage
    is not redone (nor refused) for it; a changed training setting still is."""
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe

    def fingerprints(**sft):
        recipe = load_recipe("demo")
        for key, value in sft.items():
            setattr(recipe.sft, key, value)
        run = Run(recipe, tmp_path / "run", concurrency=None, cache=False)
        return run.fingerprint("sft"), run.fingerprint("rl")

    assert fingerprints(keep_checkpoints=3) == fingerprints()
    assert fingerprints(epochs=2)[0] != fingerprints()[0]


def test_a_verifier_join_is_a_new_training_and_runs_made_before_it_keep_their_prints(tmp_path):
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe

    recipe = load_recipe("demo")
    recipe.verifier.enabled = True
    run = Run(recipe, tmp_path / "run", concurrency=None, cache=False)
    # the prints this recipe had before `verifier.join` existed (a run made then resumes, nothing is redone)
    assert (run.fingerprint("verifier"), run.fingerprint("rl")) == ("1aa6c3d5e9c71447", "b861703b6e0c005a")
    recipe.verifier.join = "match:strict"  # another threshold is chosen, and rl rewards with the join
    assert run.fingerprint("verifier") != "1aa6c3d5e9c71447" and run.fingerprint("rl") != "b861703b6e0c005a"


def test_the_rl_reward_may_use_its_own_verifier(tmp_path):
    """`models.reward` sets the RL reward's verifier (`match:strict`) apart from the one search and synthesis
    use; unset, runs keep the fingerprints they had."""
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe
    from medo1.stages import rl_verifier

    def run_with(**models):
        recipe = load_recipe("demo")
        for key, value in models.items():
            setattr(recipe.models, key, value)
        return Run(recipe, tmp_path / "run", concurrency=None, cache=False)

    plain, strict = run_with(), run_with(reward="match:strict")
    assert rl_verifier(plain) == "match" and rl_verifier(strict) == "match:strict"
    assert plain.fingerprint("rl") != strict.fingerprint("rl")
    assert plain.fingerprint("search") == strict.fingerprint("search")
    assert plain.fingerprint("rl") == run_with(reward=None).fingerprint("rl")
    joined = run_with(reward="match:strict + classifier:verifiers/commit")  # each part resolved as it is alone
    assert rl_verifier(joined) == f"match:strict+classifier:{joined.recipe.input_path('verifiers/commit')}"


def test_training_stages_run_in_a_fresh_process_and_their_errors_come_back(tmp_path, monkeypatch):
    from medo1.errors import InputError
    from medo1.recipe import load_recipe
    from medo1.stages import IN_PROCESS_ENV, in_fresh_process

    monkeypatch.delenv(IN_PROCESS_ENV, raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert in_fresh_process(os.getpid) != os.getpid()
    # a bad-input error raised there is the same one-line error here: file, line, field
    bad = tmp_path / "recipe.yaml"
    bad.write_text("name: x\nsft:\n  bogus: 1\n")
    with pytest.raises(InputError) as here:
        load_recipe(bad)
    with pytest.raises(InputError) as there:
        in_fresh_process(load_recipe, bad)
    assert str(there.value) == str(here.value) and there.value.line == here.value.line == 3
    # under a distributed launcher (or when asked) the stage runs in this process
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert in_fresh_process(os.getpid) == os.getpid()
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv(IN_PROCESS_ENV, "1")
    assert in_fresh_process(os.getpid) == os.getpid()
