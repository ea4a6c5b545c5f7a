"""SFT on a tiny random Llama: assistant-only loss, padding-free exactness, loss going down, resume."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
import torch

from medo1.errors import InputError, Medo1Error
from medo1.records import SFTExample
from medo1.thinking import format_target
from medo1.train.common import read_metrics
from medo1.train.data import load_sft_examples, tokenize_sft
from medo1.train.sft import SFTSettings, build_dataset, choose_padding_free, packed_attention_is_exact, train_sft


def _examples(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        cot = " ".join(rng.choice(["Hmm, let me think.", "Wait, chest pain.", "Oh, that makes sense."])
                       for _ in range(rng.randint(1, 6)))
        rows.append({
            "Question": f"A {30 + i}-year-old man presents with chest pain. Which is the most likely diagnosis?",
            "Complex_CoT": cot,
            "Response": f"The answer is {'ABCD'[i % 4]}.",
        })
    return rows


@pytest.fixture
def sft_file(tmp_path):
    path = tmp_path / "sft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _examples(16)))
    return path


def _tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_loss_mask_covers_the_assistant_turn_only(tiny_model_dir):
    tok = _tokenizer(tiny_model_dir)
    ex = SFTExample(question="Which drug?", complex_cot="Hmm, aspirin.", response="The answer is A.")
    t = tokenize_sft(tok, ex, max_length=None)
    trained = [i for i, m in zip(t.input_ids, t.completion_mask) if m]
    untrained = [i for i, m in zip(t.input_ids, t.completion_mask) if not m]
    assert tok.decode(trained) == format_target("Hmm, aspirin.", "The answer is A.") + "<|im_end|>\n"
    assert tok.decode(untrained) == "<|im_start|>user\nWhich drug?<|im_end|>\n<|im_start|>assistant\n"
    # the mask is one contiguous block at the end: the model also learns to stop (<|im_end|>)
    first = t.completion_mask.index(1)
    assert all(t.completion_mask[first:]) and not any(t.completion_mask[:first])


def test_truncation_and_examples_that_cannot_fit(tiny_model_dir):
    tok = _tokenizer(tiny_model_dir)
    ex = SFTExample(question="Which drug?", complex_cot="Hmm, aspirin. " * 20, response="The answer is A.")
    full = tokenize_sft(tok, ex, max_length=None)
    cut = tokenize_sft(tok, ex, max_length=30)
    assert cut.truncated and cut.input_ids == full.input_ids[:30] and cut.completion_mask == full.completion_mask[:30]
    with pytest.raises(ValueError, match="prompt alone"):
        tokenize_sft(tok, ex, max_length=5)
    dataset, skipped, truncated = build_dataset(tok, [ex, SFTExample(question="Q?", complex_cot="", response="A.")], 18)
    assert len(dataset) == 1 and skipped == [{"id": ex.id, "reason": skipped[0]["reason"]}]


def test_trainer_labels_and_padding_free_batches_give_the_padded_loss(tiny_model_dir, tmp_path):
    """TRL's prepared labels are -100 outside the assistant turn, and the padding-free batch (examples
    end to end in one row) has exactly the loss of the padded batch on this CPU attention."""
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok = _tokenizer(tiny_model_dir)
    examples = [SFTExample.from_raw(r) for r in _examples(4)]
    dataset, _, _ = build_dataset(tok, examples, 512)
    for impl in ("sdpa", "eager"):
        model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=impl)
        assert packed_attention_is_exact(model)
        # exact, but sdpa / eager compute the whole masked square: only on request, or for packing
        assert choose_padding_free(model, "auto", False, "tiny") is False
        assert choose_padding_free(model, "on", False, "tiny") is True
        assert choose_padding_free(model, "off", True, "tiny") is True
    config = SFTConfig(output_dir=str(tmp_path), max_length=None, completion_only_loss=True, report_to="none",
                       bf16=False, use_cpu=True)
    prepared = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tok).train_dataset
    rows = [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in prepared]
    for row, example in zip(rows, examples):
        trained = [t for t in row["labels"] if t != -100]
        assert tok.decode(trained) == format_target(example.complex_cot, example.response) + "<|im_end|>\n"
    losses = {}
    for padding_free in (False, True):
        batch = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=padding_free)(rows)
        assert batch["input_ids"].shape[0] == (1 if padding_free else 4)
        with torch.no_grad():
            losses[padding_free] = model(**batch, use_cache=False).loss.item()
    assert losses[True] == pytest.approx(losses[False], rel=1e-5)


def test_sft_reduces_loss_writes_metrics_and_resumes(tiny_model_dir, sft_file, tmp_path):
    out = tmp_path / "run"
    common = dict(data=str(sft_file), model=str(tiny_model_dir), out=str(out), learning_rate=2e-3, batch_size=4,
                  micro_batch_size=2, lr_scheduler="constant", warmup_ratio=0.0, save_steps=3, bf16=False,
                  padding_free="on")
    # "killed" after step 3: a kept checkpoint stands for the one a killed run leaves
    train_sft(SFTSettings(**common, max_steps=3, keep_checkpoints=1))
    assert (out / "checkpoint-3").is_dir() and (out / "model.safetensors").is_file()
    with pytest.raises(Medo1Error, match="--resume"):
        train_sft(SFTSettings(**common, max_steps=8))
    train_sft(SFTSettings(**common, max_steps=8, resume=True))
    # by default a finished stage keeps its final weights only: the optimizer state is gone
    assert not list(out.glob("checkpoint-*")) and (out / "model.safetensors").is_file()
    with pytest.raises(Medo1Error, match="trained model of a finished run"):  # never silently trained over
        train_sft(SFTSettings(**common, max_steps=8))
    rows = [r for r in read_metrics(out) if "loss" in r]
    assert [r["step"] for r in rows] == list(range(1, 9))  # resumed at 4, no step logged twice
    assert all(r["tokens_per_second"] > 0 for r in rows)
    assert sum(r["loss"] for r in rows[-2:]) < sum(r["loss"] for r in rows[:2]) - 0.3
    summary = json.loads((out / "medo1_sft.json").read_text())
    assert summary["steps"] == 8 and summary["padding_free"] is True

    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(out)  # the output is a plain checkpoint


def warmup_then_linear(lr: float, warmup: int, total: int) -> list[float]:
    """The learning rate of each optimizer step under a linear warmup then linear decay to 0."""
    return [lr * (s / warmup if s < warmup else (total - s) / (total - warmup)) for s in range(total)]


def test_sft_warms_up_over_the_ratio_of_steps(tiny_model_dir, sft_file, tmp_path):
    # transformers 4.x only takes an int warmup_steps (a ratio there is refused); 5.x reads a float below
    # 1 as the ratio and has no warmup_ratio from 5.2: the schedule must be the same on both.
    out = train_sft(SFTSettings(data=str(sft_file), model=str(tiny_model_dir), out=str(tmp_path / "run"), learning_rate=1e-3,
                                batch_size=2, micro_batch_size=2, lr_scheduler="linear", warmup_ratio=0.3,
                                max_steps=10, save_steps=100, bf16=False))
    lrs = [r["learning_rate"] for r in read_metrics(out) if "loss" in r]
    assert lrs == pytest.approx(warmup_then_linear(1e-3, 3, 10))  # ceil(0.3 * 10) = 3 warmup steps
    with pytest.raises(Medo1Error, match="warmup_ratio 1.0"):  # transformers 5 would warm up for 1 step
        train_sft(SFTSettings(data=str(sft_file), model=str(tiny_model_dir), out=str(tmp_path / "bad"),
                              warmup_ratio=1.0))
    assert not (tmp_path / "bad").exists()  # refused before anything ran


def test_cli_sft_with_lora_saves_a_merged_model(tiny_model_dir, sft_file, tmp_path):
    from typer.testing import CliRunner
    from transformers import AutoModelForCausalLM

    from medo1.cli import app

    out = tmp_path / "lora"
    result = CliRunner().invoke(app, [
        "sft", "--data", str(sft_file), "--model", f"hf:{tiny_model_dir}", "--out", str(out), "--epochs", "1",
        "--lr", "1e-3", "--batch-size", "8", "--max-length", "256", "--lora", "--no-bf16",
    ])
    assert result.exit_code == 0, result.output
    assert (out / "adapter" / "adapter_config.json").is_file()
    merged = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert not any("lora" in name for name in merged.state_dict())
    changed = [n for n, p in merged.named_parameters() if not torch.equal(p, base.state_dict()[n])]
    assert changed and all("proj" in n for n in changed)  # only the adapted linear layers moved
    assert len(read_metrics(out)) >= 2
    assert json.loads((out / "medo1_sft.json").read_text())["padding_free"] is False  # sdpa on CPU: length-grouped


def test_module_entry_point_takes_the_cli_option_names():
    from transformers import HfArgumentParser

    (s,) = HfArgumentParser(SFTSettings).parse_args_into_dataclasses(
        args=["--data", "d.jsonl", "--model", "embedded", "--out", "o", "--batch-size", "64", "--max-length", "2048",
              "--lora", "--padding-free", "off"]
    )
    assert (s.batch_size, s.max_length, s.lora, s.padding_free, s.epochs, s.learning_rate) == (64, 2048, True, "off", 3.0, 5e-6)


def test_reads_public_formats_hf_datasets_and_reports_bad_lines(tmp_path):
    good = tmp_path / "o1.json"
    good.write_text(json.dumps(_examples(2)))
    assert [e.source for e in load_sft_examples(str(good))] == ["medical-o1", "medical-o1"]

    folder = tmp_path / "hf_dataset"  # a dataset folder loads through datasets.load_dataset like a hub id
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _examples(3)))
    assert len(load_sft_examples(str(folder))) == 3

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(_examples(1)[0]) + "\n" + json.dumps({"Question": "Q?", "Complex_CoT": "c"}) + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl:2: Response: missing"):
        load_sft_examples(str(bad))
    with pytest.raises(InputError, match="no such file"):
        load_sft_examples(str(tmp_path / "missing.jsonl"))


def test_plain_cpu_loss_equals_trl_fused_loss(tiny_model_dir, sft_file, tmp_path):
    """The CPU trainer's cross-entropy on logits is the loss TRL's chunked LM-head kernel computes."""
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from medo1.train.sft import plain_loss_trainer

    tok = _tokenizer(tiny_model_dir)
    dataset, _, _ = build_dataset(tok, load_sft_examples(str(sft_file)), max_length=256)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).train()  # no dropout
    config = SFTConfig(output_dir=str(tmp_path / "o"), per_device_train_batch_size=4, completion_only_loss=True,
                       report_to="none", use_cpu=True, bf16=False)
    losses = {}
    for name, cls in (("trl", SFTTrainer), ("plain", plain_loss_trainer())):
        trainer = cls(model=model, args=config, train_dataset=dataset, processing_class=tok)
        batch = trainer._prepare_inputs(trainer.data_collator([dataset[i] for i in range(4)]))
        assert (batch["labels"] == -100).any() and (batch["labels"] != -100).any()  # prompt masked, answer not
        with torch.no_grad():
            losses[name] = trainer.compute_loss(model, dict(batch)).item()
        accuracy = trainer._metrics["train"]["mean_token_accuracy"][-1]
        assert 0.0 <= accuracy <= 1.0
    assert losses["plain"] == pytest.approx(losses["trl"], rel=1e-4)


def test_a_checkpoint_cut_short_by_a_kill_is_not_resumed_from(tmp_path):
    from medo1.train.common import last_checkpoint

    for step, done in ((2, "trainer_state.json"), (4, "medo1_ppo_state.json"), (6, None)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"")
        if done:
            (folder / done).write_text("{}")
    assert last_checkpoint(tmp_path).name == "checkpoint-4"  # checkpoint-6 has no state file: killed mid-save


@pytest.mark.parametrize("module, args", [
    ("medo1.train.sft", ["--data", "{missing}", "--model", "{model}", "--out", "{out}"]),
    ("medo1.train.ppo", ["--problems", "{missing}", "--model", "{model}", "--out", "{out}"]),
    ("medo1.train.trl_rl", ["--algo", "grpo", "--problems", "{missing}", "--model", "{model}", "--out", "{out}"]),
])
def test_module_entry_points_say_a_bad_input_in_one_line(module, args, tmp_path, tiny_model_dir):
    """`python -m medo1.train.<x>` (what `accelerate launch -m` runs): bad input is one line and exit status 2."""
    values = {"missing": str(tmp_path / "missing.jsonl"), "model": str(tiny_model_dir), "out": str(tmp_path / "out")}
    result = subprocess.run([sys.executable, "-m", module, *(a.format(**values) for a in args)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "missing.jsonl" in lines[-1] and "Traceback" not in result.stderr


def test_the_last_step_writes_no_checkpoint_when_none_is_kept():
    # with keep_checkpoints 0 the checkpoint of the last step would be deleted right after the final weights are
    # written: a wasted write of weights and optimizer state (seconds per stage on a CPU)
    from transformers import TrainerControl, TrainerState

    from medo1.train.common import NoLastCheckpoint, checkpoint_due

    def saves(keep: int, step: int, max_steps: int = 8) -> bool:
        control = NoLastCheckpoint(keep).on_step_end(None, TrainerState(max_steps=max_steps, global_step=step),
                                                     TrainerControl(should_save=True))
        return control.should_save

    assert not saves(0, 8)
    assert saves(0, 4) and saves(1, 8) and saves(2, 8)  # mid-run saves stay (a killed run resumes from them)
    # PPO's own loop: every save_steps, and at the end only when checkpoints are kept
    assert [s for s in range(1, 9) if checkpoint_due(s, 8, 3, keep=0)] == [3, 6]
    assert [s for s in range(1, 9) if checkpoint_due(s, 8, 3, keep=1)] == [3, 6, 8]
    assert [s for s in range(1, 9) if checkpoint_due(s, 8, 4, keep=0)] == [4]
