"""Stage 2: supervised fine-tuning on complex CoT with TRL's SFTTrainer.

Each example is the question as a user turn and `## Thinking ... ## Final Response ...` as the
assistant turn, in the base model's chat template; only the assistant turn is trained.

    medo1 sft --data sft.jsonl --model embedded --out ckpt/sft
    python -m medo1.train.sft --data sft.jsonl --model hf:Qwen/Qwen2.5-7B-Instruct --out ckpt/sft
    accelerate launch --config_file configs/accelerate/zero3.yaml -m medo1.train.sft --data ... --model ... --out ...

Micro batches are padding-free (the examples of a micro batch laid end to end in one row, position
ids restarting at each example) with flash-attention kernels, after checking by running the model
once that its attention keeps the examples apart; otherwise examples of similar length are batched
together so little padding is left (see `choose_padding_free`).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import torch

from medo1.errors import Medo1Error
from medo1.llm.chat_template import check_chat_template, register_end_of_turn
from medo1.train.common import (
    MetricsCallback,
    NoLastCheckpoint,
    check_out_dir,
    prune_checkpoints,
    resolve_model_path,
    run_module,
    say,
    trainer_args,
    warmup_args,
    world_size,
    write_json,
)
from medo1.train.config import SFTSettings
from medo1.train.data import load_sft_examples, tokenize_sft


def packed_attention_is_exact(model) -> bool:
    """Whether flattening sequences into one row (position ids restarting at 0) gives exactly the
    logits of running them one by one, i.e. the attention kernel keeps them apart (flash-attention
    varlen kernels do; transformers >= 5 builds a block-diagonal mask for sdpa/eager)."""
    from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled

    if is_deepspeed_zero3_enabled():  # weights are sharded until the trainer gathers them: trust the kernel
        return model.config._attn_implementation.startswith("flash_attention")
    param = next(model.parameters())
    vocab = model.config.get_text_config().vocab_size
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randint(0, vocab, (1, n), generator=gen).to(param.device) for n in (5, 7))
    positions = torch.cat([torch.arange(5), torch.arange(7)])[None].to(param.device)
    was_training = model.training
    model.eval()
    with torch.no_grad():  # no KV cache, as in training: with one, transformers does not look for packed rows
        apart = torch.cat([model(input_ids=x, use_cache=False).logits for x in (a, b)], dim=1).float()
        flat = model(input_ids=torch.cat([a, b], dim=1), position_ids=positions, use_cache=False).logits.float()
    model.train(was_training)
    scale = apart.abs().max().clamp(min=1.0)
    tolerance = 1e-4 if param.dtype == torch.float32 else 3e-2
    return bool(((apart - flat).abs().max() / scale) < tolerance)


def choose_padding_free(model, mode: str, packing: bool, name: str) -> bool:
    """Padding-free micro batches when they are exact for this model, and, in `auto` mode, when its
    attention kernel is a varlen one (flash attention) that only computes within each example. With
    sdpa / eager, transformers makes one-row batches exact with a block-diagonal mask, but the kernel
    still computes the whole (sum of lengths)^2 square: on CPU that costs more than it saves, so
    `auto` batches examples of similar length instead (little padding, per-example attention)."""
    if mode == "off" and not packing:
        return False
    if not packed_attention_is_exact(model):
        if mode == "on" or packing:
            raise Medo1Error(
                f"{name}: its attention ({model.config._attn_implementation}) mixes examples laid in one row, "
                "so padding-free training and packing would be wrong; use --padding-free off without --packing"
            )
        return False
    return mode == "on" or packing or "flash" in str(model.config._attn_implementation)


def build_dataset(tokenizer, examples, max_length: int):
    """A tokenized `datasets.Dataset` (input_ids, completion_mask) and the examples left out, with reasons."""
    from datasets import Dataset

    rows, skipped, truncated = [], [], 0
    for example in examples:
        try:
            tokens = tokenize_sft(tokenizer, example, max_length)
        except ValueError as err:
            skipped.append({"id": example.id, "reason": str(err)})
            continue
        truncated += tokens.truncated
        rows.append({"input_ids": tokens.input_ids, "completion_mask": tokens.completion_mask})
    if not rows:
        raise Medo1Error(f"no SFT example fits in max_length {max_length} (first problem: {skipped[0]['reason']})")
    return Dataset.from_list(rows), skipped, truncated


def plain_loss_trainer():
    """SFTTrainer with the loss computed from the model's logits (cross-entropy on the assistant tokens).

    TRL computes the SFT loss with a chunked LM-head kernel that never builds the full logits: it
    saves GPU memory on long sequences and large vocabularies, but on a CPU it doubles the time of a
    training step (measured: 62 vs 125 tokens/s for the embedded model). The loss is the same.
    """
    import torch.nn.functional as F
    from trl import SFTTrainer

    class PlainLossSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            mode = "train" if self.model.training else "eval"
            labels = inputs["labels"]
            inputs = {k: v for k, v in inputs.items() if k != "labels"} | {"use_cache": False}
            outputs = model(**inputs)
            logits = outputs.logits[:, :-1].float()
            targets = labels[:, 1:].to(logits.device)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100,
                                   reduction="sum")
            valid = targets != -100
            loss = loss / (num_items_in_batch if num_items_in_batch is not None else valid.sum().clamp(min=1))
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes  # as Trainer: DDP averages the gradients
            with torch.no_grad():
                correct = ((logits.argmax(-1) == targets) & valid).sum()
                n_valid = self.accelerator.gather_for_metrics(valid.sum()).sum()
                n_correct = self.accelerator.gather_for_metrics(correct).sum()
                self._metrics[mode]["mean_token_accuracy"].append((n_correct / n_valid.clamp(min=1)).item())
                if mode == "train":
                    mask = inputs.get("attention_mask")
                    count = mask.sum() if mask is not None else torch.tensor(inputs["input_ids"].numel())
                    self._total_train_tokens += self.accelerator.gather_for_metrics(count).sum().item()
                self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return (loss, outputs) if return_outputs else loss

    return PlainLossSFTTrainer


def train_sft(settings: SFTSettings) -> Path:
    """Fine-tune `settings.model` on `settings.data`; returns the output directory (a HF checkpoint)."""
    s = settings
    out = Path(s.out)
    warmup_args(s.warmup_ratio)  # a bad ratio fails before anything loads
    resume_from = check_out_dir(out, s.resume)
    model_path = resolve_model_path(s.model)
    tokenizer = _setup_tokenizer(s, model_path)
    dataset, skipped, truncated = build_dataset(tokenizer, load_sft_examples(s.data), s.max_length)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "sft.skipped.json", skipped)
    if len(dataset) < s.batch_size:
        say(f"note: {len(dataset)} examples is less than one batch of {s.batch_size}; each epoch is one step")
    config = _setup_config(s)
    model = _setup_model(s, model_path)  # after the config: under ZeRO-3 it carries the DeepSpeed config
    # A base model with --chat-template learns to end its turns with the template's token; unless that
    # token is an EOS of the saved checkpoint, generation (PPO rollouts, evaluation) never stops.
    eot = register_end_of_turn(tokenizer, model)
    padding_free = choose_padding_free(model, s.padding_free, s.packing, s.model)
    config.padding_free = padding_free
    config.train_sampling_strategy = "random" if (padding_free or s.packing) else "group_by_length"
    say(
        f"sft: {len(dataset)} examples ({truncated} cut to {s.max_length} tokens, {len(skipped)} left out), "
        f"batch {s.batch_size} = {config.per_device_train_batch_size} x {config.gradient_accumulation_steps} "
        f"accumulation x {world_size()} process(es), "
        f"{'padding-free' if padding_free else 'length-grouped padding'}{', packed' if s.packing else ''}, "
        f"{'bf16 mixed' if config.bf16 else 'fp32'}{', LoRA' if s.lora else ''}, "
        f"turns end with {eot or tokenizer.eos_token} (eos ids {model.generation_config.eos_token_id})"
    )
    trainer = _setup_trainer(s, model, config, dataset, tokenizer)
    started = time.time()
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    _save_final(trainer, tokenizer, out, s.lora)
    if trainer.is_world_process_zero():
        write_json(out / "medo1_sft.json", {
            "settings": asdict(s), "model_path": model_path, "examples": len(dataset), "skipped": len(skipped),
            "truncated": truncated, "padding_free": padding_free, "bf16": config.bf16,
            "steps": trainer.state.global_step, "train_loss": result.training_loss,
            "seconds": round(time.time() - started, 1),
        })
        prune_checkpoints(out, s.keep_checkpoints)  # the final weights are written: resuming is over
    return out


def _setup_tokenizer(s: SFTSettings, model_path: str):
    """The model's tokenizer, with `chat_template` when given; it must have a chat template and a pad token."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if s.chat_template:
        tokenizer.chat_template = Path(s.chat_template).read_text(encoding="utf-8")
    check_chat_template(tokenizer, s.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _setup_config(s: SFTSettings):
    """TRL's SFTConfig from the settings (medo1.train.common.trainer_args): the loss on the assistant turn."""
    from trl import SFTConfig

    # Examples are already tokenized and cut to max_length; TRL only needs it to size packed rows.
    return trainer_args(s, SFTConfig, max_length=s.max_length if s.packing else None, packing=s.packing,
                        completion_only_loss=True)


def _setup_model(s: SFTSettings, model_path: str):
    """fp32 master weights (bf16 comes from autocast: mixed precision, so small updates are not lost)."""
    from transformers import AutoModelForCausalLM

    model_kwargs = {"dtype": torch.float32}
    if s.attn_implementation:
        model_kwargs["attn_implementation"] = s.attn_implementation
    return AutoModelForCausalLM.from_pretrained(model_path, **model_kwargs)


def _setup_trainer(s: SFTSettings, model, config, dataset, tokenizer):
    """TRL's SFTTrainer (with LoRA adapters when asked); on CPUs a plain-loss subclass, twice as fast there
    as TRL's fused LM-head loss."""
    from trl import SFTTrainer

    peft_config = None
    if s.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=s.lora_r, lora_alpha=s.lora_alpha, lora_dropout=s.lora_dropout,
                                 target_modules="all-linear", task_type="CAUSAL_LM")
    trainer_class = SFTTrainer if torch.cuda.is_available() else plain_loss_trainer()
    return trainer_class(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config,
                         callbacks=[MetricsCallback(Path(s.out)), NoLastCheckpoint(s.keep_checkpoints)])


def _save_final(trainer, tokenizer, out: Path, lora: bool) -> None:
    """The final model at the top of `out`, loadable as `hf:<out>`; with LoRA, merged (adapter kept in out/adapter)."""
    if not lora:
        trainer.save_model(str(out))
        return
    trainer.model.save_pretrained(str(out / "adapter"))
    if trainer.is_world_process_zero():
        merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
        merged.save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.train.sft` (and `accelerate launch -m medo1.train.sft`): the same options as `medo1 sft`."""
    run_module(SFTSettings, train_sft, argv)


if __name__ == "__main__":
    main()
