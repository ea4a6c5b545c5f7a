"""Stage 3 alternatives on TRL: GRPO and RLOO with the verifier reward as `reward_funcs`, and DPO on
pairs of verified responses (the paper compares RLOO with k=2 and DPO with 5 samples per problem).

    medo1 rl --algo rloo --problems rl.jsonl --model ckpt/sft --out ckpt/rloo
    medo1 rl --algo dpo  --problems rl.jsonl --model ckpt/sft --out ckpt/dpo
    accelerate launch --config_file configs/accelerate/zero3.yaml -m medo1.train.trl_rl --algo grpo ...

GRPO's variants are TRL's GRPOConfig fields (medo1.train.rl_config.TRLRLSettings): `loss_type` grpo | dr_grpo
| dapo | bnpo (TRL's default, and ours, is dapo), `scale_rewards` group | batch | none, the clip `clip_range` and
DAPO's clip-higher `clip_range_high`, `mask_truncated_completions` and `num_iterations`; RLOO takes the last four.

    medo1 rl --algo grpo --loss-type dr_grpo --scale-rewards none --kl-coef 0 ...                        # Dr. GRPO
    medo1 rl --algo grpo --loss-type dapo --clip-range-high 0.28 --kl-coef 0 --overlong-buffer 256 ...   # DAPO

TRL has no DAPO dynamic sampling (dropping groups whose rewards are all equal and refilling the batch): such a
group gets advantage 0 (TRL logs their share as `frac_reward_zero_std`), and the pass-rate stage
(medo1.passrate) removes, before RL, the problems the policy always or never solves, where those groups come from.

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
import time
from dataclasses import asdict
from pathlib import Path

import torch

from medo1.errors import Medo1Error
from medo1.jsonl import JsonlWriter
from medo1.llm.chat_template import prompt_messages
from medo1.llm.sampling import owned_fields, unowned_defaults
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
    write_json,
)
from medo1.train.data import load_problems
from medo1.train.ppo import eos_token_ids
from medo1.train.reward import trl_reward_func
from medo1.train.rl_config import TRL_ALGOS as ALGOS
from medo1.train.rl_config import TRLRLSettings

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
    return trainer_args(
        s, config_cls, num_generations=k, max_completion_length=s.max_new_tokens, temperature=s.temperature,
        top_p=1.0, top_k=0, min_p=0.0, repetition_penalty=1.0, beta=s.kl_coef, disable_dropout=True,
        **s.variant_args(), **sampling,
    )


def train_online(s: TRLRLSettings, reward_func=None) -> Path:
    """GRPO or RLOO with the verifier reward; `reward_func` replaces it (a TRL reward function)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    out = Path(s.out)
    if s.use_vllm and importlib.util.find_spec("vllm") is None:
        raise Medo1Error(f"{s.algo} with use_vllm needs vLLM in this environment: pip install vllm")
    k = s.generations()
    if k < 2:
        raise Medo1Error(f"--num-generations {k}: {s.algo} compares each response with the others of its problem, "
                         "so it needs at least 2")
    if s.batch_size % k:
        raise Medo1Error(f"batch size {s.batch_size} must be a multiple of --num-generations {k}")
    resume_from = check_out_dir(out, s.resume)
    problems = load_problems(s.problems)
    model_path = resolve_model_path(s.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
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
        say(f"warning: {model_path}/generation_config.json sets {', '.join(sorted(leaks))}; TRL's generate() "
             "applies them on top of plain temperature sampling: remove them for exact on-policy samples")
    say(f"{s.algo}: {len(problems)} problems, {k} samples each, {s.batch_size} completions per step, "
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
    s.variant_args()  # so do GRPO-family settings the algorithm does not have
    if s.algo == "dpo":
        from medo1.train.dpo import train_dpo

        return train_dpo(s)
    return train_online(s)


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.train.trl_rl --algo grpo|rloo|dpo ...` (and under `accelerate launch`)."""
    run_module(TRLRLSettings, train_trl_rl, argv)


if __name__ == "__main__":
    main()
