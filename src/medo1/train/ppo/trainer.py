"""The PPO loop: rollout, score, evaluate, advantages, update; checkpoints, metrics and outputs."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from medo1.errors import Medo1Error
from medo1.jsonl import JsonlWriter
from medo1.llm.chat_template import prompt_ids
from medo1.train.common import (
    MetricsLog,
    bf16_supported,
    check_out_dir,
    checkpoint_due,
    checkpoint_step,
    checkpoints_while_training,
    prune_checkpoints,
    resolve_model_path,
    run_module,
    split_batch,
    write_json,
)
from medo1.train.data import load_problems
from medo1.train.ppo.config import Scorer
from medo1.train.ppo.losses import (
    clipped_policy_loss,
    clipped_value_loss,
    gae,
    kl_penalized_rewards,
    lengths_to_mask,
    masked_mean,
    masked_whiten,
)
from medo1.train.ppo.models import PolicyAndValue, load_models
from medo1.train.ppo.rollout import (
    _pad_rows,
    collate,
    eos_token_ids,
    problem_order,
    response_logprobs,
    sample_responses,
)
from medo1.train.hacking import watch_metrics
from medo1.train.reward import RewardScorer, decode_responses
from medo1.train.rl_config import PPOConfig


class PPOTrainer:
    """A small PPO loop: `train()` runs `step()` until done, with checkpoints and metrics."""

    def __init__(self, cfg: PPOConfig, scorer: Scorer | None = None):
        if cfg.temperature <= 0:
            raise Medo1Error(f"temperature {cfg.temperature}: PPO samples, so it must be above 0 (paper: 0.5)")
        cfg.overlong()  # bad overlong settings fail before anything loads
        self.cfg = cfg
        self.out = Path(cfg.out)
        self.resume_from = check_out_dir(self.out, cfg.resume)
        model_path = resolve_model_path(cfg.model)
        self._setup_accelerator()
        skipped = self._setup_problems(model_path)
        self._setup_models(model_path, resolve_model_path(cfg.value_model) if cfg.value_model else model_path)
        self._setup_scorer(scorer)
        self._setup_outputs(skipped)

    def _setup_accelerator(self) -> None:
        """The Accelerator, and the batch layout: each process rolls out batch_size / processes problems;
        each PPO epoch splits them into mini batches (one optimizer step each) of micro batches."""
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState
        from accelerate.utils import set_seed

        cfg = self.cfg
        self.bf16 = bf16_supported() if cfg.bf16 is None else cfg.bf16
        # An earlier trainer in this process (SFT before RL in `medo1 run`) leaves its mixed precision in
        # accelerate's shared state, which a new Accelerator may not change; the process group stays.
        AcceleratorState._reset_state()
        self.accelerator = acc = Accelerator(mixed_precision="bf16" if self.bf16 else "no")
        # The process count is the Accelerator's: it is the one that has joined the process group.
        self.world, self.rank = acc.num_processes, acc.process_index
        if cfg.batch_size % (self.world * cfg.num_mini_batches):
            raise Medo1Error(f"batch size {cfg.batch_size} must divide into {self.world} process(es) x "
                             f"{cfg.num_mini_batches} mini batches")
        self.local_batch = cfg.batch_size // self.world
        self.mini_batch = self.local_batch // cfg.num_mini_batches
        self.micro_batch, acc.gradient_accumulation_steps = split_batch(self.mini_batch, cfg.micro_batch_size,
                                                                        processes=1)
        set_seed(cfg.seed + self.rank)
        if acc.distributed_type.name == "FSDP":
            raise Medo1Error("PPO runs under DDP or DeepSpeed; launch it with configs/accelerate/zero3.yaml or ddp.yaml")
        self.zero3 = False
        if acc.state.deepspeed_plugin is not None:
            # The batch layout and clipping go into the DeepSpeed config itself: there is no dataloader to infer
            # them from, and under DeepSpeed accelerate's clip_grad_norm_ does nothing (the engine clips).
            ds_config = acc.state.deepspeed_plugin.deepspeed_config
            accumulation = acc.gradient_accumulation_steps
            ds_config.update(train_micro_batch_size_per_gpu=self.micro_batch, gradient_accumulation_steps=accumulation,
                             train_batch_size=self.micro_batch * accumulation * self.world,
                             gradient_clipping=cfg.max_grad_norm)
            self.zero3 = ds_config.get("zero_optimization", {}).get("stage") == 3

    def _setup_problems(self, model_path: str) -> list[dict]:
        """The tokenizer, the problems and their prompts (too long ones are left out, each with its reason),
        and the number of PPO steps; returns the left-out ones."""
        from transformers import AutoTokenizer

        cfg = self.cfg
        self.tokenizer = tok = AutoTokenizer.from_pretrained(model_path)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        self.problems, self.queries, skipped = [], [], []
        for p in load_problems(cfg.problems):
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
        return skipped

    def _setup_models(self, model_path: str, value_path: str) -> None:
        """Policy + value model, the frozen reference, the optimizer and the learning-rate schedule."""
        from transformers import get_scheduler

        cfg, acc = self.cfg, self.accelerator
        # The Accelerator exists, so under ZeRO-3 (zero3_init_flag) each process loads only its shard.
        policy, self.reference, value = load_models(cfg, model_path, value_path)
        self.eos_ids = eos_token_ids(self.tokenizer, policy)
        model = PolicyAndValue(policy, value)
        # Fused AdamW on a CPU: one kernel over all tensors (the default there updates them one by one, which took
        # 10 of a quick demo step's 58 s); elsewhere torch's own choice (foreach on GPUs, DeepSpeed's wrapping).
        fused = acc.device.type == "cpu" and acc.state.deepspeed_plugin is None
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, eps=1e-5,
                                      weight_decay=cfg.weight_decay, fused=fused or None)
        self.scheduler = get_scheduler(cfg.lr_scheduler, optimizer,
                                       num_warmup_steps=math.ceil(cfg.warmup_ratio * self.num_steps),
                                       num_training_steps=self.num_steps)
        self.model, self.optimizer = acc.prepare(model, optimizer)
        acc.register_for_checkpointing(self.scheduler)
        self.reference = self._prepare_reference(self.reference)

    def _setup_scorer(self, scorer: Scorer | None) -> None:
        if scorer is None:
            from medo1.verify import load_verifier

            scorer = RewardScorer(load_verifier(self.cfg.verifier), overlong=self.cfg.overlong())
        self.scorer = scorer

    def _setup_outputs(self, skipped: list[dict]) -> None:
        """Resume from the latest checkpoint; the main process's metrics log and failure records."""
        acc = self.accelerator
        self.start_step = 0
        if self.resume_from is not None:
            acc.load_state(str(self.resume_from))
            self.start_step = checkpoint_step(self.resume_from)
        if acc.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            write_json(self.out / "ppo.skipped.json", skipped)
            self.metrics = MetricsLog(self.out, resume_step=self.start_step if self.resume_from else None,
                                      total_steps=self.num_steps)
            self.failed = JsonlWriter(self.out / "ppo.failed.jsonl")

    def _prepare_reference(self, reference):
        if self.accelerator.state.deepspeed_plugin is not None:
            from trl.models import prepare_deepspeed

            return prepare_deepspeed(reference, self.accelerator)
        return reference.to(self.accelerator.device)

    # ------------------------------------------------------------ rollout

    def generate(self, queries: list[list[int]]) -> list[list[int]]:
        """Sampled responses (token ids, up to and including EOS) to the prompts. Under ZeRO-3 only the
        policy's parameters are gathered (not the value model's), and with them whole on every process
        generation needs no lock-step between processes (synced_gpus off)."""
        from medo1.train.ppo.rollout import policy_for_generation

        with policy_for_generation(self.model, self.accelerator, zero3=self.zero3) as policy:
            return sample_responses(
                policy, queries, pad_id=self.tokenizer.pad_token_id, eos_ids=self.eos_ids,
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

        texts, finished, response_lengths = decode_responses(self.tokenizer, responses, self.eos_ids)
        scored = self.scorer.score(texts, [self.problems[i].answer for i in mine], finished, response_lengths)
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

        failures = [{"id": self.problems[i].id, "step": step + 1, "reason": error}
                    for i, error in zip(mine, scored.errors) if error is not None]
        if self.world > 1:  # every process's failures reach the one file the main process writes
            from accelerate.utils import gather_object

            failures = gather_object(failures)
        if self.accelerator.is_main_process:
            for failure in failures:
                self.failed.write(failure)
        valid = ok.float()
        terms = {"correct_rate": 0.0, **scored.metrics(watch=False),
                 "truncated_rate": 1.0 - sum(finished) / len(finished)}
        local = {
            "reward": (scores * valid).sum() / valid.sum().clamp(min=1),
            **{k: torch.tensor(float(v), device=device) for k, v in terms.items()},
            "kl": (kl.sum(1) * valid).sum() / valid.sum().clamp(min=1),
            "kl_per_token": masked_mean(kl, mask),
            "entropy": masked_mean(ev["entropy"], mask),
            "response_length": lengths.float().mean(),
            "value_mean": masked_mean(ev["values"], mask),
            "return_mean": masked_mean(returns, mask),
            **stats,
        }
        metrics = {k: acc.reduce(v.detach().float().reshape(1), reduction="mean").item() for k, v in local.items()}
        # the reward-hacking watch: its tallies summed over the processes, then divided (exact rates)
        watch = {k: acc.reduce(torch.tensor([float(v)], device=device), reduction="sum").item()
                 for k, v in scored.watch_counts().items()}
        metrics.update(watch_metrics(watch) if watch else {})
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
                        if acc.sync_gradients and cfg.max_grad_norm and acc.state.deepspeed_plugin is None:
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
            if acc.is_main_process and ((step + 1) % cfg.logging_steps == 0 or step + 1 == self.num_steps):
                self.metrics.log(step + 1, metrics)
                bar.set_postfix(reward=f"{metrics['reward']:.3f}", correct=f"{metrics['correct_rate']:.2f}",
                                kl=f"{metrics['kl']:.3f}", refresh=False)
            bar.update(1)
            if checkpoint_due(step + 1, self.num_steps, cfg.save_steps, cfg.keep_checkpoints):
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
    run_module(PPOConfig, train_ppo, argv)

