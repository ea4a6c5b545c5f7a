"""rl.engine verl without verl installed: the overrides medo1 builds, the parquet it writes, the recipe
and CLI options, and TRL's vLLM colocate mode (`use_vllm`). verl itself checks these in test_verl.py."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medo1.errors import InputError, Medo1Error
from medo1.integrations.verl_data import write_verl_data
from medo1.integrations.verl_ckpt import import_metrics, metrics_files
from medo1.integrations.verl_launch import (VerlJob, VerlSettings, build_overrides, hydra_value, keep_metrics,
                                            launch_script, metrics_path)
from medo1.records import Problem

HAS_VERL = importlib.util.find_spec("verl") is not None


def _job(**extra) -> VerlJob:
    return VerlJob(train_files="/d/train.parquet", val_files="/d/val.parquet", model="/m/sft", out="/runs/x/ckpt/rl",
                   **extra)


def _as_dict(overrides: list[str]) -> dict[str, str]:
    return dict(o.split("=", 1) for o in overrides)


def test_overrides_carry_the_papers_ppo():
    o = _as_dict(build_overrides(_job(), {}, VerlSettings(nnodes=4, n_gpus_per_node=8)))
    assert o["algorithm.adv_estimator"] == "'gae'" and o["algorithm.lam"] == "0.95" and o["algorithm.gamma"] == "1.0"
    assert o["algorithm.use_kl_in_reward"] == "true" and o["actor_rollout_ref.actor.use_kl_loss"] == "false"
    assert o["algorithm.kl_ctrl.type"] == "'fixed'" and o["algorithm.kl_ctrl.kl_coef"] == "0.03"
    assert o["actor_rollout_ref.actor.clip_ratio"] == "0.2" and o["actor_rollout_ref.actor.optim.lr"] == "5e-07"
    assert o["critic.optim.lr"] == "5e-07" and o["actor_rollout_ref.actor.ppo_epochs"] == "3"
    assert o["data.train_batch_size"] == "128" and o["actor_rollout_ref.actor.ppo_mini_batch_size"] == "128"
    assert o["actor_rollout_ref.rollout.temperature"] == "0.5" and o["data.max_response_length"] == "1300"
    assert o["actor_rollout_ref.rollout.name"] == "'vllm'" and o["actor_rollout_ref.rollout.n"] == "1"
    assert o["trainer.nnodes"] == "4" and o["trainer.n_gpus_per_node"] == "8"
    assert o["critic.model.path"] == "'/m/sft'" and o["trainer.default_local_dir"] == "'/runs/x/ckpt/rl/verl'"
    assert o["reward.custom_reward_function.path"].endswith("medo1/integrations/verl_reward.py'")
    assert o["reward.reward_manager.name"] == "'naive'" and "+reward.max_rpm" not in o


def test_recipe_settings_reach_the_overrides_and_user_overrides_come_last():
    ppo = {"learning_rate": 1e-6, "batch_size": 64, "num_mini_batches": 4, "kl_coef": 0.05, "max_steps": 3}
    overrides = build_overrides(_job(value_model="/m/value"), ppo,
                                VerlSettings(critic_lr=1e-5, overrides=["trainer.logger=['console']"]))
    o = _as_dict(overrides)
    assert o["actor_rollout_ref.actor.optim.lr"] == "1e-06" and o["critic.optim.lr"] == "1e-05"
    assert o["actor_rollout_ref.actor.ppo_mini_batch_size"] == "16" and o["algorithm.kl_ctrl.kl_coef"] == "0.05"
    assert o["trainer.total_training_steps"] == "3" and o["critic.model.path"] == "'/m/value'"
    assert overrides[-1] == "trainer.logger=['console']"
    with pytest.raises(Medo1Error, match="multiple of num_mini_batches"):
        build_overrides(_job(), {"batch_size": 10, "num_mini_batches": 3})


def test_an_api_judge_selects_the_rate_limited_manager_with_its_settings_quoted():
    spec = "judge:openai:gpt-4o@http://judge:8000/v1"
    o = _as_dict(build_overrides(_job(verifier=spec), {}, VerlSettings(judge_max_rpm=600, judge_max_concurrent=16)))
    assert o["reward.reward_manager.name"] == "'rate_limited'"
    assert o["+reward.custom_reward_function.reward_kwargs.verifier"] == f"'{spec}'"
    assert o["+reward.max_rpm"] == "600" and o["+reward.max_concurrent"] == "16" and o["+reward.max_tpm"] == "null"
    assert o["+reward.custom_reward_function.reward_kwargs.concurrency"] == "16"
    assert hydra_value("it's a\\b") == "'it\\'s a\\\\b'" and hydra_value([1, "a"]) == "[1,'a']"


def test_launch_script_is_one_valid_shell_command_and_keeps_earlier_metrics(tmp_path):
    import subprocess

    out = tmp_path / "ckpt rl"  # a space: quoting must hold
    command = ["/usr/bin/python3", "-m", "verl.trainer.main_ppo",
               *build_overrides(_job(verifier="judge:openai:m@http://h:1/v1"), {}, VerlSettings())]
    script = launch_script(command, {"VERL_FILE_LOGGER_PATH": metrics_path(out)}, out)
    (tmp_path / "launch.sh").write_text(script)
    assert subprocess.run(["bash", "-n", str(tmp_path / "launch.sh")]).returncode == 0
    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(shlex.quote(command[0])))
    body = " ".join(line.rstrip("\\").strip() for line in lines[start:-1])
    words = shlex.split(body)
    assert words == command  # shell quoting round-trips
    assert lines[-1] == f"/usr/bin/python3 -m medo1.integrations.verl_launch finish {shlex.quote(str(out))}"
    # the lines before verl starts move an earlier attempt's metrics aside (verl's logger truncates its file)
    Path(metrics_path(out)).parent.mkdir(parents=True)
    Path(metrics_path(out)).write_text('{"step": 1, "data": {"critic/score/mean": 0.5}}\n')
    subprocess.run(["bash", "-c", "\n".join(lines[:start])], check=True)
    assert [p.name for p in metrics_files(out / "verl")][0].startswith("metrics.")
    assert not Path(metrics_path(out)).exists() and import_metrics(out / "verl", out) == 1


def test_metrics_of_a_resumed_run_keep_the_earlier_steps(tmp_path):
    verl = tmp_path / "verl"
    verl.mkdir()
    first = [{"step": 1, "data": {"critic/score/mean": 0.1}}, {"step": 2, "data": {"critic/score/mean": 0.2}}]
    (verl / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first) + '{"step": 3, "da')
    keep_metrics(tmp_path)
    second = [{"step": 2, "data": {"critic/score/mean": 0.25, "actor/reward_kl_penalty": 0.01}},
              {"step": 3, "data": {"critic/score/mean": 0.3}}]
    (verl / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in second))
    assert import_metrics(verl, tmp_path / "rl") == 3
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["reward"]) for r in rows] == [(1, 0.1), (2, 0.25), (3, 0.3)] and rows[1]["kl"] == 0.01


def test_parquet_rows_have_verls_rl_shape_and_a_held_out_validation_set(tmp_path):
    import pandas as pd

    problems = [Problem(question=f"Q{i}?", answer=f"A{i}", source="medqa", source_id=str(i)) for i in range(30)]
    data = write_verl_data(problems, tmp_path, run_name="demo", val_size=64, seed=1)
    train, val = pd.read_parquet(data.train), pd.read_parquet(data.val)
    assert (data.train_rows, data.val_rows, len(train), len(val)) == (27, 3, 27, 3)  # at most a tenth held out
    row = train.iloc[0]
    assert row["data_source"] == "medo1/demo"
    assert [dict(m) for m in row["prompt"]] == [{"role": "user", "content": "Q0?"}]
    assert dict(row["reward_model"]) == {"style": "rule", "ground_truth": "A0"}
    assert row["extra_info"]["id"] == problems[0].id and row["extra_info"]["source_id"] == "0"
    assert set(train["extra_info"].map(lambda e: e["id"])).isdisjoint(val["extra_info"].map(lambda e: e["id"]))
    small = write_verl_data(problems[:5], tmp_path / "small", run_name="demo")
    assert small.val_rows == 0 and len(pd.read_parquet(small.val)) == 5  # nothing to spare: val is train


def test_recipe_takes_engine_and_verl_section(tmp_path):
    from medo1.recipe import load_recipe

    path = tmp_path / "r.yaml"
    path.write_text("rl:\n  algo: ppo\n  engine: verl\n  verl:\n    n_gpus_per_node: 4\n    overrides: [a=1]\n")
    recipe = load_recipe(path)
    assert recipe.rl.engine == "verl" and recipe.rl.verl.n_gpus_per_node == 4 and recipe.rl.verl.overrides == ["a=1"]
    path.write_text("rl:\n  algo: ppo\n  engine: deepspeed\n")
    with pytest.raises(InputError, match=r"r.yaml:3: rl.engine: "):
        load_recipe(path)
    path.write_text("rl:\n  algo: ppo\n  verl:\n    gpus: 4\n")
    with pytest.raises(InputError, match=r"r.yaml:4: rl.verl.gpus: unknown key"):
        load_recipe(path)
    path.write_text("rl:\n  algo: grpo\n  use_vllm: true\n")
    assert load_recipe(path).rl.use_vllm is True


@pytest.mark.skipif(HAS_VERL, reason="verl is installed here")
def test_engine_verl_without_verl_says_how_to_install(tmp_path, tiny_model_dir):
    from medo1.cli import app

    problems = tmp_path / "p.jsonl"
    problems.write_text('{"question": "Q?", "answer": "A"}\n')
    result = CliRunner().invoke(app, ["rl", "--engine", "verl", "--problems", str(problems), "--model",
                                      str(tiny_model_dir), "--out", str(tmp_path / "o"), "--print-launch"])
    assert result.exit_code != 0 and 'pip install -e ".[verl]"' in str(result.exception or result.output)
    result = CliRunner().invoke(app, ["rl", "--engine", "verl", "--algo", "grpo", "--problems", str(problems),
                                      "--model", str(tiny_model_dir), "--out", str(tmp_path / "o")])
    assert "--engine verl runs PPO" in str(result.exception or result.output)


# ---------------------------------------------------------------- TRL with vLLM


def test_use_vllm_sets_trl_colocate_mode_with_the_papers_sampling(tmp_path):
    from trl import GRPOConfig, RLOOConfig

    from medo1.train.trl_rl import TRLRLSettings, online_args

    for algo, config_cls in (("grpo", GRPOConfig), ("rloo", RLOOConfig)):
        s = TRLRLSettings(algo=algo, problems="p", model="m", out=str(tmp_path / algo), batch_size=8,
                          micro_batch_size=8, use_vllm=True, vllm_gpu_memory_utilization=0.4)
        args = online_args(s, config_cls, 2)
        assert args.use_vllm and args.vllm_mode == "colocate" and args.vllm_gpu_memory_utilization == 0.4
        assert args.generation_kwargs == {}  # they would go to vLLM's SamplingParams, which has no do_sample
        assert (args.temperature, args.top_p, args.top_k, args.min_p) == (0.5, 1.0, 0, 0.0)
    plain = online_args(TRLRLSettings(algo="grpo", problems="p", model="m", out=str(tmp_path / "x"), batch_size=8,
                                      micro_batch_size=8), GRPOConfig, 2)
    assert not plain.use_vllm and plain.generation_kwargs["do_sample"] is True


def test_use_vllm_errors_are_clear(tmp_path):
    from medo1.train.trl_rl import TRLRLSettings, train_trl_rl

    with pytest.raises(Medo1Error, match="use_vllm applies to grpo and rloo"):
        train_trl_rl(TRLRLSettings(algo="dpo", problems="p", model="m", out=str(tmp_path), use_vllm=True))
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(Medo1Error, match="needs vLLM in this environment"):
            train_trl_rl(TRLRLSettings(algo="grpo", problems="p", model="m", out=str(tmp_path), use_vllm=True))
