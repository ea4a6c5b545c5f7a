"""rl.engine verl without verl installed: the overrides medo1 builds, the parquet it writes, the launch script,
the reward's cluster settings, the recipe and CLI options, and TRL's vLLM colocate mode (`use_vllm`). verl itself
checks these in test_verl.py."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medo1.errors import InputError, Medo1Error
from medo1.integrations.verl_ckpt import import_metrics, metrics_files, prune_checkpoints
from medo1.integrations.verl_data import write_verl_data
from medo1.integrations.verl_launch import check_resume, keep_metrics, launch_script, move_aside
from medo1.integrations.verl_overrides import build_overrides, hydra_value, plan
from medo1.integrations.verl_settings import (
    VerlJob,
    VerlSettings,
    judge_limits,
    metrics_path,
    settings_for,
    steps_and_epochs,
)
from medo1.records import Problem

HAS_VERL = importlib.util.find_spec("verl") is not None
GOOD = "## Thinking\n\nHmm, chest pain radiating to the arm.\n\n## Final Response\n\nThe answer is aspirin."


def _job(**extra) -> VerlJob:
    return VerlJob(**{"train_files": "/d/train.parquet", "val_files": "/d/val.parquet", "model": "/m/sft",
                      "out": "/runs/x/ckpt/rl", "train_rows": 1000, **extra})


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


def test_clip_range_reaches_both_sides_of_verls_clip_and_dual_clip_is_off():
    o = _as_dict(build_overrides(_job(), {"clip_range": 0.1}))
    assert o["actor_rollout_ref.actor.clip_ratio_low"] == "0.1" and o["actor_rollout_ref.actor.clip_ratio_high"] == "0.1"
    assert float(o["actor_rollout_ref.actor.clip_ratio_c"]) >= 1e9  # verl's dual clip never binds, as in ours


def test_learning_rate_schedule_and_warmup_reach_both_optimizers():
    result = plan(_job(), {"warmup_ratio": 0.5})
    o = _as_dict(result.overrides)
    for model in ("actor_rollout_ref.actor", "critic"):
        assert o[f"{model}.optim.lr_scheduler_type"] == "'cosine'" and o[f"{model}.optim.min_lr_ratio"] == "0.0"
        assert o[f"{model}.optim.lr_warmup_steps"] == str(math.ceil(0.5 * int(o["trainer.total_training_steps"])))
    assert any("cosine" in note for note in result.notes)  # ours is linear: said in one line
    o = _as_dict(build_overrides(_job(), {"lr_scheduler": "constant"}))
    assert o["critic.optim.lr_scheduler_type"] == "'constant'" and o["critic.optim.lr_warmup_steps"] == "-1"
    with pytest.raises(Medo1Error, match="polynomial"):
        build_overrides(_job(), {"lr_scheduler": "polynomial"})


def test_steps_and_epochs_let_verl_reach_its_last_step():
    # the GPU script: 36 problems at batch 16 hold 2 steps per epoch (verl drops the partial batch); 3 asked
    assert steps_and_epochs({"max_steps": 3, "epochs": 1.0}, 36, 16) == (3, 2)
    assert steps_and_epochs({"max_steps": -1, "epochs": 1.0}, 36, 16) == (3, 2)  # as many as our PPO takes
    assert steps_and_epochs({"max_steps": -1, "epochs": 2.0}, 128, 64) == (4, 2)
    o = _as_dict(build_overrides(_job(train_rows=36), {"batch_size": 16, "max_steps": 3, "save_steps": 20}))
    assert (o["trainer.total_training_steps"], o["trainer.total_epochs"], o["trainer.save_freq"]) == ("3", "2", "20")
    with pytest.raises(Medo1Error, match="do not fill one batch of 16"):
        build_overrides(_job(train_rows=10), {"batch_size": 16})


def test_gradient_checkpointing_stays_on_for_verl_unless_turned_off():
    assert settings_for("ppo", {})["gradient_checkpointing"] is True
    assert settings_for("ppo", {"gradient_checkpointing": None})["gradient_checkpointing"] is True
    assert settings_for("ppo", {"gradient_checkpointing": False})["gradient_checkpointing"] is False
    o = _as_dict(build_overrides(_job(), {}))
    assert o["actor_rollout_ref.model.enable_gradient_checkpointing"] == "true"
    assert o["critic.model.enable_gradient_checkpointing"] == "true"


def test_settings_verl_has_no_counterpart_for_are_refused_in_one_line():
    for given, name in (({"vf_coef": 0.1}, "vf_coef"), ({"whiten_rewards": True}, "whiten_rewards"),
                        ({"missing_eos_penalty": 1.0}, "missing_eos_penalty"), ({"bf16": False}, "bf16")):
        with pytest.raises(Medo1Error, match=rf"rl.{name}=.* does not apply with rl.engine verl"):
            settings_for("ppo", given)
    with pytest.raises(Medo1Error, match="use_vllm"):
        settings_for("grpo", {"use_vllm": True})
    with pytest.raises(Medo1Error, match="no setting num_generations"):
        settings_for("ppo", {"num_generations": 4})
    with pytest.raises(Medo1Error, match="runs ppo or grpo"):
        settings_for("rloo", {})
    keep = _as_dict(build_overrides(_job(), {"keep_checkpoints": 3}, VerlSettings(tensor_parallel_size=2,
                                                                                 critic_lr=1e-5)))
    assert keep["trainer.max_actor_ckpt_to_keep"] == "3" and keep["critic.optim.lr"] == "1e-05"
    assert keep["actor_rollout_ref.rollout.tensor_model_parallel_size"] == "2"


def test_attention_falls_back_to_sdpa_without_remove_padding_when_asked_or_without_flash_attn():
    result = plan(_job(), {}, VerlSettings(attention="sdpa"))
    o = _as_dict(result.overrides)
    assert o["++actor_rollout_ref.model.override_config.attn_implementation"] == "sdpa"
    assert o["++critic.model.override_config.attn_implementation"] == "sdpa"
    assert o["actor_rollout_ref.model.use_remove_padding"] == "false" and o["critic.model.use_remove_padding"] == "false"
    assert [n for n in result.notes if "sdpa" in n]
    auto = _as_dict(build_overrides(_job(), {}))
    expected = "flash_attention_2" if importlib.util.find_spec("flash_attn") else "sdpa"
    assert auto["++actor_rollout_ref.model.override_config.attn_implementation"] == expected


def test_validation_runs_with_each_checkpoint_and_at_the_end_when_problems_are_held_out():
    o = _as_dict(build_overrides(_job(has_val=True), {"save_steps": 10}))
    assert o["trainer.test_freq"] == "10"  # verl also validates at its last step
    o = _as_dict(build_overrides(_job(has_val=True), {}, VerlSettings(test_freq=5)))
    assert o["trainer.test_freq"] == "5"
    assert _as_dict(build_overrides(_job(has_val=False), {}))["trainer.test_freq"] == "-1"


def test_grpo_on_verl_samples_groups_and_puts_the_kl_in_the_loss():
    o = _as_dict(build_overrides(_job(algo="grpo"), {"batch_size": 64, "num_generations": 8, "kl_coef": 0.04}))
    assert o["algorithm.adv_estimator"] == "'grpo'" and o["actor_rollout_ref.rollout.n"] == "8"
    assert o["data.train_batch_size"] == "8" and o["actor_rollout_ref.actor.ppo_mini_batch_size"] == "8"
    assert o["actor_rollout_ref.actor.use_kl_loss"] == "true" and o["actor_rollout_ref.actor.kl_loss_coef"] == "0.04"
    assert o["algorithm.use_kl_in_reward"] == "false" and o["critic.enable"] == "false"
    assert not any(k.startswith("critic.model") for k in o)
    with pytest.raises(Medo1Error, match="multiple of num_generations 8"):
        build_overrides(_job(algo="grpo"), {"batch_size": 12})


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


def test_an_api_judges_limits_are_shared_among_verls_reward_workers():
    spec = "judge:openai:gpt-4o@http://judge:8000/v1"
    settings = VerlSettings(judge_max_rpm=3000, judge_max_tpm=800_000, judge_max_concurrent=64, reward_workers=8)
    o = _as_dict(build_overrides(_job(verifier=spec), {}, settings))
    assert o["reward.reward_manager.name"] == "'rate_limited'" and o["reward.num_workers"] == "8"
    assert o["+reward.custom_reward_function.reward_kwargs.verifier"] == f"'{spec}'"
    # each worker process keeps its own limiter: 8 x 375 RPM = the 3000 asked for, not 24,000
    assert o["+reward.max_rpm"] == "375.0" and o["+reward.max_tpm"] == "100000.0" and o["+reward.max_concurrent"] == "8"
    assert o["+reward.custom_reward_function.reward_kwargs.concurrency"] == "8"
    assert o["+reward.timeout"] == "300.0" and o["+reward.custom_reward_function.reward_kwargs.verify_timeout"] == "270.0"
    # fewer requests in flight than workers: fewer workers; the run's concurrency is the default total
    assert judge_limits(VerlSettings(judge_max_concurrent=3), 32) == {"workers": 3, "concurrent": 1, "rpm": None,
                                                                       "tpm": None}
    assert judge_limits(VerlSettings(), 32)["concurrent"] == 4
    assert hydra_value("it's a\\b") == "'it\\'s a\\\\b'" and hydra_value([1, "a"]) == "[1,'a']"


def test_the_reward_cache_is_one_file_per_node_on_a_cluster(tmp_path, openai_server):
    import asyncio
    import socket

    from medo1.integrations.verl_reward import compute_score

    openai_server.handler = lambda body, headers: "True"
    cache = tmp_path / "shared" / "requests.sqlite"
    kwargs = dict(verifier=f"judge:openai:m@{openai_server.url}", cache=str(cache))
    assert asyncio.run(compute_score("s", GOOD, "aspirin", {}, cache_per_node=True, **kwargs))["score"] == 1.0
    assert [p.name for p in cache.parent.glob("*.sqlite")] == [f"requests.{socket.gethostname()}.sqlite"]
    o = _as_dict(build_overrides(_job(), {}, VerlSettings(nnodes=2)))
    assert o["+reward.custom_reward_function.reward_kwargs.cache_per_node"] == "true"
    assert _as_dict(build_overrides(_job(), {}))["+reward.custom_reward_function.reward_kwargs.cache_per_node"] == "false"


def test_launch_script_is_one_valid_shell_command_and_creates_the_metrics_folder(tmp_path):
    out = tmp_path / "ckpt rl"  # a space: quoting must hold
    command = ["/usr/bin/python3", "-m", "medo1.integrations.verl_main",
               *build_overrides(_job(verifier="judge:openai:m@http://h:1/v1"), {})]
    script = launch_script(command, out, judge=True, notes=["verl: a note"])
    (tmp_path / "launch.sh").write_text(script)
    assert subprocess.run(["bash", "-n", str(tmp_path / "launch.sh")]).returncode == 0
    lines = script.splitlines()
    assert "#SBATCH --nodes=1" in lines and "# verl: a note" in lines and "OPENAI_API_KEY" in script
    start = next(i for i, line in enumerate(lines) if line.startswith(shlex.quote(command[0])))
    body = " ".join(line.rstrip("\\").strip() for line in lines[start:-1])
    assert shlex.split(body) == command  # shell quoting round-trips
    assert lines[-1] == f"/usr/bin/python3 -m medo1.integrations.verl_launch finish {shlex.quote(str(out))}"
    # the lines before verl starts create the folder verl's file logger opens its file in (it does not create it)
    subprocess.run(["bash", "-c", "\n".join(lines[:start])], check=True)
    assert Path(metrics_path(out)).parent.is_dir()
    # ... and move an earlier attempt's metrics aside (verl's logger truncates its file)
    Path(metrics_path(out)).write_text('{"step": 1, "data": {"critic/score/mean": 0.5}}\n')
    subprocess.run(["bash", "-c", "\n".join(lines[:start])], check=True)
    assert [p.name for p in metrics_files(out / "verl")][0].startswith("metrics.")
    assert not Path(metrics_path(out)).exists() and import_metrics(out / "verl", out) == 1


STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
"""


def test_a_multi_node_launch_starts_ray_across_the_slurm_allocation_before_verl(tmp_path):
    """Slurm and Ray are not here: `srun`, `scontrol`, `ray` and the Python are scripts that log their arguments
    (srun runs its command), so the script's own logic runs for real under bash."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(STUB + 'cat > /dev/null\n')
    (bin_dir / "ray").write_text(STUB + '[ "$1" = status ] && exit "${RAY_STATUS:-1}"\ncat > /dev/null\n')
    (bin_dir / "scontrol").write_text(STUB + 'printf "gpu-a\\ngpu-b\\ngpu-c\\n"\n')
    (bin_dir / "srun").write_text(STUB + 'while [[ "$1" == -* ]]; do [[ "$1" == -w ]] && shift; shift; done\n'
                                         'if [ "$1" = hostname ]; then echo "10.0.0.1 fe80::1"; else "$@"; fi\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    python = str(bin_dir / "python")
    command = [python, "-m", "medo1.integrations.verl_main", "trainer.nnodes=2"]
    script = launch_script(command, tmp_path / "out", nnodes=2, n_gpus_per_node=8)
    (tmp_path / "launch.sh").write_text(script)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log),
           "SLURM_JOB_NODELIST": "gpu-[a-c]"}
    env.pop("RAY_ADDRESS", None)
    run = dict(env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    done = subprocess.run(["bash", str(tmp_path / "launch.sh")], **run)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert sorted(c for c in calls if c.startswith("ray ")) == [  # head on the first node, a worker on the second
        "ray start --address=10.0.0.1:6379 --num-gpus=8 --block",
        "ray start --head --node-ip-address=10.0.0.1 --port=6379 --num-gpus=8 --block"]
    ray_steps = {c.split()[4] for c in calls if c.startswith("srun ") and c.endswith("--block")}
    assert ray_steps == {"gpu-a", "gpu-b"}  # `srun -w <node>`: the third node of the allocation is not used
    # it waits until both nodes joined, then starts verl, then converts
    assert [c for c in calls if c.startswith("python ")] == [
        "python - 2", "python -m medo1.integrations.verl_main trainer.nnodes=2",
        f"python -m medo1.integrations.verl_launch finish {tmp_path / 'out'}"]
    # outside an allocation, a multi-node launch stops with one line before anything starts
    env.pop("SLURM_JOB_NODELIST")
    log.write_text("")
    done = subprocess.run(["bash", str(tmp_path / "launch.sh")], **run)
    assert done.returncode == 1 and "sbatch" in done.stderr and "verl_main" not in log.read_text()
    # ... unless this node is in a Ray cluster started by hand: verl joins it, no Ray is started
    log.write_text("")
    done = subprocess.run(["bash", str(tmp_path / "launch.sh")], **{**run, "env": {**env, "RAY_STATUS": "0"}})
    calls = log.read_text().splitlines()
    assert done.returncode == 0 and "ray status" in calls and not [c for c in calls if "ray start" in c]
    assert "python -m medo1.integrations.verl_main trainer.nnodes=2" in calls


def test_resume_is_refused_when_the_problems_changed_and_fresh_starts_over(tmp_path):
    out = tmp_path / "rl"
    step = out / "verl" / "global_step_2"
    step.mkdir(parents=True)
    (out / "verl" / "medo1_plan.json").write_text(json.dumps({"fingerprint": "aaa", "train_batch_size": 16,
                                                               "seed": 42}))
    state = {"problems": "rl.jsonl", "fingerprint": "aaa", "train_batch_size": 16, "seed": 42}
    check_resume(out, state, resume=True, fresh=False)  # the same data: resumes
    with pytest.raises(Medo1Error, match="rl.jsonl: the training problems changed since verl's checkpoint"):
        check_resume(out, {**state, "fingerprint": "bbb"}, resume=True, fresh=False)
    with pytest.raises(Medo1Error, match="the batch size changed"):
        check_resume(out, {**state, "train_batch_size": 32}, resume=True, fresh=False)
    with pytest.raises(Medo1Error, match="pass --resume to continue them, or --fresh to start over"):
        check_resume(out, state, resume=False, fresh=False)
    check_resume(out, {**state, "fingerprint": "bbb"}, resume=False, fresh=True)  # starting over: no refusal
    move_aside(out)
    assert not (out / "verl").exists() and [p.name for p in out.glob("verl.*")]  # moved aside, not deleted


def test_metrics_of_a_resumed_run_keep_the_earlier_steps(tmp_path):
    verl = tmp_path / "verl"
    verl.mkdir()
    first = [{"step": 1, "data": {"critic/score/mean": 0.1}}, {"step": 2, "data": {"critic/score/mean": 0.2}}]
    (verl / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first) + '{"step": 3, "da')
    keep_metrics(tmp_path)
    second = [{"step": 2, "data": {"critic/score/mean": 0.25, "actor/reward_kl_penalty": 0.01}},
              {"step": 3, "data": {"critic/score/mean": 0.3, "val-core/medo1/x/reward/mean@1": 0.7,
                                   "val-aux/medo1/x/correct/mean@1": 0.5}}]
    (verl / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in second))
    assert import_metrics(verl, tmp_path / "rl") == 3
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["reward"]) for r in rows] == [(1, 0.1), (2, 0.25), (3, 0.3)] and rows[1]["kl"] == 0.01
    assert rows[2]["val_reward"] == 0.7 and rows[2]["val_correct_rate"] == 0.5


def test_checkpoints_beyond_keep_checkpoints_are_removed_after_the_conversion(tmp_path):
    for step in (2, 4, 6):
        (tmp_path / f"global_step_{step}" / "actor").mkdir(parents=True)
    (tmp_path / "latest_checkpointed_iteration.txt").write_text("6")
    assert [p.name for p in prune_checkpoints(tmp_path, 1)] == ["global_step_2", "global_step_4"]
    assert (tmp_path / "global_step_6").exists()
    prune_checkpoints(tmp_path, 0)
    assert not list(tmp_path.glob("global_step_*")) and not (tmp_path / "latest_checkpointed_iteration.txt").exists()


def test_parquet_rows_have_verls_rl_shape_and_a_held_out_validation_set(tmp_path, tiny_model_dir):
    import pandas as pd
    from transformers import AutoTokenizer

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
    # prompts over the limit are left out here, by verl's rule, and listed: the rows are what verl's loader holds
    long = problems[:4] + [Problem(question="why " * 200 + "?", answer="A", source="medqa", source_id="long")]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    kept = write_verl_data(long, tmp_path / "long", run_name="demo", val_size=0, tokenizer=tokenizer,
                           max_prompt_length=64)
    assert kept.train_rows == 4 and [s["id"] for s in kept.skipped] == [long[-1].id]
    assert json.loads((tmp_path / "long" / "skipped.json").read_text())[0]["reason"].startswith("prompt is ")
    assert kept.fingerprint != write_verl_data(long[:3], tmp_path / "l3", run_name="demo", val_size=0).fingerprint


def test_recipe_takes_engine_and_verl_section_for_ppo_and_grpo(tmp_path):
    from medo1.recipe import load_recipe

    path = tmp_path / "r.yaml"
    path.write_text("rl:\n  algo: ppo\n  engine: verl\n  verl:\n    n_gpus_per_node: 4\n    overrides: [a=1]\n")
    recipe = load_recipe(path)
    assert recipe.rl.engine == "verl" and recipe.rl.verl.n_gpus_per_node == 4 and recipe.rl.verl.overrides == ["a=1"]
    path.write_text("rl:\n  algo: grpo\n  engine: verl\n  num_generations: 4\n  verl:\n    nnodes: 2\n")
    recipe = load_recipe(path)
    assert (recipe.rl.algo, recipe.rl.engine, recipe.rl.verl.nnodes, recipe.rl.num_generations) == ("grpo", "verl", 2, 4)
    path.write_text("rl:\n  algo: rloo\n  engine: verl\n")
    with pytest.raises(InputError, match=r"r.yaml:3: rl.engine: unknown key"):
        load_recipe(path)
    path.write_text("rl:\n  algo: ppo\n  engine: deepspeed\n")
    with pytest.raises(InputError, match=r"r.yaml:3: rl.engine: "):
        load_recipe(path)
    path.write_text("rl:\n  algo: ppo\n  verl:\n    gpus: 4\n")
    with pytest.raises(InputError, match=r"r.yaml:4: rl.verl.gpus: unknown key"):
        load_recipe(path)
    path.write_text("rl:\n  algo: grpo\n  use_vllm: true\n")
    assert load_recipe(path).rl.use_vllm is True


def test_verl_only_options_are_refused_with_engine_ours(tmp_path):
    from medo1.cli import app

    result = CliRunner().invoke(app, ["rl", "--problems", "p.jsonl", "--model", "m", "--out", str(tmp_path / "o"),
                                      "--fresh", "--judge-max-rpm", "60"])
    assert result.exit_code != 0 and "--fresh, --judge-max-rpm: only with --engine verl" in str(result.exception)


@pytest.mark.skipif(HAS_VERL, reason="verl is installed here")
def test_engine_verl_without_verl_says_how_to_install(tmp_path, tiny_model_dir):
    from medo1.cli import app

    problems = tmp_path / "p.jsonl"
    problems.write_text("".join(f'{{"question": "Q{i}?", "answer": "A"}}\n' for i in range(200)))
    result = CliRunner().invoke(app, ["rl", "--engine", "verl", "--problems", str(problems), "--model",
                                      str(tiny_model_dir), "--out", str(tmp_path / "o"), "--print-launch"])
    assert result.exit_code != 0 and 'pip install -e ".[verl]"' in str(result.exception or result.output)
    result = CliRunner().invoke(app, ["rl", "--engine", "verl", "--algo", "dpo", "--problems", str(problems),
                                      "--model", str(tiny_model_dir), "--out", str(tmp_path / "o")])
    assert "runs ppo or grpo; algo dpo runs on engine ours" in str(result.exception or result.output)


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


def test_the_gpu_install_is_verls_tested_stack_and_the_gpu_scripts_set_up_a_bare_machine():
    import tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"verl[vllm]==0.9.1", "vllm==0.24.0", "medo1[verl]"} <= set(extras["verl-gpu"])  # verl 0.9's CI image
    assert not any("vllm" in r for r in extras["verl"])  # the CPU extra stays installable without a GPU stack
    scripts = sorted((root / "benchmarks" / "gpu").glob("*.sh"))
    for script in scripts:
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, script
    setup = (root / "benchmarks" / "gpu" / "setup.sh").read_text()
    assert "build-essential" in setup and "python3-dev" in setup and 'pip install -q -e ".[${EXTRAS' in setup
    for name, extra in (("verl_ppo.sh", "verl-gpu"), ("smoke.sh", "test")):
        text = (root / "benchmarks" / "gpu" / name).read_text()
        assert f"EXTRAS={extra} source benchmarks/gpu/setup.sh" in text and "\npython " not in text
