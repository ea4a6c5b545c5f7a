"""rl.engine verl, its pieces run by verl itself on CPU (verl's trainer needs GPUs; these do not):
the parquet through verl's RLHFDataset, compute_score through verl's reward loop worker and its
naive and rate_limited managers, the overrides through verl's Hydra config and its checks, and a
checkpoint saved by verl's FSDP checkpoint manager converted by verl's model merger.

These need verl, which pins its own transformers: they run in the verl environment
(README, "Laptop (our PPO) vs cluster (verl)") and are skipped elsewhere."""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("verl")
pytest.importorskip("ray")  # verl's, and medo1's verl_main starts it

import numpy as np  # noqa: E402
import torch  # noqa: E402

from medo1.errors import Medo1Error  # noqa: E402
from medo1.integrations.verl_ckpt import convert_checkpoint, import_metrics, latest_step_dir  # noqa: E402
from medo1.integrations.verl_data import write_verl_data  # noqa: E402
from medo1.integrations.verl_launch import finish  # noqa: E402
from medo1.integrations.verl_overrides import build_overrides, compose  # noqa: E402
from medo1.integrations.verl_settings import VerlJob, VerlSettings  # noqa: E402
from medo1.records import Problem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOOD = "## Thinking\n\nHmm, chest pain radiating to the arm.\n\n## Final Response\n\nThe answer is aspirin."
WRONG = "## Thinking\n\nHmm.\n\n## Final Response\n\nThe answer is heparin."
NO_FORMAT = "The answer is aspirin."
PROBLEMS = [Problem(question=f"Case {i}: a 45-year-old man with chest pain. What should he chew now?",
                    answer="aspirin", source="medqa", source_id=f"q{i}") for i in range(20)]


def _job(tmp_path: Path, model: Path, verifier: str = "match", **extra) -> VerlJob:
    data = write_verl_data(PROBLEMS, tmp_path / "data", run_name="test", val_size=2)
    extra.setdefault("train_rows", data.train_rows)
    return VerlJob(train_files=str(data.train), val_files=str(data.val), model=str(model), out=str(tmp_path / "out"),
                   run_name="test", verifier=verifier, cache=str(tmp_path / "cache.sqlite"),
                   has_val=data.val_rows > 0, **extra)


def _config(tmp_path, model, verifier="match", ppo=None, algo="ppo", rows=None, **settings):
    ppo = {"batch_size": 8, "micro_batch_size": 2, **(ppo or {})}
    job = _job(tmp_path, model, verifier, algo=algo, **({"train_rows": rows} if rows else {}))
    return compose(build_overrides(job, ppo, VerlSettings(n_gpus_per_node=1, **settings)))


def _problems_file(path: Path, problems: list[Problem] = PROBLEMS) -> Path:
    path.write_text("".join(p.model_dump_json() + "\n" for p in problems))
    return path


def shlex_overrides(script: str) -> list[str]:
    """The verl overrides of a launch script's `-m medo1.integrations.verl_main` command."""
    import shlex

    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines) if "-m medo1.integrations.verl_main" in line)
    end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
    return shlex.split(" ".join(line.rstrip("\\") for line in lines[start:end + 1]))[3:]


def _launch_keys(script: str) -> dict[str, str]:
    """key -> value of the script's overrides, Hydra's quotes taken off."""
    pairs = (o.split("=", 1) for o in shlex_overrides(script))
    return {k: v[1:-1] if len(v) > 1 and v[0] == v[-1] == "'" else v for k, v in pairs}


@pytest.fixture
def fresh_rate_limits():
    """verl's rate_limited manager keeps its limiters on the class (one set per process, bound to the event loop
    that first waited on them): each test starts with none, as a new reward worker does."""
    from verl.experimental.reward_loop.reward_manager.limited import RateLimitedRewardManager

    names = ("_class_initialized", "_semaphore", "_max_concurrent", "_rpm_limiter", "_max_rpm", "_tpm_limiter",
             "_max_tpm", "_estimated_tokens_per_request")
    saved = {k: getattr(RateLimitedRewardManager, k) for k in names}
    RateLimitedRewardManager._class_initialized = False
    yield RateLimitedRewardManager
    for k, v in saved.items():
        setattr(RateLimitedRewardManager, k, v)


def _cli(*args: str):
    from typer.testing import CliRunner

    from medo1.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


# ---------------------------------------------------------------- data


def test_parquet_loads_through_verl_rlhf_dataset(tmp_path, tiny_model_dir):
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    config = _config(tmp_path, tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    dataset = RLHFDataset(config.data.train_files, tokenizer, config.data)
    assert len(dataset) == 18  # 2 of 20 held out for validation
    row = dataset[0]
    first = next(p for p in PROBLEMS if p.id == row["extra_info"]["id"])
    assert row["raw_prompt"] == [{"role": "user", "content": first.question}]  # our PPO's prompt
    assert row["data_source"] == "medo1/test"
    assert row["reward_model"] == {"style": "rule", "ground_truth": "aspirin"}
    assert row["extra_info"]["source"] == "medqa" and row["extra_info"]["split"] == "train"
    val = RLHFDataset(config.data.val_files, tokenizer, config.data)
    assert len(val) == 2 and {val[i]["extra_info"]["id"] for i in range(2)}.isdisjoint(
        {dataset[i]["extra_info"]["id"] for i in range(len(dataset))})


# ---------------------------------------------------------------- reward


def _batch(tokenizer, texts: list[str], answers: list[str]):
    """A rollout batch as verl's agent loop hands it to the reward loop: left-padded prompts, right-padded
    responses, one attention mask over both."""
    from verl import DataProto

    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": "Q?"}], add_generation_prompt=True,
                                             tokenize=True, return_dict=False) for _ in texts]
    responses = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for t in texts]
    p_len, r_len, pad = max(map(len, prompts)), max(map(len, responses)) + 3, tokenizer.pad_token_id
    prompt_t = torch.tensor([[pad] * (p_len - len(p)) + p for p in prompts])
    response_t = torch.tensor([r + [pad] * (r_len - len(r)) for r in responses])
    mask = torch.tensor([[0] * (p_len - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (r_len - len(r))
                         for p, r in zip(prompts, responses)])
    extra = np.array([{"id": f"p{i}", "index": i, "split": "train"} for i in range(len(texts))], dtype=object)
    return DataProto.from_dict(
        tensors={"prompts": prompt_t, "responses": response_t, "attention_mask": mask,
                 "input_ids": torch.cat([prompt_t, response_t], dim=1)},
        non_tensors={"data_source": np.array(["medo1/test"] * len(texts), dtype=object),
                     "reward_model": np.array([{"style": "rule", "ground_truth": a} for a in answers], dtype=object),
                     "extra_info": extra})


def _score(config, batch) -> list[dict]:
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker, migrate_legacy_reward_impl

    async def run():
        worker = RewardLoopWorker(migrate_legacy_reward_impl(copy.deepcopy(config)))
        return await worker.compute_score_batch(batch)

    return asyncio.run(run())


def test_compute_score_through_verl_reward_loop(tmp_path, tiny_model_dir):
    from transformers import AutoTokenizer

    config = _config(tmp_path, tiny_model_dir)
    assert config.reward.reward_manager.name == "naive"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    outputs = _score(config, _batch(tokenizer, [GOOD, WRONG, NO_FORMAT], ["aspirin"] * 3))
    assert [o["reward_score"] for o in outputs] == [1.0, 0.1, 0.0]
    assert all(set(o["reward_extra_info"]) == {"score", "correct", "formatted", "truncated", "verify_failed",
                                               "overlong_penalty", "uncommitted", "final_response_chars"}
               for o in outputs)  # the rule's terms, and the reward-hacking watch's
    assert [o["reward_extra_info"]["correct"] for o in outputs] == [1.0, 0.0, 0.0]
    assert [o["reward_extra_info"]["final_response_chars"] for o in outputs] == [22.0, 22.0, 0.0]


def test_api_judge_goes_through_rate_limited_manager_cached_and_failures_recorded(tmp_path, tiny_model_dir,
                                                                                  openai_server, fresh_rate_limits):
    from transformers import AutoTokenizer

    def judge(body, headers):
        prompt = body["messages"][-1]["content"]
        if "unreachable" in prompt:
            from tests.openai_server import Reply

            return Reply(status=400, error_message="bad request")  # not retried: the verification fails
        return "True" if "aspirin" in prompt.split("</response>")[0] else "False"

    openai_server.handler = judge
    config = _config(tmp_path, tiny_model_dir, verifier=f"judge:openai:judge-model@{openai_server.url}",
                     judge_max_concurrent=2, reward_workers=1)
    assert config.reward.reward_manager.name == "rate_limited" and config.reward.max_concurrent == 2
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [GOOD, WRONG, NO_FORMAT, GOOD.replace("aspirin", "unreachable")]
    outputs = _score(config, _batch(tokenizer, texts, ["aspirin"] * 4))
    assert [o["reward_score"] for o in outputs] == [1.0, 0.1, 0.0, 0.1]
    assert [o["reward_extra_info"]["verify_failed"] for o in outputs] == [0.0, 0.0, 0.0, 1.0]
    assert openai_server.tags() == ["verify"] * 3 and openai_server.max_in_flight <= 2
    failed = [json.loads(line) for line in (tmp_path / "out" / "verl.failed.jsonl").read_text().splitlines()]
    assert [f["id"] for f in failed] == ["p3"] and "bad request" in failed[0]["reason"]
    openai_server.reset()
    again = _score(config, _batch(tokenizer, texts[:2], ["aspirin"] * 2))  # a new worker: the cache answers
    assert [o["reward_score"] for o in again] == [1.0, 0.1] and openai_server.count == 0


# ---------------------------------------------------------------- launch


def test_paper_ppo_overrides_compose_and_validate(tmp_path, tiny_model_dir):
    config = _config(tmp_path, tiny_model_dir, ppo={"batch_size": 128, "micro_batch_size": 4}, rows=20_000, nnodes=2)
    a, alg = config.actor_rollout_ref, config.algorithm
    assert alg.adv_estimator == "gae" and alg.gamma == 1.0 and alg.lam == 0.95
    assert alg.use_kl_in_reward and alg.kl_ctrl.type == "fixed" and alg.kl_ctrl.kl_coef == 0.03
    assert not a.actor.use_kl_loss and a.actor.clip_ratio == 0.2 and a.actor.optim.lr == 5e-7
    assert a.actor.clip_ratio_low == a.actor.clip_ratio_high == 0.2 and a.actor.optim.lr_scheduler_type == "cosine"
    assert a.actor.ppo_epochs == 3 and config.critic.ppo_epochs == 3 and config.critic.optim.lr == 5e-7
    assert config.data.train_batch_size == 128 and a.actor.ppo_mini_batch_size == 128
    assert a.rollout.name == "vllm" and a.rollout.temperature == 0.5 and a.rollout.n == 1
    assert config.data.max_response_length == 1300 and a.rollout.response_length == 1300
    assert config.trainer.nnodes == 2 and config.trainer.n_gpus_per_node == 1
    assert config.reward.custom_reward_function.reward_kwargs.verifier == "match"


def test_bad_overrides_fail_before_anything_starts(tmp_path, tiny_model_dir):
    with pytest.raises(Medo1Error, match="divisible"):  # verl's own batch check: 8 prompts on 3 GPUs
        compose(build_overrides(_job(tmp_path, tiny_model_dir), {"batch_size": 8, "micro_batch_size": 2},
                                VerlSettings(n_gpus_per_node=3)))
    with pytest.raises(Medo1Error, match="trainer.no_such_key"):
        compose(build_overrides(_job(tmp_path, tiny_model_dir), {"batch_size": 8},
                                VerlSettings(n_gpus_per_node=1, overrides=["trainer.no_such_key=1"])))


# ---------------------------------------------------------------- checkpoint and metrics

SAVE = textwrap.dedent("""
    import os, sys
    import torch, torch.distributed as dist
    import torch.multiprocessing as mp

    def worker(rank, world, model_dir, out, port):
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        dist.init_process_group("gloo", rank=rank, world_size=world)
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from verl.trainer.config.config import CheckpointConfig
        from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager

        mesh = init_device_mesh("cpu", (world,), mesh_dim_names=("fsdp",))
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        for layer in model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        manager = FSDPCheckpointManager(model=model, processing_class=AutoTokenizer.from_pretrained(model_dir),
                                        checkpoint_config=CheckpointConfig(save_contents=["model"]))
        manager.save_checkpoint(out, global_step=2)
        dist.destroy_process_group()

    if __name__ == "__main__":
        mp.spawn(worker, args=(2, sys.argv[1], sys.argv[2], sys.argv[3]), nprocs=2)
""")


def _free_port() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def test_verl_fsdp_checkpoint_becomes_a_hugging_face_checkpoint(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from verl.utils.tracking import FileLogger

    out = tmp_path / "rl"
    actor = out / "verl" / "global_step_2" / "actor"
    script = tmp_path / "save.py"
    script.write_text(SAVE)
    subprocess.run([sys.executable, str(script), str(tiny_model_dir), str(actor), _free_port()], check=True,
                   capture_output=True, timeout=600)
    (out / "verl" / "latest_checkpointed_iteration.txt").write_text("2")
    assert latest_step_dir(out / "verl") == actor.parent
    # verl's own file logger and rollout dump, as the trainer writes them
    os.environ["VERL_FILE_LOGGER_PATH"] = str(out / "verl" / "metrics.jsonl")
    logger = FileLogger("medo1", "test")
    for step in (1, 2):
        logger.log({"critic/score/mean": 0.1 * step, "actor/reward_kl_penalty": 0.01, "actor/pg_loss": -0.5}, step)
    logger.finish()
    from verl.trainer.ppo.v1 import trainer_base

    for step, scores in ((1, [1.0, 0.1, 0.0, 0.0]), (2, [1.0, 1.0, 0.1, 0.0])):
        trainer_base.PPOTrainer._write_generations(["q"] * 4, ["a"] * 4, ["g"] * 4, scores, {},
                                                      str(out / "verl" / "rollouts"), step)

    summary = finish(out)

    assert summary["steps"] == 2
    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    after = AutoModelForCausalLM.from_pretrained(out).state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k].bfloat16(), after[k].bfloat16()) for k in before)  # the merger saves bf16
    assert AutoTokenizer.from_pretrained(out).chat_template  # eval and chat load it like our PPO's output
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and rows[1]["reward"] == pytest.approx(0.2)
    assert rows[0]["correct_rate"] == 0.25 and rows[1]["correct_rate"] == 0.5 and rows[1]["format_rate"] == 0.75
    assert rows[0]["kl"] == 0.01 and rows[0]["actor/pg_loss"] == -0.5


def test_conversion_error_names_the_folder(tmp_path):
    with pytest.raises(Medo1Error, match="not a verl FSDP actor checkpoint"):
        convert_checkpoint(tmp_path, tmp_path / "hf")
    assert import_metrics(tmp_path, tmp_path / "o") == 0


# ---------------------------------------------------------------- the recipe and the CLI


def test_medo1_run_print_launch_writes_data_and_a_validated_script_and_starts_nothing(tmp_path, tiny_model_dir):
    import shutil

    from typer.testing import CliRunner

    from medo1.cli import app

    run = tmp_path / "run"
    shutil.copytree(tiny_model_dir, run / "ckpt" / "sft")
    (run / "clean").mkdir(parents=True)
    (run / "clean" / "rl.jsonl").write_text("".join(p.model_dump_json() + "\n" for p in PROBLEMS))
    recipe = tmp_path / "cluster.yaml"
    (tmp_path / "prompts").mkdir()
    recipe.write_text("name: cluster\nlang: zh\nprompts: prompts\nmodels:\n  concurrency: 16\n"
                      "rl:\n  algo: ppo\n  engine: verl\n  batch_size: 16\n  micro_batch_size: 2\n"
                      "  keep_checkpoints: 2\n  verl:\n    nnodes: 2\n    n_gpus_per_node: 8\n")
    result = CliRunner().invoke(app, ["run", str(recipe), "--out", str(run), "--print-launch", "--no-cache"])
    assert result.exit_code == 0, result.output
    script = (run / "ckpt" / "rl" / "verl_launch.sh").read_text()
    assert "-m medo1.integrations.verl_main" in result.output and script.strip() in result.output.strip()
    assert "trainer.nnodes=2" in script and "trainer.n_gpus_per_node=8" in script and "ray start --head" in script
    assert "export VERL_FILE_LOGGER_PATH=" in script and "medo1.integrations.verl_launch finish" in script
    o = _launch_keys(script)
    assert o["actor_rollout_ref.model.enable_gradient_checkpointing"] == "true"  # the recipe did not turn it off
    reward = {k.rsplit(".", 1)[1]: v for k, v in o.items() if ".reward_kwargs." in k}
    assert (reward["lang"], reward["prompts"], reward["cache"], reward["concurrency"], reward["cache_per_node"]) == (
        "zh", str(tmp_path / "prompts"), "false", "16", "true")  # the run's settings reach verl's reward workers
    assert o["trainer.max_actor_ckpt_to_keep"] == "2"
    assert (run / "ckpt" / "rl" / "verl_data" / "train.parquet").exists()
    assert not list((run / "ckpt" / "rl" / "verl").glob("global_step_*")) and not (run / "run.json").exists()
    recipe.write_text(recipe.read_text().replace("batch_size: 16", "batch_size: 12"))  # 12 prompts on 16 GPUs
    result = CliRunner().invoke(app, ["run", str(recipe), "--out", str(run), "--print-launch"])
    assert result.exit_code != 0 and "divisible" in str(result.exception)


# ---------------------------------------------------------------- issue 22: a first run starts and finishes


def test_embedded_model_exports_and_launches_in_verls_environment(tmp_path, monkeypatch):
    """verl pins transformers below the release that has GgufConfig: the embedded export works without it."""
    import transformers
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("MEDO1_HOME", str(tmp_path / "home"))  # a fresh export, in this environment
    problems = _problems_file(tmp_path / "p.jsonl")
    result = _cli("rl", "--engine", "verl", "--model", "embedded", "--problems", problems, "--out", tmp_path / "rl",
                  "--batch-size", 8, "--n-gpus-per-node", 1, "--print-launch")
    assert result.exit_code == 0, result.exception
    exported = next((tmp_path / "home" / "models").glob("SmolLM2-135M-Instruct-*"))
    assert _launch_keys(result.output)["actor_rollout_ref.model.path"] == str(exported)
    assert "quantization_config" not in json.loads((exported / "config.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(exported)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert hasattr(transformers, "GgufConfig") or transformers.__version__ < "5.11"


def test_attention_without_flash_attn_loads_actor_and_critic_with_sdpa(tmp_path, tiny_model_dir, monkeypatch):
    """verl's model config asks for flash_attention_2 unless told, and verl's critic loader asks for it whatever it
    is told; without flash_attn neither model loads."""
    import verl.utils.model as verl_model
    from transformers import AutoModelForCausalLM
    from verl.utils.config import omega_conf_to_dataclass

    from medo1.integrations.verl_attention import HOOK, honour_configured_attention

    assert importlib.util.find_spec("flash_attn") is None  # as on a bare machine: nothing installs it
    config = _config(tmp_path, tiny_model_dir)
    actor = omega_conf_to_dataclass(config.actor_rollout_ref.model)  # verl's HFModelConfig, as its workers build it
    critic = omega_conf_to_dataclass(config.critic.model)
    assert actor.hf_config._attn_implementation == critic.hf_config._attn_implementation == "sdpa"
    assert not config.actor_rollout_ref.actor.use_remove_padding and not config.actor_rollout_ref.model.use_remove_padding
    assert not config.critic.model.use_remove_padding
    AutoModelForCausalLM.from_pretrained(actor.local_path, config=actor.hf_config)  # what verl's FSDP engine loads
    # the critic: verl's value-head loader, as its FSDP engine calls it, in a process where Ray ran medo1's hook
    assert config.ray_kwargs.ray_init.runtime_env.worker_process_setup_hook == HOOK
    monkeypatch.setattr(verl_model, "load_valuehead_model", verl_model.load_valuehead_model)  # undone after
    critic.hf_config.num_labels = 1  # as verl's FSDP engine sets it before loading a value model
    with pytest.raises(ImportError):
        verl_model.load_valuehead_model(critic.local_path, torch.float32, critic.hf_config, False)
    honour_configured_attention()
    value = verl_model.load_valuehead_model(critic.local_path, torch.float32, critic.hf_config, False)
    assert value.config._attn_implementation == "sdpa" and value.config.num_labels == 1
    ids = torch.tensor([[1, 2, 3]])
    assert value(input_ids=ids).logits.shape == (1, 3, 1)  # a value per token


def test_verls_dataloader_holds_every_step_it_is_asked_for(tmp_path, tiny_model_dir):
    """36 problems at batch 16 are 2 steps per epoch of verl's loader (it drops the partial batch); 3 steps asked."""
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    problems = [Problem(question=f"Case {i}: what should he chew?", answer="aspirin", source="medqa",
                        source_id=f"c{i}") for i in range(36)]
    data = write_verl_data(problems, tmp_path / "data", run_name="t", val_size=0)
    job = VerlJob(train_files=str(data.train), val_files=str(data.val), model=str(tiny_model_dir),
                  out=str(tmp_path / "out"), train_rows=data.train_rows)
    config = compose(build_overrides(job, {"batch_size": 16, "micro_batch_size": 2, "max_steps": 3, "save_steps": 3},
                                     VerlSettings(n_gpus_per_node=1)))
    dataset = RLHFDataset(config.data.train_files, AutoTokenizer.from_pretrained(tiny_model_dir), config.data)
    steps_per_epoch = len(dataset) // config.data.train_batch_size  # verl's _init_dataloader
    assert len(dataset) == data.train_rows and steps_per_epoch == 2
    # verl's fit loop runs while epoch < total_epochs and step <= total_training_steps, saving at the last step
    assert config.trainer.total_training_steps == 3 and config.trainer.total_epochs * steps_per_epoch >= 3
    assert config.trainer.save_freq > 0


def test_verls_policy_loss_is_ours_at_a_clip_range_other_than_its_default(tmp_path, tiny_model_dir):
    from verl.trainer.ppo.core_algos import compute_policy_loss_vanilla
    from verl.utils.config import omega_conf_to_dataclass

    from medo1.train.ppo.losses import clipped_policy_loss

    actor = omega_conf_to_dataclass(_config(tmp_path, tiny_model_dir, ppo={"clip_range": 0.1}).actor_rollout_ref.actor)
    old = torch.zeros(2, 4)
    # ratios inside and outside 1 +- 0.1 (and far above verl's default dual-clip bound of 3) for both signs of A
    new = torch.log(torch.tensor([[1.05, 1.3, 5.0, 0.7], [0.5, 0.95, 8.0, 1.15]]))
    advantages = torch.tensor([[1.0, 1.0, -1.0, -1.0], [-1.0, -1.0, -2.0, 1.0]])
    mask = torch.ones(2, 4)
    theirs, _ = compute_policy_loss_vanilla(old, new, advantages, mask, "token-mean", actor)
    ours, _ = clipped_policy_loss(new, old, advantages, 0.1)
    assert torch.allclose(theirs, ours.mean())


def test_verls_learning_rate_schedule_follows_ours(tmp_path, tiny_model_dir):
    """verl's FSDP engine builds its scheduler from the optimizer config; ours decays linearly after warmup."""
    from types import SimpleNamespace

    from transformers import get_scheduler
    from verl.utils.config import omega_conf_to_dataclass
    from verl.workers.engine.fsdp.transformer_impl import FSDPEngine

    config = _config(tmp_path, tiny_model_dir, ppo={"warmup_ratio": 0.2, "max_steps": 10})
    optim = omega_conf_to_dataclass(config.actor_rollout_ref.actor.optim)
    optim.total_training_steps = config.trainer.total_training_steps  # what verl's trainer sets before building

    def lrs(make):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=5e-7)
        scheduler, out = make(opt), []
        for _ in range(11):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return out

    theirs = lrs(lambda opt: FSDPEngine._build_lr_scheduler(SimpleNamespace(optimizer_config=optim, rank=1), opt))
    ours = lrs(lambda opt: get_scheduler("linear", opt, num_warmup_steps=2, num_training_steps=10))
    for step in (0, 1, 2, 6, 10):  # warmup from 0, the peak, half way down, 0 at the end
        assert theirs[step] == pytest.approx(ours[step], abs=1e-12), step
    assert theirs[8] < theirs[4] < 5e-7


def test_cli_settings_reach_verl_or_are_refused(tmp_path, tiny_model_dir):
    problems = _problems_file(tmp_path / "p.jsonl")
    base = ["rl", "--engine", "verl", "--problems", problems, "--model", tiny_model_dir, "--batch-size", 8,
            "--micro-batch-size", 2, "--n-gpus-per-node", 1, "--print-launch"]
    result = _cli(*base, "--out", tmp_path / "a", "--keep-checkpoints", 2, "--tensor-parallel-size", 1,
                  "--critic-lr", 1e-5, "--save-steps", 4)
    assert result.exit_code == 0, result.exception
    o = _launch_keys(result.output)
    assert o["actor_rollout_ref.model.enable_gradient_checkpointing"] == "true"  # on unless turned off
    assert o["trainer.max_actor_ckpt_to_keep"] == "2" and o["critic.optim.lr"] == "1e-05"
    assert o["trainer.test_freq"] == "4"  # validation with every checkpoint (and at the end)
    result = _cli(*base, "--out", tmp_path / "b", "--no-gradient-checkpointing")
    assert _launch_keys(result.output)["critic.model.enable_gradient_checkpointing"] == "false"
    result = _cli(*base, "--out", tmp_path / "c", "--missing-eos-penalty", 1.0)
    assert result.exit_code != 0 and "missing_eos_penalty" in str(result.exception)


def test_validation_holds_problems_out_only_when_it_runs(tmp_path, tiny_model_dir):
    import pandas as pd

    from medo1.integrations.verl_launch import prepare

    problems = _problems_file(tmp_path / "p.jsonl")
    command, _ = prepare(str(problems), str(tiny_model_dir), tmp_path / "a", ppo={"batch_size": 8, "save_steps": 5},
                         settings=VerlSettings(n_gpus_per_node=1, val_size=2))
    config = compose(command[3:])
    assert config.trainer.test_freq == 5 and len(pd.read_parquet(config.data.val_files)) == 2
    command, _ = prepare(str(problems), str(tiny_model_dir), tmp_path / "b", ppo={"batch_size": 8},
                         settings=VerlSettings(n_gpus_per_node=1, test_freq=-1))
    config = compose(command[3:])
    assert config.trainer.test_freq == -1 and len(pd.read_parquet(config.data.train_files)) == len(PROBLEMS)


def test_rate_limited_workers_each_take_their_share_of_the_judges_limits(tmp_path, tiny_model_dir,
                                                                         fresh_rate_limits):
    from transformers import AutoTokenizer
    from verl.experimental.reward_loop.reward_loop import migrate_legacy_reward_impl

    config = _config(tmp_path, tiny_model_dir, verifier="judge:openai:m@http://127.0.0.1:9/v1", judge_max_rpm=3000,
                     judge_max_concurrent=64, reward_workers=8)
    config = migrate_legacy_reward_impl(copy.deepcopy(config))
    fresh_rate_limits.init_class(config, AutoTokenizer.from_pretrained(tiny_model_dir))  # one worker's limiters
    assert config.reward.num_workers == 8
    assert fresh_rate_limits._max_rpm * config.reward.num_workers == 3000
    assert fresh_rate_limits._max_concurrent * config.reward.num_workers == 64


def test_a_judge_that_outlives_verls_timeout_is_a_failed_verification_with_our_keys(tmp_path, tiny_model_dir,
                                                                                    openai_server, fresh_rate_limits):
    from transformers import AutoTokenizer

    from tests.openai_server import Reply

    openai_server.handler = lambda body, headers: Reply(text="True", latency=6.0)
    config = _config(tmp_path, tiny_model_dir, verifier=f"judge:openai:slow@{openai_server.url}", judge_timeout=2.0,
                     reward_workers=1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    outputs = _score(config, _batch(tokenizer, [GOOD, NO_FORMAT], ["aspirin"] * 2))
    assert [o["reward_score"] for o in outputs] == [0.1, 0.0]  # the rule's failed verification, not verl's 0.0
    assert all(set(o["reward_extra_info"]) == {"score", "correct", "formatted", "truncated", "verify_failed",
                                               "overlong_penalty", "uncommitted", "final_response_chars"}
               for o in outputs)  # the rule's terms, and the reward-hacking watch's
    assert outputs[0]["reward_extra_info"]["verify_failed"] == 1.0
    failed = [json.loads(line) for line in (tmp_path / "out" / "verl.failed.jsonl").read_text().splitlines()]
    assert [f["id"] for f in failed] == ["p0"] and "no verdict within 1.8 s" in failed[0]["reason"]


def test_ray_workers_get_the_judges_key_and_the_log_paths_but_no_file_or_log_holds_the_key(tmp_path, tiny_model_dir,
                                                                                          capsys, monkeypatch,
                                                                                          openai_server):
    """The key is read where the launch runs and reaches a reward worker through Ray: not through the worker's
    inherited environment (this process has none), not through Ray's runtime environment (Ray logs that)."""
    import ray

    from medo1.integrations.verl_main import start_ray

    secret = "sk-test-0123456789abcdef"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai_server.handler = lambda body, headers: "True" if headers.get("authorization") == f"Bearer {secret}" \
        else "False"
    judge = f"judge:openai:gpt-4o@{openai_server.url}"
    problems = _problems_file(tmp_path / "p.jsonl")
    out = tmp_path / "rl"
    result = _cli("rl", "--engine", "verl", "--problems", problems, "--model", tiny_model_dir, "--out", out,
                  "--batch-size", 8, "--n-gpus-per-node", 1, "--verifier", judge, "--judge-max-rpm", 600,
                  "--print-launch")
    assert result.exit_code == 0, result.exception
    config = compose(shlex_overrides((out / "verl_launch.sh").read_text()))
    config.ray_kwargs.ray_init.num_cpus = 1
    start_ray(config, environ={"OPENAI_API_KEY": secret})
    try:
        @ray.remote
        def reward_worker(kwargs):
            import asyncio
            import os

            import verl.utils.model
            from verl.utils.tracking import _TensorboardAdapter

            from medo1.integrations.verl_reward import compute_score

            board = _TensorboardAdapter("medo1", "test")  # verl's TensorBoard logger, in a Ray worker
            board.log({"critic/score/mean": 0.5}, 1)
            board.finish()
            inherited = os.environ.get("OPENAI_API_KEY")
            score = asyncio.run(compute_score("medo1/test", GOOD, "aspirin", {"id": "p0"}, **kwargs))["score"]
            hooked = getattr(verl.utils.model.load_valuehead_model, "_medo1_attention", False)  # (no flash_attn)
            return {"inherited": inherited, "score": score, "hooked": hooked,
                    **{k: os.environ.get(k) for k in ("VERL_FILE_LOGGER_PATH", "TENSORBOARD_DIR")}}

        kwargs = dict(config.reward.custom_reward_function.reward_kwargs)
        env = ray.get(reward_worker.remote(kwargs))
        session = Path(ray._private.worker._global_node.get_session_dir_path())
    finally:
        ray.shutdown()
    assert env["inherited"] is None and env["score"] == 1.0  # the judge answered the key it was sent: True
    assert env["VERL_FILE_LOGGER_PATH"] == str(out / "verl" / "metrics.jsonl")
    assert env["hooked"]  # Ray ran medo1's setup hook in the worker: verl's critic loader honours sdpa there
    assert list((out / "verl" / "tensorboard").glob("events.out.tfevents.*"))  # TensorBoard under <out>
    printed = capsys.readouterr()
    assert "medo1: ray init kwargs" in printed.out and "OPENAI_API_KEY reach the reward workers" in printed.out
    files = [p for p in [*out.rglob("*"), *session.rglob("*")] if p.is_file()]
    assert any(p.name == "runtime_env_agent.log" for p in files)  # Ray's logs were read too
    for text in (printed.out, printed.err, result.output, *(p.read_text(errors="ignore") for p in files)):
        assert secret not in text


def test_per_sample_correct_format_and_failed_verification_reach_metrics(tmp_path, tiny_model_dir, openai_server,
                                                                         fresh_rate_limits):
    """verl's V1 rollout dump keeps only the score; medo1's reward records fill in the rest, per step."""
    from transformers import AutoTokenizer
    from verl.trainer.ppo.v1 import trainer_base

    from tests.openai_server import Reply

    def judge(body, headers):
        prompt = body["messages"][-1]["content"]
        if "unreachable" in prompt:
            return Reply(status=400, error_message="bad request")
        return "True" if "aspirin" in prompt.split("</response>")[0] else "False"

    openai_server.handler = judge
    config = _config(tmp_path, tiny_model_dir, verifier=f"judge:openai:j@{openai_server.url}", reward_workers=1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [GOOD, WRONG, NO_FORMAT, GOOD.replace("aspirin", "unreachable")]
    outputs = _score(config, _batch(tokenizer, texts, ["aspirin"] * 4))
    verl = tmp_path / "out" / "verl"
    # verl's own dump of that step (its text is the decoded response, as the reward manager saw it)
    trainer_base.PPOTrainer._write_generations(["q"] * 4, texts, ["aspirin"] * 4,
                                                  [o["reward_score"] for o in outputs], {}, str(verl / "rollouts"), 1)
    (verl / "metrics.jsonl").write_text(json.dumps({"step": 1, "data": {"critic/score/mean": 0.3}}) + "\n")
    assert import_metrics(verl, tmp_path / "rl") == 1
    row = json.loads((tmp_path / "rl" / "metrics.jsonl").read_text())
    assert (row["correct_rate"], row["format_rate"], row["verify_failed_rate"]) == (0.25, 0.75, 0.25)


def test_grpo_on_verl_composes_with_the_same_reward(tmp_path, tiny_model_dir):
    from verl.trainer.ppo.utils import need_critic, need_reference_policy

    config = _config(tmp_path, tiny_model_dir, algo="grpo", ppo={"batch_size": 16, "num_generations": 4,
                                                                  "kl_coef": 0.04})
    a = config.actor_rollout_ref
    assert config.algorithm.adv_estimator == "grpo" and a.rollout.n == 4 and config.data.train_batch_size == 4
    assert a.actor.use_kl_loss and a.actor.kl_loss_coef == 0.04 and a.actor.kl_loss_type == "low_var_kl"
    assert not config.algorithm.use_kl_in_reward and not need_critic(config) and need_reference_policy(config)
    assert config.reward.custom_reward_function.name == "compute_score"
    problems = _problems_file(tmp_path / "p.jsonl")
    result = _cli("rl", "--engine", "verl", "--algo", "grpo", "--problems", problems, "--model", tiny_model_dir,
                  "--out", tmp_path / "g", "--batch-size", 16, "--num-generations", 4, "--n-gpus-per-node", 1,
                  "--print-launch")
    assert result.exit_code == 0, result.exception
    o = _launch_keys(result.output)
    assert o["algorithm.adv_estimator"] == "grpo" and o["actor_rollout_ref.rollout.n"] == "4"
    # the same from a recipe: rl: {algo: grpo, engine: verl}
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_model_dir, run / "ckpt" / "sft")
    (run / "clean").mkdir(parents=True)
    _problems_file(run / "clean" / "rl.jsonl")
    recipe = tmp_path / "grpo.yaml"
    recipe.write_text("rl:\n  algo: grpo\n  engine: verl\n  batch_size: 16\n  num_generations: 4\n"
                      "  verl:\n    n_gpus_per_node: 1\n")
    result = _cli("run", recipe, "--out", run, "--print-launch")
    assert result.exit_code == 0, result.exception
    o = _launch_keys(result.output)
    assert o["algorithm.adv_estimator"] == "grpo" and o["data.train_batch_size"] == "4" and o["critic.enable"] == "false"


def test_resuming_refuses_changed_problems_and_fresh_starts_over(tmp_path, tiny_model_dir):
    problems = _problems_file(tmp_path / "p.jsonl")
    out = tmp_path / "rl"
    args = ["rl", "--engine", "verl", "--problems", problems, "--model", tiny_model_dir, "--out", out,
            "--batch-size", 8, "--n-gpus-per-node", 1, "--print-launch"]
    assert _cli(*args).exit_code == 0
    (out / "verl" / "global_step_2" / "actor").mkdir(parents=True)  # verl saved a checkpoint
    (out / "verl" / "latest_checkpointed_iteration.txt").write_text("2")
    result = _cli(*args)
    assert result.exit_code != 0 and "pass --resume to continue them, or --fresh" in str(result.exception)
    assert _cli(*args, "--resume").exit_code == 0  # the same problems: verl resumes
    _problems_file(problems, PROBLEMS[:18] + [Problem(question="Another case?", answer="heparin")])
    result = _cli(*args, "--resume")
    assert result.exit_code != 0 and "the training problems changed since verl's checkpoint" in str(result.exception)
    assert _cli(*args, "--fresh", "--verl-override", "trainer.no_such_key=1").exit_code != 0
    assert (out / "verl" / "global_step_2").exists()  # a launch that does not validate moves nothing
    assert _cli(*args, "--fresh").exit_code == 0
    assert not (out / "verl" / "global_step_2").exists() and list(out.glob("verl.*/global_step_2"))
