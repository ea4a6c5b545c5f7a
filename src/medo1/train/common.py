"""Pieces every training stage shares: where a model is, which precision to train in, the metrics
log (`<out>/metrics.jsonl` + TensorBoard under `<out>/runs`) and checkpoint folders."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from medo1.errors import Medo1Error

METRICS_FILE = "metrics.jsonl"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


# ---------------------------------------------------------------- models


def resolve_model_path(spec: str) -> str:
    """What `from_pretrained` accepts for a model spec: `embedded`, `hf:<path-or-repo>`, a checkpoint
    directory or a hub repo id."""
    from medo1.embedded import resolve_checkpoint

    return str(resolve_checkpoint(spec))


def bf16_supported() -> bool:
    """Whether to train in bf16 mixed precision: the hardware runs bf16 natively (Ampere+ GPUs; CPUs with
    AVX512-BF16 or AMX) and, on a CPU, a bf16 matmul measured not slower than fp32 (`medo1.precision`).
    Decided once per process and said in one line on stderr."""
    from medo1.precision import say_precision, training_device

    return say_precision(training_device()).bf16


def world_size() -> int:
    """Processes in this run (`accelerate launch` / `torchrun` set WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def process_layout() -> tuple[int, int, int]:
    """(processes, this one's rank, its local rank) of the launch this process belongs to, joining the process
    group first (accelerate's PartialState). Read from torch.distributed itself: on CPU-only machines
    accelerate 1.x reports a single process even when `accelerate launch` / `torchrun` started several."""
    import torch.distributed as dist
    from accelerate import PartialState

    PartialState()
    if not (dist.is_available() and dist.is_initialized()):
        return 1, 0, 0
    return dist.get_world_size(), dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))


def barrier(processes: int) -> None:
    """Wait for every process of the launch (nothing to wait for with one)."""
    if processes > 1:
        import torch.distributed as dist

        dist.barrier()


def split_batch(batch_size: int, micro_batch_size: int, processes: int | None = None) -> tuple[int, int]:
    """(per-device micro batch, gradient accumulation steps) whose product over all processes is exactly
    `batch_size`. The micro batch is lowered to the nearest size that divides the per-process batch."""
    processes = processes or world_size()
    if batch_size < processes or batch_size % processes:
        raise Medo1Error(f"batch size {batch_size} must be a multiple of the number of processes ({processes})")
    per_process = batch_size // processes
    micro = max(1, min(micro_batch_size, per_process))
    while per_process % micro:
        micro -= 1
    return micro, per_process // micro


def warmup_args(ratio: float) -> dict[str, float]:
    """The TrainingArguments (SFTConfig, DPOConfig, ...) fields for a linear warmup over `ratio` of the
    optimizer steps, on every supported transformers. 4.x: `warmup_ratio` (`warmup_steps` must be an int);
    5.x: a float `warmup_steps` below 1 is the ratio (`warmup_ratio` is deprecated in 5.0, gone from 5.2)."""
    import transformers
    from packaging.version import Version

    if not 0 <= ratio < 1:  # transformers 5 would read 1.0 as one step
        raise Medo1Error(f"warmup_ratio {ratio}: the fraction of optimizer steps spent warming up, in [0, 1)")
    return {"warmup_steps": ratio} if Version(transformers.__version__).major >= 5 else {"warmup_ratio": ratio}


# ---------------------------------------------------------------- output folders and checkpoints


# Written last into a checkpoint (by transformers' Trainer, by our PPO): a folder without one was cut
# short by a kill and cannot be resumed from.
CHECKPOINT_DONE_FILES = ("trainer_state.json", "medo1_ppo_state.json")
FINAL_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")  # a finished stage's output


def checkpoints(out: str | os.PathLike) -> list[Path]:
    """Complete `<out>/checkpoint-<step>` folders, oldest first."""
    out = Path(out)
    if not out.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in out.iterdir() if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))
             and any((p / name).exists() for name in CHECKPOINT_DONE_FILES)]
    return [p for _, p in sorted(found)]


def last_checkpoint(out: str | os.PathLike) -> Path | None:
    found = checkpoints(out)
    return found[-1] if found else None


def checkpoint_step(path: str | os.PathLike) -> int:
    return int(CHECKPOINT_RE.match(Path(path).name).group(1))


# The checkpoint policy of every training stage. A checkpoint holds the optimizer state (Adam: twice the
# weights) and, for PPO, the value model: ~2 GB for a 135M model, ~100 GB for an 8B one. While a stage
# runs it keeps its newest `max(1, keep)` checkpoints, so a killed run resumes; once its final weights
# (safetensors at the top of the output folder) are written it keeps `keep` of them, none by default.


def checkpoints_while_training(keep: int) -> int:
    """How many checkpoints a running stage keeps (`save_total_limit`): at least the last one."""
    if keep < 0:
        raise Medo1Error(f"keep_checkpoints {keep}: expected 0 or more")
    return max(1, keep)


def prune_checkpoints(out: str | os.PathLike, keep: int | None) -> None:
    """Keep only the newest `keep` checkpoints (None keeps all; 0 removes them all)."""
    if keep is None:
        return
    found = checkpoints(out)
    for old in found[: max(0, len(found) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def check_out_dir(out: str | os.PathLike, resume: bool) -> Path | None:
    """The checkpoint to resume from, or None to start fresh. Refuses to silently train over an earlier run."""
    found = last_checkpoint(out)
    if found is not None and not resume:
        raise Medo1Error(
            f"{out} already holds checkpoints of an earlier run (latest: {found.name}); "
            "pass --resume to continue it, or choose another --out"
        )
    if found is None and not resume and any((Path(out) / name).exists() for name in FINAL_WEIGHTS):
        raise Medo1Error(f"{out} already holds the trained model of a finished run; choose another --out "
                         "(or remove it to train again)")
    return found if resume else None


# ---------------------------------------------------------------- metrics


class MetricsLog:
    """One JSON line per logging step in `<out>/metrics.jsonl` (appended and flushed, so a killed run
    keeps its curve) and the same scalars in TensorBoard under `<out>/runs`. With `total_steps` it also
    watches for reward hacking (medo1.train.hacking.DriftWatch, on the RL metrics uncommitted_rate and
    rewarded_responses; other rows pass by) and prints its warning line on stderr, once; a resumed run
    replays the steps it keeps, silently."""

    def __init__(self, out: str | os.PathLike, *, resume_step: int | None = None, tensorboard: bool = True,
                 total_steps: int | None = None):
        self.path = Path(out) / METRICS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is not None:
            self._drop_after(resume_step)
        elif self.path.exists():
            self.path.unlink()  # a fresh run starts a fresh curve
        self.watch = None
        if total_steps:
            from medo1.train.hacking import DriftWatch

            self.watch = DriftWatch(total_steps)
            for row in read_metrics(self.path.parent):
                self.watch.add(row.get("step", 0), row)
        self._file = open(self.path, "a", encoding="utf-8")
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(Path(out) / "runs"))
            except ImportError:  # tensorboard not installed: the JSONL log is the record
                self._tb = None

    def _drop_after(self, step: int) -> None:
        """Forget lines logged after the checkpoint we resume from: they are about to be redone."""
        if not self.path.exists():
            return
        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line)
            except json.JSONDecodeError:
                continue  # a half-written line from a killed run
        self.path.write_text("".join(k + "\n" for k in kept), encoding="utf-8")

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        row = {"step": step, "time": round(time.time(), 3)}
        row.update({k: _plain(v) for k, v in metrics.items()})
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        if self.watch is not None and (line := self.watch.add(step, row)):
            from tqdm.auto import tqdm

            tqdm.write(line, file=sys.stderr)  # above a progress bar, if one is drawn
        if self._tb is not None:
            for key, value in row.items():
                if key not in ("step", "time") and isinstance(value, (int, float)) and math.isfinite(value):
                    self._tb.add_scalar(key, value, step)
            self._tb.flush()

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_metrics(out: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of `<out>/metrics.jsonl` (for reports and tests)."""
    path = Path(out) / METRICS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class MetricsCallback(TrainerCallback):
    """Sends a Trainer's logs to a MetricsLog, adding training tokens per second between logs; the log
    watches for reward hacking over the trainer's `max_steps` (only RL logs what that watch reads)."""

    def __init__(self, out: str | os.PathLike):
        self.out = out
        self.log_file: MetricsLog | None = None
        self._last: tuple[float, float] | None = None  # (time, tokens seen) at the previous log

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.log_file = MetricsLog(self.out, resume_step=state.global_step if state.global_step else None,
                                       total_steps=state.max_steps)
        self._last = (time.perf_counter(), 0)  # the trainer counts tokens from 0 in every train() call

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.log_file is None or not logs:
            return
        row = dict(logs)
        now, tokens = time.perf_counter(), row.get("num_tokens")
        if tokens is not None and self._last is not None:
            last_time, last_tokens = self._last
            if now > last_time:
                row["tokens_per_second"] = (tokens - last_tokens) / (now - last_time)
            self._last = (now, tokens)
        if "epoch" in row and row["epoch"] is not None:
            row["epoch"] = round(float(row["epoch"]), 4)
        self.log_file.log(state.global_step, row)

    def on_train_end(self, args, state, control, **kwargs):
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


class NoLastCheckpoint(TrainerCallback):
    """With no checkpoint kept (`keep_checkpoints` 0), the Trainer's checkpoint of the last step is skipped: the
    final weights are written right after it and it would be deleted at once (for a 135M model on a CPU that
    save was seconds of writing weights and optimizer state for nothing)."""

    def __init__(self, keep: int):
        self.keep = keep

    def on_step_end(self, args, state, control, **kwargs):
        if self.keep == 0 and state.max_steps > 0 and state.global_step >= state.max_steps:
            control.should_save = False
        return control


def checkpoint_due(step: int, num_steps: int, save_steps: int, keep: int) -> bool:
    """Whether a loop of our own writes a resumable checkpoint after `step` (1-based): every `save_steps` and
    at the end, except at the end when none is kept (the final weights follow and it would be deleted)."""
    if step == num_steps:
        return keep > 0
    return step % save_steps == 0


def write_json(path: str | os.PathLike, value: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def run_module(settings_class: type, train, argv: list[str] | None = None) -> None:
    """The `python -m medo1.train.<x>` entry (also under `accelerate launch`): parse `settings_class` from the
    command line (`--field value`, as HfArgumentParser reads a dataclass), run `train(settings)` and print its
    summary; a Medo1Error is one line on stderr and exit status 2."""
    from transformers import HfArgumentParser

    (settings,) = HfArgumentParser(settings_class).parse_args_into_dataclasses(args=argv)
    try:
        print(train(settings))
    except Medo1Error as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


def trainer_args(s, config_cls, **extra):
    """A TRL config (SFTConfig, GRPOConfig, RLOOConfig, DPOConfig: TrainingArguments) from settings with the
    shared training and checkpoint fields (medo1.train.config): the batch split over devices and gradient
    accumulation, the schedule, precision, checkpoints; `extra` adds the trainer's own fields."""
    micro, accumulation = split_batch(s.batch_size, s.micro_batch_size)
    return config_cls(
        output_dir=s.out,
        learning_rate=s.learning_rate,
        lr_scheduler_type=s.lr_scheduler,
        weight_decay=s.weight_decay,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accumulation,
        num_train_epochs=s.epochs,
        max_steps=s.max_steps,
        bf16=bf16_supported() if s.bf16 is None else s.bf16,
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


def say(message: str) -> None:
    """One line on stderr, from the main process only."""
    from accelerate import PartialState

    if PartialState().is_main_process:
        print(message, file=sys.stderr, flush=True)
