"""Stage 3 alternatives on TRL: GRPO and RLOO with the verifier reward as `reward_funcs`, and DPO on
pairs of verified responses (the paper compares RLOO with k=2 and DPO with 5 samples per problem).

    medo1 rl --algo rloo --problems rl.jsonl --model ckpt/sft --out ckpt/rloo
    medo1 rl --algo dpo  --problems rl.jsonl --model ckpt/sft --out ckpt/dpo
    accelerate launch --config_file configs/accelerate/zero3.yaml -m medo1.train.trl_rl --algo grpo ...

GRPO / RLOO: a verification that fails (the judge is down, no verdict) gives its sample no reward,
so advantage 0 and no policy-gradient signal (medo1.train.reward.trl_reward_func); each is recorded
as it happens in `<out>/<algo>.failed.jsonl` with the problem id, step and reason (from every
process), and the main process's count goes into `medo1_<algo>.json`.

DPO runs in two resumable parts: sampling (`<out>/dpo_pairs.jsonl`: one chosen/rejected pair per
problem with a correct and a well-formed wrong response, see `pick_pair`; problems without one go to
`<out>/dpo_pairs.failed.jsonl` with the reason; a re-run samples only the problems not done yet),
then TRL's DPOTrainer on the pairs (checkpoints; `--resume` continues it).
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from medo1.errors import Medo1Error
from medo1.jsonl import JsonlWriter, StageOutput, read_jsonl
from medo1.llm.sampling import owned_fields, unowned_defaults
from medo1.records import Record
from medo1.train.common import (
    KEEP_CHECKPOINTS_HELP,
    MetricsCallback,
    bf16_supported,
    check_out_dir,
    checkpoints_while_training,
    prune_checkpoints,
    resolve_model_path,
    split_batch,
    warmup_args,
    world_size,
    write_json,
)
from medo1.train.data import load_problems, prompt_ids, prompt_messages
from medo1.train.ppo import Scorer, eos_token_ids, sample_responses
from medo1.train.reward import RewardScorer, trl_reward_func
from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, REWARD_WRONG

ALGOS = ("grpo", "rloo", "dpo")


@dataclass
class TRLRLSettings:
    """GRPO / RLOO / DPO settings. The RL defaults follow the paper's PPO run where they carry over
    (lr 5e-7, batch 128, KL beta 0.03, temperature 0.5, responses up to ~1300 tokens)."""

    algo: str = field(metadata={"help": "grpo | rloo | dpo", "choices": list(ALGOS)})
    problems: str = field(
        metadata={"help": "RL problems: .jsonl/.json (ours or medical-o1 verifiable problems) or a HF dataset id."},
    )
    model: str = field(metadata={"help": "The SFT model: a checkpoint directory, `hf:<path-or-repo>` or `embedded`."})
    out: str = field(metadata={"help": "Output directory: the trained model, checkpoints, metrics.jsonl."})
    verifier: str = field(
        default="match",
        metadata={"help": "Verifier spec: match, judge:<model spec> or classifier:<path>."},
    )
    learning_rate: float = field(default=5e-7, metadata={"help": "Learning rate (paper, RL: 5e-7)."})
    batch_size: int = field(
        default=128,
        metadata={"help": "Per optimizer step, all devices: completions (grpo, rloo) or pairs (dpo)."},
    )
    micro_batch_size: int = field(default=8, metadata={"help": "Sequences (or pairs) per forward pass on one device."})
    num_generations: int | None = field(
        default=None,
        metadata={"help": "Samples per problem: rloo 2 (paper's k), grpo 8 (TRL's default), dpo 5 (paper)."},
    )
    temperature: float = field(default=0.5, metadata={"help": "Sampling temperature (paper: 0.5)."})
    max_new_tokens: int = field(default=1300, metadata={"help": "Longest response in tokens (paper: ~1300)."})
    kl_coef: float = field(
        default=0.03,
        metadata={"help": "KL beta to the SFT model for grpo / rloo (paper, PPO: 0.03)."},
    )
    dpo_beta: float = field(default=0.1, metadata={"help": "DPO beta (TRL's default)."})
    warmup_ratio: float = field(
        default=0.0,
        metadata={"help": "Fraction of the optimizer steps for linear warmup, in [0, 1) (TRL's default: none)."},
    )
    epochs: float = field(default=1.0, metadata={"help": "Passes over the problems (dpo: over the pairs)."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many optimizer steps (-1: all epochs)."})
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bf16 mixed precision; default: when the hardware supports it natively."},
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={"help": "Recompute activations in backward: less memory, slower."},
    )
    logging_steps: int = field(default=1, metadata={"help": "Optimizer steps between metric lines."})
    save_steps: int = field(default=50, metadata={"help": "Optimizer steps between checkpoints."})
    keep_checkpoints: int = field(default=0, metadata={"help": KEEP_CHECKPOINTS_HELP})
    resume: bool = field(default=False, metadata={"help": "Continue from the latest checkpoint in --out."})
    seed: int = field(default=42, metadata={"help": "Random seed."})

    def generations(self) -> int:
        return self.num_generations or {"rloo": 2, "grpo": 8, "dpo": 5}[self.algo]


def _trainer_args(s: TRLRLSettings, config_cls, **extra):
    micro, accumulation = split_batch(s.batch_size, s.micro_batch_size)
    bf16 = bf16_supported() if s.bf16 is None else s.bf16
    return config_cls(
        output_dir=s.out,
        learning_rate=s.learning_rate,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accumulation,
        num_train_epochs=s.epochs,
        max_steps=s.max_steps,
        bf16=bf16,
        gradient_checkpointing=s.gradient_checkpointing,
        logging_steps=s.logging_steps,
        save_strategy="steps",
        save_steps=s.save_steps,
        save_total_limit=checkpoints_while_training(s.keep_checkpoints),
        report_to="none",
        seed=s.seed,
        use_cpu=not torch.cuda.is_available(),
        **warmup_args(s.warmup_ratio),
        **extra,
    )


def _say(message: str) -> None:
    from accelerate import PartialState

    if PartialState().is_main_process:
        print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- GRPO / RLOO


def online_args(s: TRLRLSettings, config_cls, k: int):
    """GRPOConfig / RLOOConfig for `s`, sampling at plain temperature. TRL builds its GenerationConfig
    from temperature/top_p/top_k/min_p/repetition_penalty and leaves every other field None, which
    transformers v5 fills from the checkpoint's generation_config.json (TRL's own override of the
    model's config only runs on transformers < 5): `generation_kwargs` owns those fields too."""
    return _trainer_args(
        s, config_cls, num_generations=k, max_completion_length=s.max_new_tokens, temperature=s.temperature,
        top_p=1.0, top_k=0, min_p=0.0, repetition_penalty=1.0,
        generation_kwargs=owned_fields(do_sample=True, temperature=s.temperature), beta=s.kl_coef,
        disable_dropout=True,
    )


def train_online(s: TRLRLSettings, reward_func=None) -> Path:
    """GRPO or RLOO with the verifier reward; `reward_func` replaces it (a TRL reward function)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer
    from datasets import Dataset

    out = Path(s.out)
    resume_from = check_out_dir(out, s.resume)
    problems = load_problems(s.problems)
    model_path = resolve_model_path(s.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    k = s.generations()
    if s.batch_size % k:
        raise Medo1Error(f"batch size {s.batch_size} must be a multiple of --num-generations {k}")

    failures = FailedVerifications(out / f"{s.algo}.failed.jsonl")
    if reward_func is None:
        from medo1.verify import load_verifier

        reward_func = trl_reward_func(load_verifier(s.verifier), eos_token_ids(tokenizer, model), failures)
    dataset = Dataset.from_list([{"prompt": prompt_messages(p.question), "answer": p.answer, "id": p.id}
                                 for p in problems])
    config_cls, trainer_cls = (GRPOConfig, GRPOTrainer) if s.algo == "grpo" else (RLOOConfig, RLOOTrainer)
    args = online_args(s, config_cls, k)
    if leaks := unowned_defaults(model):
        _say(f"warning: {model_path}/generation_config.json sets {', '.join(sorted(leaks))}; TRL's generate() "
             "applies them on top of plain temperature sampling: remove them for exact on-policy samples")
    _say(f"{s.algo}: {len(problems)} problems, {k} samples each, {s.batch_size} completions per step, "
         f"{'bf16 mixed' if args.bf16 else 'fp32'}")
    trainer = trainer_cls(model=model, reward_funcs=reward_func, args=args, train_dataset=dataset,
                          processing_class=tokenizer, callbacks=[MetricsCallback(out)])
    started = time.time()
    try:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    finally:
        failures.close()
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        write_json(out / f"medo1_{s.algo}.json", {"settings": asdict(s), "problems": len(problems),
                                                 "steps": trainer.state.global_step,
                                                 "failed_verifications": failures.count,
                                                 "seconds": round(time.time() - started, 1)})
        prune_checkpoints(out, s.keep_checkpoints)  # the final weights are written: resuming is over
    return out


class FailedVerifications:
    """Verifications that failed during GRPO / RLOO (a sample without reward, so without gradient), one
    line each in `<out>/<algo>.failed.jsonl` as they happen: id, step, reference answer, reason. Every
    process appends its own (one short flushed line per write)."""

    def __init__(self, path: Path):
        self.path = path
        self.count = 0  # this process's, in this run
        self._file: JsonlWriter | None = None

    def append(self, failure: dict) -> None:
        if self._file is None:
            self._file = JsonlWriter(self.path)
        self._file.write(failure)
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


# ---------------------------------------------------------------- DPO


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
    chosen/rejected pair per problem. Resumable: problems already in either output are skipped."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from tqdm.auto import tqdm

    out = Path(s.out)
    pairs_path = out / "dpo_pairs.jsonl"
    # Like every data stage, sampling picks up where it stopped, but only with the same sampling settings.
    sampling = {"model": s.model, "verifier": s.verifier, "samples": s.generations(), "temperature": s.temperature,
                "max_new_tokens": s.max_new_tokens, "seed": s.seed, "rejected": "well-formed wrong"}
    settings_path = out / "dpo_sampling.json"
    if settings_path.exists() and json.loads(settings_path.read_text()) != sampling:
        raise Medo1Error(f"{out} holds DPO pairs sampled with other settings ({settings_path}); choose another --out")
    write_json(settings_path, sampling)
    problems = load_problems(s.problems)
    model_path = resolve_model_path(s.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).to(device)
    eos = eos_token_ids(tokenizer, model)
    k = s.generations()
    own_scorer = scorer is None
    if own_scorer:
        from medo1.verify import load_verifier

        scorer = RewardScorer(load_verifier(s.verifier))
    bf16 = bf16_supported() if s.bf16 is None else s.bf16
    autocast = (lambda: torch.autocast(device, dtype=torch.bfloat16)) if bf16 else None
    torch.manual_seed(s.seed)
    try:
        with StageOutput(pairs_path) as output:
            todo = [p for p in problems if not output.done(p.id)]
            bar = tqdm(total=len(problems), initial=len(problems) - len(todo), desc="dpo sampling", dynamic_ncols=True)
            for i in range(0, len(todo), problems_per_batch):
                chunk = todo[i : i + problems_per_batch]
                queries = [prompt_ids(tokenizer, p.question) for p in chunk for _ in range(k)]
                responses = sample_responses(
                    model, queries, pad_id=tokenizer.pad_token_id, eos_ids=eos, temperature=s.temperature,
                    max_new_tokens=s.max_new_tokens, batch_size=len(queries),
                    **({"autocast": autocast} if autocast else {}),
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
    finally:
        if own_scorer:
            scorer.close()
    return pairs_path


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
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    args = _trainer_args(s, DPOConfig, beta=s.dpo_beta, max_length=None, disable_dropout=True)
    _say(f"dpo: {len(pairs)} pairs, batch {s.batch_size}, {world_size()} process(es), "
         f"{'bf16 mixed' if args.bf16 else 'fp32'}")
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=[MetricsCallback(out)])
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        write_json(out / "medo1_dpo.json", {"settings": asdict(s), "pairs": len(pairs),
                                            "steps": trainer.state.global_step})
        prune_checkpoints(out, s.keep_checkpoints)
    return out


def train_trl_rl(s: TRLRLSettings) -> Path:
    """GRPO, RLOO or DPO from `s.model` on `s.problems`; returns the output directory (the trained model)."""
    if s.algo not in ALGOS:
        raise Medo1Error(f"--algo {s.algo!r}: expected one of {', '.join(ALGOS)} (or ppo)")
    if s.temperature <= 0:
        raise Medo1Error(f"temperature {s.temperature}: {s.algo} samples, so it must be above 0 (paper: 0.5)")
    warmup_args(s.warmup_ratio)  # a bad ratio fails before DPO samples for hours
    return train_dpo(s) if s.algo == "dpo" else train_online(s)


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.train.trl_rl --algo grpo|rloo|dpo ...` (and under `accelerate launch`)."""
    from transformers import HfArgumentParser

    (settings,) = HfArgumentParser(TRLRLSettings).parse_args_into_dataclasses(args=argv)
    try:
        print(train_trl_rl(settings))
    except Medo1Error as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
