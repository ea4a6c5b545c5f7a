"""rl.engine verl, its pieces run by verl itself on CPU (verl's trainer needs GPUs; these do not):
the parquet through verl's RLHFDataset, compute_score through verl's reward loop worker and its
naive and rate_limited managers, the overrides through verl's Hydra config and its checks, and a
checkpoint saved by verl's FSDP checkpoint manager converted by verl's model merger.

These need verl, which pins its own transformers: they run in the verl environment
(README, "Laptop (our PPO) vs cluster (verl)") and are skipped elsewhere."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("verl")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from medo1.errors import Medo1Error  # noqa: E402
from medo1.integrations.verl_ckpt import convert_checkpoint, import_metrics, latest_step_dir  # noqa: E402
from medo1.integrations.verl_data import write_verl_data  # noqa: E402
from medo1.integrations.verl_launch import VerlJob, VerlSettings, build_overrides, compose, finish  # noqa: E402
from medo1.records import Problem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOOD = "## Thinking\n\nHmm, chest pain radiating to the arm.\n\n## Final Response\n\nThe answer is aspirin."
WRONG = "## Thinking\n\nHmm.\n\n## Final Response\n\nThe answer is heparin."
NO_FORMAT = "The answer is aspirin."
PROBLEMS = [Problem(question=f"Case {i}: a 45-year-old man with chest pain. What should he chew now?",
                    answer="aspirin", source="medqa", source_id=f"q{i}") for i in range(20)]


def _job(tmp_path: Path, model: Path, verifier: str = "match", **extra) -> VerlJob:
    data = write_verl_data(PROBLEMS, tmp_path / "data", run_name="test", val_size=2)
    return VerlJob(train_files=str(data.train), val_files=str(data.val), model=str(model), out=str(tmp_path / "out"),
                   run_name="test", verifier=verifier, cache=str(tmp_path / "cache.sqlite"),
                   has_val=data.val_rows > 0, **extra)


def _config(tmp_path, model, verifier="match", ppo=None, **settings):
    ppo = {"batch_size": 8, "micro_batch_size": 2, **(ppo or {})}
    return compose(build_overrides(_job(tmp_path, model, verifier), ppo, VerlSettings(n_gpus_per_node=1, **settings)))


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
                                               "overlong_penalty"} for o in outputs)  # the rule's terms
    assert [o["reward_extra_info"]["correct"] for o in outputs] == [1.0, 0.0, 0.0]


def test_api_judge_goes_through_rate_limited_manager_cached_and_failures_recorded(tmp_path, tiny_model_dir,
                                                                                  openai_server):
    from transformers import AutoTokenizer

    def judge(body, headers):
        prompt = body["messages"][-1]["content"]
        if "unreachable" in prompt:
            from tests.openai_server import Reply

            return Reply(status=400, error_message="bad request")  # not retried: the verification fails
        return "True" if "aspirin" in prompt.split("</response>")[0] else "False"

    openai_server.handler = judge
    config = _config(tmp_path, tiny_model_dir, verifier=f"judge:openai:judge-model@{openai_server.url}",
                     judge_max_concurrent=2)
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
    config = _config(tmp_path, tiny_model_dir, ppo={"batch_size": 128, "micro_batch_size": 4}, nnodes=2)
    a, alg = config.actor_rollout_ref, config.algorithm
    assert alg.adv_estimator == "gae" and alg.gamma == 1.0 and alg.lam == 0.95
    assert alg.use_kl_in_reward and alg.kl_ctrl.type == "fixed" and alg.kl_ctrl.kl_coef == 0.03
    assert not a.actor.use_kl_loss and a.actor.clip_ratio == 0.2 and a.actor.optim.lr == 5e-7
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
    recipe.write_text("name: cluster\nrl:\n  algo: ppo\n  engine: verl\n  batch_size: 16\n  micro_batch_size: 2\n"
                      "  verl:\n    nnodes: 2\n    n_gpus_per_node: 8\n")
    result = CliRunner().invoke(app, ["run", str(recipe), "--out", str(run), "--print-launch"])
    assert result.exit_code == 0, result.output
    script = (run / "ckpt" / "rl" / "verl_launch.sh").read_text()
    assert "-m verl.trainer.main_ppo" in result.output and script.strip() in result.output.strip()
    assert "trainer.nnodes=2" in script and "trainer.n_gpus_per_node=8" in script
    assert "export VERL_FILE_LOGGER_PATH=" in script and "medo1.integrations.verl_launch finish" in script
    assert (run / "ckpt" / "rl" / "verl_data" / "train.parquet").exists()
    assert not (run / "ckpt" / "rl" / "verl").exists() and not (run / "run.json").exists()  # nothing ran
    recipe.write_text(recipe.read_text().replace("batch_size: 16", "batch_size: 12"))  # 12 prompts on 16 GPUs
    result = CliRunner().invoke(app, ["run", str(recipe), "--out", str(run), "--print-launch"])
    assert result.exit_code != 0 and "divisible" in str(result.exception)
