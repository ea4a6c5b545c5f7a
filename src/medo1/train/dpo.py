"""DPO on verified pairs: sample `num_generations` responses per problem with the SFT model, verify them,
keep one (correct, well-formed wrong) pair per problem, then TRL's DPOTrainer on the pairs.

Sampling is resumable and runs on every process of a launch: each samples its share of the problems
(every `world`-th one) on its own device (`cuda:<local rank>`), writes `dpo_pairs.rank<r>.jsonl`, and the
main process merges the shares into `dpo_pairs.jsonl` (and `dpo_pairs.failed.jsonl`) in problem order.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

import torch

from medo1.errors import Medo1Error
from medo1.jsonl import StageOutput, failed_path, read_jsonl
from medo1.llm.chat_template import prompt_ids, prompt_messages
from medo1.llm.hf import whole_weights
from medo1.records import Record
from medo1.train.common import (
    MetricsCallback,
    NoLastCheckpoint,
    barrier,
    bf16_supported,
    check_out_dir,
    process_layout,
    prune_checkpoints,
    resolve_model_path,
    say,
    trainer_args,
    world_size,
    write_json,
)
from medo1.train.data import load_problems
from medo1.train.ppo import Scorer, eos_token_ids, sample_responses
from medo1.train.reward import RewardScorer
from medo1.train.rl_config import TRLRLSettings
from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, REWARD_WRONG


class DPOPair(Record):
    """A problem with one correct (chosen) and one well-formed wrong (rejected) sampled response."""

    id: str  # the problem id
    question: str
    answer: str
    chosen: str
    rejected: str
    chosen_reward: float
    rejected_reward: float
    samples: int


def pick_pair(rewards: list[float | None], rng: random.Random) -> tuple[int, int] | str:
    """(chosen, rejected) indices, or why the problem has no pair: a correct response (reward 1.0) against a
    well-formed wrong one (0.1), each drawn at random (`rng`) among its equals. A cut-off or unformatted
    response (0.0) is never the rejected one: against it a pair teaches finishing and formatting (often:
    being shorter), not correctness, so a problem without a well-formed wrong response has no pair. A
    response whose verification failed (None) is never used."""
    correct = [i for i, r in enumerate(rewards) if r == REWARD_CORRECT]
    wrong = [i for i, r in enumerate(rewards) if r == REWARD_WRONG]
    unformatted = sum(r == REWARD_NO_FORMAT for r in rewards)
    if not correct:
        return f"no correct response among {len(rewards)}"
    if not wrong:
        return (f"no well-formed wrong response among {len(rewards)} ({len(correct)} correct, "
                f"{unformatted} cut off or unformatted)")
    return rng.choice(correct), rng.choice(wrong)


def sample_dpo_pairs(s: TRLRLSettings, scorer: Scorer | None = None, *, problems_per_batch: int = 8) -> Path:
    """Sample `num_generations` responses per problem with the SFT model, verify them, and write a
    chosen/rejected pair per problem. Resumable: problems already in either output are skipped. Under a
    launch of several processes each samples its share on its own device; the main process merges."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    world, rank, local_rank = process_layout()
    main = rank == 0
    out = Path(s.out)
    pairs_path = out / "dpo_pairs.jsonl"
    # Like every data stage, sampling picks up where it stopped, but only with the same sampling settings.
    sampling = {"model": s.model, "verifier": s.verifier, "samples": s.generations(), "temperature": s.temperature,
                "max_new_tokens": s.max_new_tokens, "seed": s.seed, "rejected": "well-formed wrong"}
    settings_path = out / "dpo_sampling.json"
    if settings_path.exists() and json.loads(settings_path.read_text()) != sampling:
        raise Medo1Error(f"{out} holds DPO pairs sampled with other settings ({settings_path}); choose another --out")
    barrier(world)  # every process has checked before the main one writes the settings
    if main:
        write_json(settings_path, sampling)
    problems = load_problems(s.problems)
    with StageOutput(pairs_path) as merged:  # what earlier runs finished, whatever their process count
        todo = [p for i, p in enumerate(problems) if i % world == rank and not merged.done(p.id)]
    model_path = resolve_model_path(s.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    with whole_weights():  # generation wants the whole model on this device, even in a ZeRO-3 launch
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).to(device)
    own_scorer = scorer is None
    if own_scorer:
        from medo1.verify import load_verifier

        scorer = RewardScorer(load_verifier(s.verifier))  # a classifier verifier lands on this process's GPU
    bf16 = bf16_supported() if s.bf16 is None else s.bf16
    autocast = (lambda: torch.autocast(device.split(":")[0], dtype=torch.bfloat16)) if bf16 else None
    torch.manual_seed(s.seed + rank)
    share = pairs_path if world == 1 else out / f"dpo_pairs.rank{rank}.jsonl"
    try:
        with StageOutput(share) as output:
            _sample(s, model, tokenizer, scorer, [p for p in todo if not output.done(p.id)], output, autocast,
                    problems_per_batch, show=main, total=len(todo))
    finally:
        if own_scorer:
            scorer.close()
        del model
    if world > 1:
        barrier(world)
        if main:
            merge_shares(pairs_path, [out / f"dpo_pairs.rank{r}.jsonl" for r in range(world)], problems)
        barrier(world)
    return pairs_path


def _sample(s, model, tokenizer, scorer, todo, output: StageOutput, autocast, problems_per_batch: int, *,
            show: bool, total: int) -> None:
    from tqdm.auto import tqdm

    eos = eos_token_ids(tokenizer, model)
    k = s.generations()
    bar = tqdm(total=total, initial=total - len(todo), desc="dpo sampling", dynamic_ncols=True, disable=not show)
    for i in range(0, len(todo), problems_per_batch):
        chunk = todo[i : i + problems_per_batch]
        queries = [prompt_ids(tokenizer, p.question) for p in chunk for _ in range(k)]
        responses = sample_responses(
            model, queries, pad_id=tokenizer.pad_token_id, eos_ids=eos, temperature=s.temperature,
            max_new_tokens=s.max_new_tokens, batch_size=len(queries), **({"autocast": autocast} if autocast else {}),
        )
        texts = tokenizer.batch_decode(responses, skip_special_tokens=True)
        finished = [bool(r) and r[-1] in eos for r in responses]
        scores = scorer.score(texts, [p.answer for p in chunk for _ in range(k)], finished)
        for j, problem in enumerate(chunk):
            rewards = scores.rewards[j * k : (j + 1) * k]
            errors = [e for e in scores.errors[j * k : (j + 1) * k] if e]
            picked = pick_pair(rewards, random.Random(f"{s.seed}-{problem.id}"))
            if isinstance(picked, str):
                reason = picked + (f" ({len(errors)} failed verification: {errors[0]})" if errors else "")
                output.fail(problem.id, reason, rewards=rewards)
                continue
            a, b = (j * k + picked[0], j * k + picked[1])
            output.write(DPOPair(id=problem.id, question=problem.question, answer=problem.answer,
                                 chosen=texts[a], rejected=texts[b], chosen_reward=scores.rewards[a],
                                 rejected_reward=scores.rewards[b], samples=k))
        bar.update(len(chunk))
    bar.close()


def merge_shares(pairs_path: Path, shares: list[Path], problems) -> None:
    """Append the processes' pairs and failures to the merged files, in problem order, then drop the shares."""
    rows: dict[str, tuple[str, dict]] = {}
    for share in shares:
        for path, kind in ((share, "ok"), (failed_path(share), "failed")):
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        row = json.loads(line)
                        rows[row["id"]] = (kind, row)
    with StageOutput(pairs_path) as merged:
        for p in problems:
            if p.id in rows and not merged.done(p.id):
                kind, row = rows[p.id]
                if kind == "ok":
                    merged.write(row)
                else:
                    merged.failed.write(row)
    for share in shares:
        share.unlink(missing_ok=True)
        failed_path(share).unlink(missing_ok=True)


def train_dpo(s: TRLRLSettings, scorer: Scorer | None = None) -> Path:
    """Sample and verify pairs (resumable), then TRL DPO from the SFT model on them."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    out = Path(s.out)
    resume_from = check_out_dir(out, s.resume)
    pairs_path = sample_dpo_pairs(s, scorer)
    pairs = read_jsonl(pairs_path, DPOPair) if pairs_path.stat().st_size else []
    if not pairs:
        raise Medo1Error(f"no DPO pair: no problem had both a correct and a well-formed wrong response "
                         f"(see {pairs_path.with_name('dpo_pairs.failed.jsonl')})")
    dataset = Dataset.from_list([
        {"prompt": prompt_messages(p.question), "chosen": [{"role": "assistant", "content": p.chosen}],
         "rejected": [{"role": "assistant", "content": p.rejected}]} for p in pairs
    ])
    model_path = resolve_model_path(s.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # The model to train loads after the TrainingArguments exist (and after sampling, whose model is whole on
    # each device): under ZeRO-3 they carry the DeepSpeed config, so each process loads only its shard.
    args = trainer_args(s, DPOConfig, beta=s.dpo_beta, max_length=None, disable_dropout=True)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    say(f"dpo: {len(pairs)} pairs, batch {s.batch_size}, {world_size()} process(es), "
         f"{'bf16 mixed' if args.bf16 else 'fp32'}")
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=[MetricsCallback(out), NoLastCheckpoint(s.keep_checkpoints)])
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        write_json(out / "medo1_dpo.json", {"settings": asdict(s), "pairs": len(pairs),
                                            "steps": trainer.state.global_step})
        prune_checkpoints(out, s.keep_checkpoints)  # the final weights are written: resuming is over
    return out
