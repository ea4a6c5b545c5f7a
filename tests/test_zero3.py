"""Launches under DeepSpeed ZeRO-3 and several processes, on CPU: every trainer loads its models already
sharded (the DeepSpeed config exists before `from_pretrained`), PPO gathers only the policy to generate
(synced_gpus off) and clips through the DeepSpeed config, a classifier verifier loads whole, and DPO
samples on every process and merges their shares.

Each test runs `accelerate launch` with the shipped configs/accelerate/zero3.yaml (one process, no mixed
precision, DeepSpeed's CPU accelerator) or `torchrun` with two processes, around tests/zero3_probe.py,
which records on each process how transformers and DeepSpeed were driven."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("deepspeed")

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "tests" / "zero3_probe.py"


def _zero3_config(tmp_path: Path) -> Path:
    """The shipped ZeRO-3 config, cut to what a CPU runs: one process, fp32."""
    config = yaml.safe_load((ROOT / "configs" / "accelerate" / "zero3.yaml").read_text())
    assert config["deepspeed_config"]["zero_stage"] == 3 and config["deepspeed_config"]["zero3_init_flag"]
    config.update(num_processes=1, mixed_precision="no")
    path = tmp_path / "zero3-cpu.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]), OMP_NUM_THREADS="1",
               DS_ACCELERATOR="cpu", TOKENIZERS_PARALLELISM="false")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def _launch(tmp_path: Path, entry: str, *args: str, processes: int = 1) -> list[dict]:
    """Run `entry` (a medo1.train module, or a probe entry) launched; returns each process's records."""
    probe_dir = tmp_path / f"probe-{entry}-{len(list(tmp_path.glob('probe-*')))}"
    if processes == 1:
        launcher = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(_zero3_config(tmp_path))]
    else:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                    "--master_port", "29561"]
    done = subprocess.run([*launcher, str(PROBE), str(probe_dir), entry, *args], env=_env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return [json.loads((probe_dir / f"rank{r}.json").read_text()) for r in range(processes)]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zero3-data")
    sft = root / "sft.jsonl"
    sft.write_text("".join(json.dumps({"Question": f"Question {i}: which drug?", "Complex_CoT": "Hmm, let me think.",
                                       "Response": f"The answer is {'ABCD'[i % 4]}."}) + "\n" for i in range(8)))
    problems = root / "problems.jsonl"
    problems.write_text("".join(json.dumps({"id": f"p{i}", "question": f"Question number {i}?", "answer": "aspirin"})
                                + "\n" for i in range(8)))
    return {"sft": sft, "problems": problems}


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from tests.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=2,
                         pad_token_id=tokenizer.pad_token_id, id2label={0: "wrong", 1: "correct"},
                         label2id={"wrong": 0, "correct": 1})
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("classifier")
    LlamaForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow  # two launched processes through SFT and PPO: the longest run of this file (`pytest -m slow`)
def test_sft_then_ppo_under_zero3(tiny_model_dir, data, classifier_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    sft_out = tmp_path / "sft"
    (sft,) = _launch(tmp_path, "sft", "--data", str(data["sft"]), "--model", str(tiny_model_dir), "--out",
                     str(sft_out), "--batch_size", "4", "--micro_batch_size", "2", "--max_steps", "1", "--bf16", "false")
    assert [(r["class"], r["sharded"], r["local_numel"]) for r in sft["loads"]] == [("LlamaForCausalLM", True, 0)]
    assert AutoModelForCausalLM.from_pretrained(sft_out).num_parameters() == sft["loads"][0]["numel"]

    ppo_out = tmp_path / "ppo"
    (ppo,) = _launch(tmp_path, "ppo", "--problems", str(data["problems"]), "--model", str(sft_out), "--out",
                     str(ppo_out), "--batch_size", "4", "--micro_batch_size", "2", "--max_new_tokens", "8",
                     "--max_steps", "2", "--ppo_epochs", "1", "--max_grad_norm", "0.37", "--bf16", "false",
                     "--verifier", f"classifier:{classifier_dir}")
    loads = {r["class"]: r for r in ppo["loads"]}
    policy = [r for r in ppo["loads"] if r["class"] == "LlamaForCausalLM"]
    assert len(policy) == 2 and all(r["sharded"] for r in policy)  # policy and reference
    assert loads["LlamaForTokenClassification"]["sharded"]  # the value model
    assert not loads["LlamaForSequenceClassification"]["sharded"]  # the verifier runs whole on its device
    # generation gathered the policy alone (once per step), never the value model, and ran without lock-step
    gathers, value = ppo["gathers"], loads["LlamaForTokenClassification"]["numel"]
    assert gathers.count(policy[0]["numel"]) == 2 and max(gathers) == policy[0]["numel"], (gathers, value)
    assert ppo["generate"] and all(g["synced_gpus"] is False for g in ppo["generate"])
    trained = [e for e in ppo["engines"] if e["trains"]]
    assert trained == [{"train_batch_size": 4, "train_micro_batch_size_per_gpu": 2,
                        "gradient_accumulation_steps": 2, "gradient_clipping": 0.37, "trains": True}]
    metrics = [json.loads(line) for line in (ppo_out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    assert AutoModelForCausalLM.from_pretrained(ppo_out).num_parameters() == policy[0]["numel"]


def test_grpo_and_dpo_load_sharded_under_zero3(tiny_model_dir, data, tmp_path):
    (grpo,) = _launch(tmp_path, "trl_rl", "--algo", "grpo", "--problems", str(data["problems"]), "--model",
                      str(tiny_model_dir), "--out", str(tmp_path / "grpo"), "--batch_size", "4",
                      "--micro_batch_size", "4", "--num_generations", "2", "--max_new_tokens", "6",
                      "--max_steps", "1", "--bf16", "false")
    assert grpo["loads"] and all(r["sharded"] for r in grpo["loads"])  # the policy (and TRL's reference)
    assert [e["gradient_clipping"] for e in grpo["engines"] if e["trains"]] == [1.0]  # TrainingArguments' default

    dpo_out = tmp_path / "dpo"
    (dpo,) = _launch(tmp_path, "dpo", "--algo", "dpo", "--problems", str(data["problems"]), "--model",
                     str(tiny_model_dir), "--out", str(dpo_out), "--batch_size", "2", "--micro_batch_size", "2",
                     "--num_generations", "4", "--temperature", "1.0", "--max_new_tokens", "8",
                     "--max_steps", "1", "--bf16", "false")
    # sampling loads the SFT model whole (it generates on one device); the model DPO trains loads sharded
    assert [(r["class"], r["sharded"]) for r in dpo["loads"][:1]] == [("LlamaForCausalLM", False)]
    assert all(r["sharded"] for r in dpo["loads"][1:]) and len(dpo["loads"]) >= 2


def test_dpo_sampling_is_shared_between_processes_and_merged(tiny_model_dir, data, tmp_path):
    out = tmp_path / "dpo"
    args = ["--algo", "dpo", "--problems", str(data["problems"]), "--model", str(tiny_model_dir), "--out", str(out),
            "--num_generations", "3", "--temperature", "1.0", "--max_new_tokens", "6", "--bf16", "false"]
    ranks = _launch(tmp_path, "dpo_sampling", *args, processes=2)
    assert [sum(r["scored"]) for r in ranks] == [4 * 3, 4 * 3]  # each process sampled its half: 4 problems x 3
    rows = [json.loads(line) for name in ("dpo_pairs.jsonl", "dpo_pairs.failed.jsonl")
            for line in (out / name).read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == [f"p{i}" for i in range(8)]  # each problem once, in one file
    pairs = (out / "dpo_pairs.jsonl").read_text().splitlines()
    assert [json.loads(p)["id"] for p in pairs] == sorted(json.loads(p)["id"] for p in pairs)  # problem order
    assert not list(out.glob("dpo_pairs.rank*"))  # the shares were merged and removed
    again = _launch(tmp_path, "dpo_sampling", *args, processes=2)  # a re-run has nothing left to sample
    assert [sum(r["scored"]) for r in again] == [0, 0]
