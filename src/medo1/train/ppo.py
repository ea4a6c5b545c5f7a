"""Stage 3: PPO with the verifier reward, in plain torch + accelerate.

One PPO step:
  1. rollout   - sample one response per problem from the policy (temperature 0.5);
  2. score     - reward 1.0 correct / 0.1 wrong / 0.0 no format (or cut off), from the verifier;
  3. evaluate  - log-probs of the sampled tokens under the policy and the frozen SFT reference (both
                 at the sampling temperature), and values from the value model;
  4. advantage - per-token reward = -beta * (logp - logp_ref), plus the score at the last real token;
                 GAE (gamma, lambda) against the values; advantages whitened over the batch;
  5. update    - `ppo_epochs` passes over shuffled mini batches: clipped policy loss + vf_coef *
                 clipped value loss, gradient accumulation over micro batches.

    medo1 rl --algo ppo --problems rl.jsonl --model ckpt/sft --out ckpt/ppo
    accelerate launch --config_file configs/accelerate/zero3.yaml -m medo1.train.ppo --problems ... --model ... --out ...

Defaults follow the paper (HuatuoGPT-o1): lr 5e-7, batch 128, 3 PPO epochs, gamma 1.0, lambda 0.95,
value coef 1.0, clip 0.2, KL beta 0.03, temperature 0.5, responses up to ~1300 tokens.
"""

from __future__ import annotations

import math
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import torch
import torch.nn as nn

from medo1.errors import Medo1Error
from medo1.jsonl import JsonlWriter
from medo1.train.common import (
    KEEP_CHECKPOINTS_HELP,
    MetricsLog,
    bf16_supported,
    check_out_dir,
    checkpoint_step,
    checkpoints_while_training,
    prune_checkpoints,
    resolve_model_path,
    split_batch,
    write_json,
)
from medo1.train.data import load_problems, prompt_ids
from medo1.train.reward import RewardScorer, Scores


@dataclass
class PPOConfig:
    """PPO settings. Defaults follow the paper where it gives them; the rest follow TRL's former PPOTrainer."""

    problems: str = field(
        metadata={"help": "RL problems: .jsonl/.json (ours or medical-o1 verifiable problems) or a HF dataset id."},
    )
    model: str = field(metadata={"help": "The SFT model: a checkpoint directory, `hf:<path-or-repo>` or `embedded`."})
    out: str = field(
        metadata={"help": "Output directory: the trained policy, value model, checkpoints, metrics.jsonl."},
    )
    value_model: str | None = field(
        default=None,
        metadata={"help": "Checkpoint the value model starts from (default: the SFT model)."},
    )
    verifier: str = field(
        default="match",
        metadata={"help": "Verifier spec: match, judge:<model spec> or classifier:<path>."},
    )
    learning_rate: float = field(
        default=5e-7,
        metadata={"help": "AdamW learning rate of policy and value model (paper: 5e-7)."},
    )
    batch_size: int = field(
        default=128,
        metadata={"help": "Problems (one response each) per PPO step, all processes (paper: 128)."},
    )
    num_mini_batches: int = field(
        default=1,
        metadata={"help": "Optimizer steps per PPO epoch: the batch is split into this many mini batches."},
    )
    micro_batch_size: int = field(
        default=8,
        metadata={"help": "Sequences per forward/backward pass on one device (gradient accumulation)."},
    )
    rollout_batch_size: int = field(default=32, metadata={"help": "Prompts per generate call on one device."})
    ppo_epochs: int = field(default=3, metadata={"help": "Passes over each batch (paper: 3)."})
    gamma: float = field(default=1.0, metadata={"help": "GAE discount (paper: 1.0)."})
    lam: float = field(default=0.95, metadata={"help": "GAE lambda (paper: 0.95)."})
    kl_coef: float = field(
        default=0.03,
        metadata={"help": "beta of the per-token KL penalty to the SFT model (paper: 0.03)."},
    )
    clip_range: float = field(default=0.2, metadata={"help": "Policy ratio clip (paper: 0.2)."})
    value_clip_range: float = field(default=0.2, metadata={"help": "Value prediction clip around the rollout values."})
    vf_coef: float = field(default=1.0, metadata={"help": "Weight of the value loss (paper: 1.0)."})
    whiten_rewards: bool = field(default=False, metadata={"help": "Whiten per-token rewards before GAE."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    temperature: float = field(
        default=0.5,
        metadata={"help": "Sampling temperature; log-probs use the same (paper: 0.5)."},
    )
    max_new_tokens: int = field(default=1300, metadata={"help": "Longest response in tokens (paper: ~1300)."})
    max_prompt_length: int = field(
        default=1024,
        metadata={"help": "Problems whose prompt is longer are left out (listed in ppo.skipped.json)."},
    )
    missing_eos_penalty: float = field(
        default=0.0,
        metadata={"help": "Subtracted from the reward of a response cut off at max_new_tokens (which already gets the no-"
                          "format reward 0.0)."},
    )
    epochs: float = field(default=1.0, metadata={"help": "Passes over the problems."})
    max_steps: int = field(
        default=-1,
        metadata={"help": "Stop after this many PPO steps (-1: as many as `epochs` needs)."},
    )
    lr_scheduler: str = field(
        default="linear",
        metadata={"help": "Learning-rate schedule over PPO steps (transformers names)."},
    )
    warmup_steps: int = field(default=0, metadata={"help": "PPO steps of linear warmup."})
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bf16 mixed precision; default: when the hardware supports it natively."},
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={"help": "Recompute activations in backward: less memory, slower."},
    )
    save_steps: int = field(default=20, metadata={"help": "PPO steps between checkpoints."})
    keep_checkpoints: int = field(default=0, metadata={"help": KEEP_CHECKPOINTS_HELP})
    resume: bool = field(default=False, metadata={"help": "Continue from the latest checkpoint in --out."})
    seed: int = field(default=42, metadata={"help": "Random seed (problem order, sampling)."})


class Scorer(Protocol):
    """Turns responses into rewards; `RewardScorer` (the verifier reward) is the one PPO uses."""

    def score(self, outputs: list[str], references: list[str], finished: list[bool] | None = None) -> Scores: ...


# ---------------------------------------------------------------- PPO math (shapes: batch x response tokens)


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    mask = mask.to(x.dtype)
    if dim is None:
        return (x * mask).sum() / mask.sum().clamp(min=1)
    return (x * mask).sum(dim) / mask.sum(dim).clamp(min=1)


def masked_var(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unbiased variance of the masked entries."""
    mean = masked_mean(x, mask)
    n = mask.sum()
    if n < 2:
        return torch.zeros((), dtype=x.dtype, device=x.device)
    return masked_mean((x - mean) ** 2, mask) * n / (n - 1)


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """Scale the masked entries to unit variance (and zero mean); padding stays 0."""
    mean, var = masked_mean(x, mask), masked_var(x, mask)
    whitened = (x - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        whitened = whitened + mean
    return whitened * mask


def response_lengths(tokens: torch.Tensor, eos_ids: list[int]) -> torch.Tensor:
    """Real tokens of each generated row: up to and including the first EOS, or the whole row when
    it has none (cut off at the length limit). Whatever follows the EOS is padding."""
    is_eos = torch.isin(tokens, torch.tensor(eos_ids, device=tokens.device))
    width = tokens.shape[1]
    first = torch.where(is_eos.any(1), is_eos.int().argmax(1), torch.full_like(tokens[:, 0], width - 1))
    return first + 1


def lengths_to_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def kl_penalized_rewards(
    logprobs: torch.Tensor, ref_logprobs: torch.Tensor, scores: torch.Tensor, lengths: torch.Tensor, kl_coef: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token rewards: -kl_coef * (logp - logp_ref) on every real token (k1 estimate of the KL to
    the reference), plus the sequence score on its last real token. Returns (rewards, kl per token)."""
    mask = lengths_to_mask(lengths, logprobs.shape[1])
    kl = (logprobs - ref_logprobs) * mask
    rewards = -kl_coef * kl
    rows = torch.arange(len(lengths), device=lengths.device)
    rewards[rows, lengths - 1] += scores.to(rewards.dtype)
    return rewards, kl


def gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation over response tokens. Values after the last real token
    count as 0 (the episode has ended). Returns (advantages, returns = advantages + values)."""
    values = values * mask
    rewards = rewards * mask
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[:, 0])
    width = rewards.shape[1]
    for t in reversed(range(width)):
        next_value = values[:, t + 1] if t + 1 < width else torch.zeros_like(last)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last = delta + gamma * lam * last
        advantages[:, t] = last
    advantages = advantages * mask
    return advantages, (advantages + values) * mask


def clipped_policy_loss(
    logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor, clip: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token PPO surrogate loss max(-A r, -A clip(r, 1-eps, 1+eps)), and where clipping bit."""
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return torch.maximum(unclipped, clipped), (clipped > unclipped)


def clipped_value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token 0.5 * max((v - R)^2, (v_clipped - R)^2), v_clipped within `clip` of the rollout value."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip, clip)
    unclipped = (values - returns) ** 2
    clipped = (clipped_values - returns) ** 2
    return 0.5 * torch.maximum(unclipped, clipped), (clipped > unclipped)


# ---------------------------------------------------------------- models


class PolicyAndValue(nn.Module):
    """The two trained models in one module, so accelerate / DeepSpeed prepare them with one optimizer."""

    def __init__(self, policy: nn.Module, value: nn.Module):
        super().__init__()
        self.policy, self.value = policy, value
        # what sharding wrappers must keep whole (transformer blocks), as on a transformers model
        self._no_split_modules = sorted(set(getattr(policy, "_no_split_modules", None) or [])
                                        | set(getattr(value, "_no_split_modules", None) or []))

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log-probs, entropies, values) of the response tokens, each (batch, response width)."""
        logprobs, entropy = response_logprobs(self.policy, batch)
        values = self.value(**_model_inputs(batch), use_cache=False).logits[..., 0]
        return logprobs, entropy, _response_slice(values, batch)

    @property
    def is_gradient_checkpointing(self) -> bool:  # read by TRL's unwrap_model_for_generation
        return self.policy.is_gradient_checkpointing

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None) -> None:
        for m in (self.policy, self.value):
            m.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gradient_checkpointing_kwargs)

    def gradient_checkpointing_disable(self) -> None:
        for m in (self.policy, self.value):
            m.gradient_checkpointing_disable()


def load_models(cfg: PPOConfig, policy_path: str, value_path: str):
    """Policy, frozen reference and value model (scalar head), dropout off, LM heads fused at the
    sampling temperature (log-probs without materialising the vocabulary-wide logits)."""
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification
    from trl.trainer import add_fused_lm_head, disable_dropout_in_model

    policy = AutoModelForCausalLM.from_pretrained(policy_path, dtype=torch.float32)
    reference = AutoModelForCausalLM.from_pretrained(policy_path, dtype=torch.float32)
    value = AutoModelForTokenClassification.from_pretrained(value_path, num_labels=1, dtype=torch.float32)
    for model in (policy, reference):
        add_fused_lm_head(model, temperature=cfg.temperature, outputs=("log_probs", "entropy"))
    for model in (policy, reference, value):
        disable_dropout_in_model(model)
    reference.requires_grad_(False).eval()
    if cfg.gradient_checkpointing:
        policy.gradient_checkpointing_enable()
        value.gradient_checkpointing_enable()
    return policy, reference, value


def _model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids")}


def _response_slice(per_position: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Values predicted at the position before each response token (the state it is chosen in)."""
    start = int(batch["response_start"])
    return per_position[:, start - 1 : start - 1 + batch["response_ids"].shape[1]]


def response_logprobs(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probs (at the fused head's temperature) and entropies of the response tokens."""
    out = model(**_model_inputs(batch), labels=batch["labels"], fused_lm_head=True, use_cache=False)
    start, width = int(batch["response_start"]), batch["response_ids"].shape[1]
    # log_probs[:, j] scores token j + 1: the response tokens are at start .. start + width - 1
    return out.log_probs[:, start - 1 : start - 1 + width], out.entropy[:, start - 1 : start - 1 + width]


def collate(queries: list[list[int]], responses: list[list[int]], pad_id: int, device) -> dict[str, torch.Tensor]:
    """Prompts left-padded, responses right-padded, in one row each: [pad.. prompt | response ..pad].
    Position ids count real tokens only, as in generation with left padding."""
    p = max(len(q) for q in queries)
    r = max(len(x) for x in responses)
    ids = torch.full((len(queries), p + r), pad_id, dtype=torch.long)
    attn = torch.zeros_like(ids)
    for i, (q, x) in enumerate(zip(queries, responses)):
        ids[i, p - len(q) : p + len(x)] = torch.tensor(q + x)
        attn[i, p - len(q) : p + len(x)] = 1
    labels = torch.full_like(ids, -100)
    labels[:, p:] = torch.where(attn[:, p:].bool(), ids[:, p:], -100)
    batch = {
        "input_ids": ids,
        "attention_mask": attn,
        "position_ids": (attn.cumsum(1) - 1).clamp(min=0),
        "labels": labels,
        "response_ids": ids[:, p:],
        "response_mask": attn[:, p:].bool(),
    }
    batch = {k: v.to(device) for k, v in batch.items()}
    batch["response_start"] = p
    return batch


def _pad_rows(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    out = torch.zeros(len(rows), width, dtype=rows[0].dtype, device=rows[0].device)
    for i, row in enumerate(rows):
        out[i, : row.shape[0]] = row
    return out


@torch.no_grad()
def sample_responses(
    policy, queries: list[list[int]], *, pad_id: int, eos_ids: list[int], temperature: float, max_new_tokens: int,
    batch_size: int, autocast=nullcontext,
) -> list[list[int]]:
    """Sample one response per prompt (token ids, up to and including the first EOS; all of it when
    cut off at `max_new_tokens`). Pure temperature sampling: log-probs are computed for exactly this
    distribution, so no top-k / top-p / repetition penalty from the checkpoint's generation config."""
    from medo1.llm.sampling import generation_config, model_defaults_off

    generation = generation_config(
        do_sample=True, temperature=temperature, max_new_tokens=max_new_tokens, eos_token_id=eos_ids,
        pad_token_id=pad_id,
    )
    device = next(policy.parameters()).device
    was_training = policy.training
    policy.eval()
    responses = []
    for i in range(0, len(queries), batch_size):
        chunk = queries[i : i + batch_size]
        width = max(len(q) for q in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        attn = torch.zeros_like(ids)
        for j, q in enumerate(chunk):  # left padding: every prompt ends where generation starts
            ids[j, width - len(q) :] = torch.tensor(q)
            attn[j, width - len(q) :] = 1
        with autocast(), model_defaults_off(policy):
            out = policy.generate(input_ids=ids.to(device), attention_mask=attn.to(device), generation_config=generation)
        tokens = out[:, width:]
        lengths = response_lengths(tokens, eos_ids).tolist()
        responses += [tokens[j, :n].tolist() for j, n in enumerate(lengths)]
    policy.train(was_training)
    return responses


def eos_token_ids(tokenizer, model) -> list[int]:
    """Every token that ends a response: the generation config's (may be several), the tokenizer's, and
    the chat template's end-of-turn token (a checkpoint whose config does not register it still stops)."""
    from medo1.train.data import end_of_turn_token

    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    eot = end_of_turn_token(tokenizer)
    for token_id in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(eot) if eot else None):
        if token_id is not None and token_id not in ids:
            ids.append(token_id)
    if not ids:
        raise Medo1Error("the model has no end-of-sequence token; RL needs one to know where responses end")
    return ids


# ---------------------------------------------------------------- the trainer


def problem_order(n: int, step: int, batch_size: int, seed: int) -> list[int]:
    """Problem indices of PPO step `step`: consecutive slices of a stream of seeded shuffles (one per
    pass over the problems), so a resumed run sees the same problems at the same steps."""
    out = []
    start = step * batch_size
    epoch, offset = divmod(start, n)
    while len(out) < batch_size:
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        out += perm[offset:]
        epoch, offset = epoch + 1, 0
    return out[:batch_size]


class PPOTrainer:
    """A small PPO loop: `train()` runs `step()` until done, with checkpoints and metrics."""

    def __init__(self, cfg: PPOConfig, scorer: Scorer | None = None):
        from accelerate import Accelerator, PartialState
        from accelerate.state import AcceleratorState
        from accelerate.utils import set_seed
        from transformers import AutoTokenizer, get_scheduler

        if cfg.temperature <= 0:
            raise Medo1Error(f"temperature {cfg.temperature}: PPO samples, so it must be above 0 (paper: 0.5)")
        self.cfg = cfg
        self.out = Path(cfg.out)
        self.resume_from = check_out_dir(self.out, cfg.resume)
        problems = load_problems(cfg.problems)
        model_path = resolve_model_path(cfg.model)
        value_path = resolve_model_path(cfg.value_model) if cfg.value_model else model_path

        # Batch layout: each process rolls out batch_size / processes problems; each PPO epoch splits
        # them into mini batches (one optimizer step each) of micro batches (gradient accumulation).
        state = PartialState()
        self.world, self.rank = state.num_processes, state.process_index
        if cfg.batch_size % (self.world * cfg.num_mini_batches):
            raise Medo1Error(f"batch size {cfg.batch_size} must divide into {self.world} process(es) x "
                             f"{cfg.num_mini_batches} mini batches")
        self.local_batch = cfg.batch_size // self.world
        self.mini_batch = self.local_batch // cfg.num_mini_batches
        self.micro_batch, accumulation = split_batch(self.mini_batch, cfg.micro_batch_size, processes=1)
        bf16 = bf16_supported() if cfg.bf16 is None else cfg.bf16
        # An earlier trainer in this process (SFT before RL in `medo1 run`) leaves its mixed precision in
        # accelerate's shared state, which a new Accelerator may not change; the process group stays.
        AcceleratorState._reset_state()
        self.accelerator = acc = Accelerator(mixed_precision="bf16" if bf16 else "no",
                                             gradient_accumulation_steps=accumulation)
        set_seed(cfg.seed + self.rank)

        self.tokenizer = tok = AutoTokenizer.from_pretrained(model_path)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        # Problems whose prompt is too long are left out, each with its reason.
        self.problems, self.queries, skipped = [], [], []
        for p in problems:
            ids = prompt_ids(tok, p.question)
            if len(ids) > cfg.max_prompt_length:
                skipped.append({"id": p.id, "reason": f"prompt is {len(ids)} tokens, over max_prompt_length "
                                                      f"{cfg.max_prompt_length}"})
                continue
            self.problems.append(p)
            self.queries.append(ids)
        if not self.problems:
            raise Medo1Error(f"{cfg.problems}: no problem has a prompt within max_prompt_length {cfg.max_prompt_length}")
        self.num_steps = math.ceil(cfg.epochs * len(self.problems) / cfg.batch_size)
        if cfg.max_steps > 0:
            self.num_steps = cfg.max_steps

        if acc.distributed_type.name == "FSDP":
            raise Medo1Error("PPO runs under DDP or DeepSpeed; launch it with configs/accelerate/zero3.yaml or ddp.yaml")
        if acc.state.deepspeed_plugin is not None:  # DeepSpeed wants the micro batch; there is no dataloader to infer it
            acc.state.deepspeed_plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = self.micro_batch
        policy, self.reference, value = load_models(cfg, model_path, value_path)
        self.eos_ids = eos_token_ids(tok, policy)
        model = PolicyAndValue(policy, value)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, eps=1e-5)
        self.scheduler = get_scheduler(cfg.lr_scheduler, optimizer, num_warmup_steps=cfg.warmup_steps,
                                       num_training_steps=self.num_steps)
        self.model, self.optimizer = acc.prepare(model, optimizer)
        acc.register_for_checkpointing(self.scheduler)
        self.reference = self._prepare_reference(self.reference)

        if scorer is None:
            from medo1.verify import load_verifier

            scorer = RewardScorer(load_verifier(cfg.verifier))
        self.scorer = scorer
        self.start_step = 0
        if self.resume_from is not None:
            acc.load_state(str(self.resume_from))
            self.start_step = checkpoint_step(self.resume_from)
        if acc.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            write_json(self.out / "ppo.skipped.json", skipped)
            self.metrics = MetricsLog(self.out, resume_step=self.start_step if self.resume_from else None)
            self.failed = JsonlWriter(self.out / "ppo.failed.jsonl")
        self.bf16 = bf16

    def _prepare_reference(self, reference):
        if self.accelerator.state.deepspeed_plugin is not None:
            from trl.models import prepare_deepspeed

            return prepare_deepspeed(reference, self.accelerator)
        return reference.to(self.accelerator.device)

    # ------------------------------------------------------------ rollout

    def generate(self, queries: list[list[int]]) -> list[list[int]]:
        """Sampled responses (token ids, up to and including EOS) to the prompts."""
        from trl.models import unwrap_model_for_generation

        with unwrap_model_for_generation(self.model, self.accelerator) as unwrapped:
            return sample_responses(
                unwrapped.policy, queries, pad_id=self.tokenizer.pad_token_id, eos_ids=self.eos_ids,
                temperature=self.cfg.temperature, max_new_tokens=self.cfg.max_new_tokens,
                batch_size=self.cfg.rollout_batch_size, autocast=self.accelerator.autocast,
            )

    @torch.no_grad()
    def evaluate(self, queries, responses) -> dict[str, torch.Tensor]:
        """Log-probs (policy, reference), entropies and values of the sampled responses, (batch, width)."""
        acc = self.accelerator
        width = max(len(r) for r in responses)
        rows = {"logprobs": [], "ref_logprobs": [], "entropy": [], "values": []}
        for i in range(0, len(queries), self.micro_batch):
            batch = collate(queries[i : i + self.micro_batch], responses[i : i + self.micro_batch],
                            self.tokenizer.pad_token_id, acc.device)
            with acc.autocast():
                logprobs, entropy, values = self.model(batch)
                ref_logprobs, _ = response_logprobs(self.reference, batch)
            for key, value in (("logprobs", logprobs), ("ref_logprobs", ref_logprobs), ("entropy", entropy),
                               ("values", values)):
                rows[key] += list(value.float())
        return {k: _pad_rows(v, width) for k, v in rows.items()}

    # ------------------------------------------------------------ one PPO step

    def step(self, step: int) -> dict[str, float]:
        cfg, acc = self.cfg, self.accelerator
        t0 = time.perf_counter()
        order = problem_order(len(self.problems), step, cfg.batch_size, cfg.seed)
        mine = order[self.rank * self.local_batch : (self.rank + 1) * self.local_batch]
        queries = [self.queries[i] for i in mine]
        responses = self.generate(queries)
        t_generate = time.perf_counter()

        texts = self.tokenizer.batch_decode(responses, skip_special_tokens=True)
        finished = [bool(r) and r[-1] in self.eos_ids for r in responses]
        scored = self.scorer.score(texts, [self.problems[i].answer for i in mine], finished)
        t_score = time.perf_counter()

        ev = self.evaluate(queries, responses)
        device = ev["logprobs"].device
        lengths = torch.tensor([len(r) for r in responses], device=device)
        mask = lengths_to_mask(lengths, ev["logprobs"].shape[1])
        ok = torch.tensor([r is not None for r in scored.rewards], device=device)
        scores = torch.tensor([r if r is not None else 0.0 for r in scored.rewards], device=device)
        scores = scores - cfg.missing_eos_penalty * (~torch.tensor(finished, device=device)).float()
        mask = mask & ok[:, None]  # a response whose verification failed takes no part in the update
        rewards, kl = kl_penalized_rewards(ev["logprobs"], ev["ref_logprobs"], scores * ok, lengths, cfg.kl_coef)
        rewards = rewards * mask
        if cfg.whiten_rewards:
            rewards = masked_whiten(rewards, mask, shift_mean=False)
        advantages, returns = gae(rewards, ev["values"], mask, cfg.gamma, cfg.lam)
        advantages = masked_whiten(advantages, mask)
        t_evaluate = time.perf_counter()

        lr = self.scheduler.get_last_lr()[0]  # the rate this step's update used (logged as such)
        stats = self.update(queries, responses, ev, advantages, returns, mask)
        self.scheduler.step()
        t_update = time.perf_counter()

        if self.accelerator.is_main_process:
            for i, error in zip(mine, scored.errors):
                if error is not None:
                    self.failed.write({"id": self.problems[i].id, "step": step + 1, "reason": error})
        valid = ok.float()
        local = {
            "reward": (scores * valid).sum() / valid.sum().clamp(min=1),
            "correct_rate": torch.tensor(scored.correct_rate, device=device),
            "format_rate": torch.tensor(scored.format_rate, device=device),
            "truncated_rate": 1.0 - torch.tensor(finished, device=device).float().mean(),
            "verify_failed": (~ok).float().sum(),
            "kl": (kl.sum(1) * valid).sum() / valid.sum().clamp(min=1),
            "kl_per_token": masked_mean(kl, mask),
            "entropy": masked_mean(ev["entropy"], mask),
            "response_length": lengths.float().mean(),
            "value_mean": masked_mean(ev["values"], mask),
            "return_mean": masked_mean(returns, mask),
            **stats,
        }
        metrics = {k: acc.reduce(v.detach().float().reshape(1), reduction="mean").item() for k, v in local.items()}
        metrics["verify_failed"] *= self.world  # a count, summed over processes
        metrics.update(
            lr=lr,
            rollout_seconds=t_generate - t0,
            score_seconds=t_score - t_generate,
            evaluate_seconds=t_evaluate - t_score,
            update_seconds=t_update - t_evaluate,
        )
        return metrics

    def update(self, queries, responses, ev, advantages, returns, mask) -> dict[str, torch.Tensor]:
        cfg, acc = self.cfg, self.accelerator
        sums = {k: torch.zeros((), device=mask.device) for k in
                ("policy_loss", "value_loss", "clip_fraction", "value_clip_fraction", "approx_kl")}
        count = 0
        n = len(queries)
        self.model.train()
        for _ in range(cfg.ppo_epochs):
            perm = torch.randperm(n).tolist()
            for m in range(0, n, self.mini_batch):
                for u in range(m, m + self.mini_batch, self.micro_batch):
                    idx = perm[u : u + self.micro_batch]
                    batch = collate([queries[i] for i in idx], [responses[i] for i in idx],
                                    self.tokenizer.pad_token_id, acc.device)
                    width = batch["response_ids"].shape[1]
                    sel = lambda x: x[idx, :width]  # noqa: E731
                    mb_mask = sel(mask)
                    with acc.accumulate(self.model), acc.autocast():
                        logprobs, _, values = self.model(batch)
                        pg, pg_clipped = clipped_policy_loss(logprobs.float(), sel(ev["logprobs"]), sel(advantages),
                                                             cfg.clip_range)
                        vf, vf_clipped = clipped_value_loss(values.float(), sel(ev["values"]), sel(returns),
                                                            cfg.value_clip_range)
                        policy_loss, value_loss = masked_mean(pg, mb_mask), masked_mean(vf, mb_mask)
                        acc.backward(policy_loss + cfg.vf_coef * value_loss)
                        if acc.sync_gradients and cfg.max_grad_norm:
                            acc.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                        self.optimizer.step()
                        self.optimizer.zero_grad()
                    with torch.no_grad():
                        sums["policy_loss"] += policy_loss.detach()
                        sums["value_loss"] += value_loss.detach()
                        sums["clip_fraction"] += masked_mean(pg_clipped.float(), mb_mask)
                        sums["value_clip_fraction"] += masked_mean(vf_clipped.float(), mb_mask)
                        sums["approx_kl"] += masked_mean(0.5 * (logprobs.float() - sel(ev["logprobs"])) ** 2, mb_mask)
                    count += 1
        return {k: v / max(count, 1) for k, v in sums.items()}

    # ------------------------------------------------------------ loop, checkpoints, output

    def train(self) -> Path:
        from tqdm.auto import tqdm

        acc, cfg = self.accelerator, self.cfg
        if acc.is_main_process:
            print(
                f"ppo: {len(self.problems)} problems, {self.num_steps} steps of {cfg.batch_size} "
                f"({self.world} process(es), {cfg.num_mini_batches} mini batch(es) x {cfg.ppo_epochs} epochs, micro "
                f"batch {self.micro_batch}), {'bf16 mixed' if self.bf16 else 'fp32'}"
                + (f", resuming at step {self.start_step}" if self.start_step else ""),
                file=sys.stderr, flush=True,
            )
        bar = tqdm(total=self.num_steps, initial=self.start_step, desc="ppo", disable=not acc.is_main_process,
                   dynamic_ncols=True)
        for step in range(self.start_step, self.num_steps):
            metrics = self.step(step)
            if acc.is_main_process:
                self.metrics.log(step + 1, metrics)
                bar.set_postfix(reward=f"{metrics['reward']:.3f}", correct=f"{metrics['correct_rate']:.2f}",
                                kl=f"{metrics['kl']:.3f}", refresh=False)
            bar.update(1)
            if (step + 1) % cfg.save_steps == 0 or step + 1 == self.num_steps:
                self.save_checkpoint(step + 1)
        bar.close()
        self.save_final()
        return self.out

    def save_checkpoint(self, step: int) -> None:
        path = self.out / f"checkpoint-{step}"
        self.accelerator.save_state(str(path))
        if self.accelerator.is_main_process:
            write_json(path / "medo1_ppo_state.json", {"step": step, "config": asdict(self.cfg)})
            prune_checkpoints(self.out, checkpoints_while_training(self.cfg.keep_checkpoints))
        self.accelerator.wait_for_everyone()

    def save_final(self) -> None:
        """The policy at the top of `out` (loadable as `hf:<out>`), the value model in `out/value`."""
        acc = self.accelerator
        state = acc.get_state_dict(self.model)
        if acc.is_main_process:
            wrapper = acc.unwrap_model(self.model)
            parts = (("policy", wrapper.policy, self.out), ("value", wrapper.value, self.out / "value"))
            for name, module, folder in parts:
                part = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".")}
                module.save_pretrained(str(folder), state_dict=part)
            self.tokenizer.save_pretrained(str(self.out))
            write_json(self.out / "medo1_ppo.json", {"config": asdict(self.cfg), "steps": self.num_steps,
                                                     "problems": len(self.problems)})
            self.metrics.close()
            self.failed.close()
            prune_checkpoints(self.out, self.cfg.keep_checkpoints)  # the final weights are written
        acc.wait_for_everyone()

    def close(self) -> None:
        if isinstance(self.scorer, RewardScorer):
            self.scorer.close()


def train_ppo(cfg: PPOConfig, scorer: Scorer | None = None) -> Path:
    """Run PPO from `cfg.model` on `cfg.problems`; returns the output directory (the trained policy)."""
    trainer = PPOTrainer(cfg, scorer)
    try:
        return trainer.train()
    finally:
        trainer.close()


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.train.ppo` (and `accelerate launch -m medo1.train.ppo`)."""
    from transformers import HfArgumentParser

    (cfg,) = HfArgumentParser(PPOConfig).parse_args_into_dataclasses(args=argv)
    try:
        print(train_ppo(cfg))
    except Medo1Error as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
