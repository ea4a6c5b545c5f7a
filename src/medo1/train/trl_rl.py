"""Stage 3 alternatives on TRL: GRPO and RLOO with the verifier reward as `reward_funcs`, and DPO on
pairs of verified responses (the paper compares RLOO with k=2 and DPO with 5 samples per problem).

    medo1 rl --algo rloo --problems rl.jsonl --model ckpt/sft --out ckpt/rloo
    medo1 rl --algo dpo  --problems rl.jsonl --model ckpt/sft --out ckpt/dpo
    accelerate launch --config_file configs/accelerate/zero3.yaml -m medo1.train.trl_rl --algo grpo ...

GRPO / RLOO: a verification that fails (the judge is down, no verdict) gives its sample no reward,
so advantage 0 and no policy-gradient signal (medo1.train.reward.trl_reward_func); each is recorded
as it happens in `<out>/<algo>.failed.jsonl` with the problem id, step and reason (from every
process), and the main process's count goes into `medo1_<algo>.json`.

DPO (medo1.train.dpo) runs in two resumable parts: sampling (`<out>/dpo_pairs.jsonl`: one chosen/rejected pair per
problem with a correct and a well-formed wrong response, see `pick_pair`; problems without one go to
`<out>/dpo_pairs.failed.jsonl` with the reason; a re-run samples only the problems not done yet),
then TRL's DPOTrainer on the pairs (checkpoints; `--resume` continues it).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from medo1.errors import Medo1Error
from medo1.jsonl import JsonlWriter
from medo1.llm.chat_template import prompt_messages
from medo1.llm.sampling import owned_fields, unowned_defaults
from medo1.train.common import (
    KEEP_CHECKPOINTS_HELP,
    MetricsCallback,
    NoLastCheckpoint,
    bf16_supported,
    check_out_dir,
    checkpoints_while_training,
    prune_checkpoints,
    resolve_model_path,
    run_module,
    split_batch,
    warmup_args,
    write_json,
)
from medo1.train.data import load_problems
from medo1.train.ppo import eos_token_ids
from medo1.train.reward import trl_reward_func
from medo1.verify import Overlong

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
    overlong_buffer: int = field(
        default=0,
        metadata={"help": "grpo / rloo: DAPO's soft overlong penalty: L_cache, the last tokens before max_new_tokens "
                          "over which the reward falls linearly by up to overlong_penalty_factor (DAPO: 4096 of "
                          "20480; 0: off)."},
    )
    overlong_penalty_factor: float = field(
        default=1.0,
        metadata={"help": "grpo / rloo: the overlong penalty at max_new_tokens (DAPO, verl's penalty_factor: 1.0)."},
    )
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
    use_vllm: bool = field(
        default=False,
        metadata={"help": "grpo / rloo: generate with vLLM inside the training processes (TRL's colocate mode; "
                          "needs vllm and GPUs)."},
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.3,
        metadata={"help": "With use_vllm: share of each GPU's memory vLLM takes (TRL's default)."},
    )
    logging_steps: int = field(default=1, metadata={"help": "Optimizer steps between metric lines."})
    save_steps: int = field(default=50, metadata={"help": "Optimizer steps between checkpoints."})
    keep_checkpoints: int = field(default=0, metadata={"help": KEEP_CHECKPOINTS_HELP})
    resume: bool = field(default=False, metadata={"help": "Continue from the latest checkpoint in --out."})
    seed: int = field(default=42, metadata={"help": "Random seed."})

    def generations(self) -> int:
        return self.num_generations or {"rloo": 2, "grpo": 8, "dpo": 5}[self.algo]

    def overlong(self) -> Overlong | None:
        """The overlong penalty's settings, None when it is off."""
        if not self.overlong_buffer:
            return None
        return Overlong(self.max_new_tokens, self.overlong_buffer, self.overlong_penalty_factor)


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
    model's config only runs on transformers < 5): `generation_kwargs` owns those fields too.

    With `use_vllm`, vLLM generates in each training process (colocate mode) from the same sampling
    fields, which TRL passes to vLLM's SamplingParams; `generation_kwargs` are then vLLM's, and empty."""
    sampling = (dict(use_vllm=True, vllm_mode="colocate", vllm_gpu_memory_utilization=s.vllm_gpu_memory_utilization,
                     generation_kwargs={})
                if s.use_vllm else dict(generation_kwargs=owned_fields(do_sample=True, temperature=s.temperature)))
    return _trainer_args(
        s, config_cls, num_generations=k, max_completion_length=s.max_new_tokens, temperature=s.temperature,
        top_p=1.0, top_k=0, min_p=0.0, repetition_penalty=1.0, beta=s.kl_coef, disable_dropout=True, **sampling,
    )


def train_online(s: TRLRLSettings, reward_func=None) -> Path:
    """GRPO or RLOO with the verifier reward; `reward_func` replaces it (a TRL reward function)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    out = Path(s.out)
    if s.use_vllm and importlib.util.find_spec("vllm") is None:
        raise Medo1Error(f"{s.algo} with use_vllm needs vLLM in this environment: pip install vllm")
    resume_from = check_out_dir(out, s.resume)
    problems = load_problems(s.problems)
    model_path = resolve_model_path(s.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    k = s.generations()
    if s.batch_size % k:
        raise Medo1Error(f"batch size {s.batch_size} must be a multiple of --num-generations {k}")
    config_cls, trainer_cls = (GRPOConfig, GRPOTrainer) if s.algo == "grpo" else (RLOOConfig, RLOOTrainer)
    # The model loads after the TrainingArguments exist: under ZeRO-3 they carry the DeepSpeed config, and
    # with it each process loads only its shard (zero3_init_flag).
    args = online_args(s, config_cls, k)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)

    failures = FailedVerifications(out / f"{s.algo}.failed.jsonl")
    if reward_func is None:
        from medo1.verify import load_verifier

        reward_func = trl_reward_func(load_verifier(s.verifier), eos_token_ids(tokenizer, model), failures,
                                      overlong=s.overlong())
    dataset = Dataset.from_list([{"prompt": prompt_messages(p.question), "answer": p.answer, "id": p.id}
                                 for p in problems])
    if leaks := unowned_defaults(model):
        _say(f"warning: {model_path}/generation_config.json sets {', '.join(sorted(leaks))}; TRL's generate() "
             "applies them on top of plain temperature sampling: remove them for exact on-policy samples")
    _say(f"{s.algo}: {len(problems)} problems, {k} samples each, {s.batch_size} completions per step, "
         f"{'bf16 mixed' if args.bf16 else 'fp32'}")
    trainer = trainer_cls(model=model, reward_funcs=reward_func, args=args, train_dataset=dataset,
                          processing_class=tokenizer,
                          callbacks=[MetricsCallback(out), NoLastCheckpoint(s.keep_checkpoints)])
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


def train_trl_rl(s: TRLRLSettings) -> Path:
    """GRPO, RLOO or DPO from `s.model` on `s.problems`; returns the output directory (the trained model)."""
    if s.algo not in ALGOS:
        raise Medo1Error(f"--algo {s.algo!r}: expected one of {', '.join(ALGOS)} (or ppo)")
    if s.temperature <= 0:
        raise Medo1Error(f"temperature {s.temperature}: {s.algo} samples, so it must be above 0 (paper: 0.5)")
    warmup_args(s.warmup_ratio)  # a bad ratio fails before DPO samples for hours
    if s.use_vllm and s.algo == "dpo":
        raise Medo1Error("use_vllm applies to grpo and rloo (TRL's online generation); dpo samples its pairs itself")
    if s.overlong_buffer and s.algo == "dpo":
        raise Medo1Error("overlong_buffer applies to grpo and rloo (a reward); dpo pairs a correct response with a "
                         "well-formed wrong one")
    s.overlong()  # bad overlong settings fail before anything loads
    if s.algo == "dpo":
        from medo1.train.dpo import train_dpo

        return train_dpo(s)
    return train_online(s)


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.train.trl_rl --algo grpo|rloo|dpo ...` (and under `accelerate launch`)."""
    run_module(TRLRLSettings, train_trl_rl, argv)


if __name__ == "__main__":
    main()
