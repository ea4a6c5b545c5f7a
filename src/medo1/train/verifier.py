"""`medo1 verifier-train`: distil a judge into a sequence classifier that `classifier:DIR` loads.

A transformers `AutoModelForSequenceClassification` (two labels: 0 "False", 1 "True", as the
released medical_o1_verifier_3B) on any base model, full fine-tuning or LoRA (peft, merged on
save), trained with the HF Trainer on the `train` rows of `medo1 verifier-data` output. Three parts,
each with its own job:

- `train`: what the classifier learns from;
- `calibration`: evaluated every `eval_steps` (default: every epoch): the best loss wins and
  training stops after `patience` evaluations without improvement; then the decision threshold
  is chosen on it: the lowest threshold whose precision reaches `target_precision` (default 0.95:
  a false "correct" is a reward the policy can hack), which keeps recall as high as that allows;
- `test`: touched by nothing above; its figures at that threshold are the ones reported, and
  "target met" means the test precision reached the target. (Chosen and measured on the same rows,
  a threshold meets its target by construction.)

A classifier that will serve beside a rule (`--join match:strict`, for the reward
`match:strict+classifier:DIR`) needs another threshold: the rule already rejects some of what the
classifier alone must be strict about, so the join usually reaches the target precision at a lower threshold,
with more recall. That one is chosen the same way, on calibration, counting the rule's rejections as
rejections (and a correct row the rule rejects as a miss), and measured on test.

Stored next to the weights: the layout, the threshold (and the join's) and the calibration and test figures in
`DIR/medo1_verifier.json` (`classifier:DIR` uses the threshold), and the pair ids
(medo1.verify.data.pair_id) of the train and calibration rows in `DIR/medo1_verifier_pairs.json`,
so `medo1 verifier-eval` leaves out the rows the classifier has seen.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error
from medo1.train.config import LoraSettings, TrainingSettings, default
from medo1.verify.classifier import LAYOUTS, META_FILE, SEEN_FILE, default_max_length, encode_pairs


@dataclass(kw_only=True)
class VerifierInputs:
    data: str = field(metadata={"help": "`medo1 verifier-data` output (rows with a `split` column), or any file "
                                        "of `response, reference, label` rows (then split here)."})
    out: str = field(metadata={"help": "Output directory: the classifier, its threshold, metrics.jsonl."})
    model: str = field(default="embedded", metadata={
        "help": "Base model: `embedded`, `hf:<path-or-repo>`, a checkpoint directory or a hub repo id."})


@dataclass(kw_only=True)
class VerifierTrainConfig(LoraSettings, TrainingSettings, VerifierInputs):
    """Verifier training settings, with defaults for a 0.1B-3B base model on a few thousand verdicts; the
    fields every trainer shares are medo1.train.config's. Early stopping keeps its own best checkpoint, and
    an interrupted run resumes from the latest one by itself."""

    layout: str = field(default="pair", metadata={
        "help": "Input layout: pair (reference, response as a text pair) or official (the released verifier's).",
        "choices": list(LAYOUTS)})
    epochs: float = default(TrainingSettings, "epochs", 3.0, help="Most passes over the training rows.")
    learning_rate: float = default(TrainingSettings, "learning_rate", 2e-5, "LoRA: try 2e-4")
    batch_size: int = default(TrainingSettings, "batch_size", 16, help="Rows per optimizer step over all devices.")
    micro_batch_size: int = default(TrainingSettings, "micro_batch_size", 16)
    warmup_ratio: float = default(TrainingSettings, "warmup_ratio", 0.05)
    bf16: bool | None = default(TrainingSettings, "bf16", None,
                                help="bf16 mixed precision; default: on GPUs that run it natively.")
    seed: int = default(TrainingSettings, "seed", 0, help="Seed of the split, the head's init and the data order.")
    max_length: int | None = field(default=None, metadata={
        "help": "Longest tokenized input; longer ones are cut (None: 512 for pair, 4000 for official, as the official "
                "reward: a shorter limit cuts the reference and the instruction off long responses)."})
    eval_steps: int | None = field(default=None, metadata={
        "help": "Evaluate on the calibration rows every N steps (None: every epoch)."})
    patience: int = field(default=2, metadata={"help": "Stop after this many evaluations without a better loss."})
    heldout: float = field(default=0.2, metadata={
        "help": "Share of rows held out (by reference answer) when the data has no split column: half for "
                "calibration, half for test."})
    target_precision: float = field(default=0.95, metadata={
        "help": "The threshold is the lowest whose calibration precision reaches this; met when the test precision "
                "does too."})
    join: str | None = field(default=None, metadata={
        "help": "The rule this classifier will serve beside (`match:strict`, `match`): also choose the threshold "
                "at which `<join>+classifier:DIR` reaches the target precision on calibration, and measure that join "
                "on test; `<join>+classifier:DIR` uses it, `classifier:DIR` alone keeps its own."})


@dataclass
class ThresholdChoice:
    threshold: float
    precision: float
    recall: float
    met: bool  # False: no threshold reached the target; the most precise one was taken


def choose_threshold(probs: list[float], labels: list[bool], target_precision: float = 0.95,
                     gate: list[bool] | None = None) -> ThresholdChoice:
    """The verdict is `p > threshold` (and, with a `gate`, the gate's verdict: a row it rejects is never
    accepted, and a correct one it rejects is a miss). Of the thresholds between consecutive distinct scores,
    the lowest whose precision reaches `target_precision` (the most recall at that precision); if none does,
    the most precise one (ties: the most recall)."""
    gate = gate if gate is not None else [True] * len(probs)
    positives = sum(labels)
    scores = sorted({p for p, g in zip(probs, gate) if g}, reverse=True)
    if not scores or positives == 0:
        return ThresholdChoice(1.0, math.nan, math.nan, False)
    candidates: list[tuple[float, float, float]] = []  # (threshold, precision, recall)
    for i, s in enumerate(scores):  # accept every row the gate passes that scores >= s
        threshold = (s + scores[i + 1]) / 2 if i + 1 < len(scores) else s / 2
        said = [g and p > threshold for p, g in zip(probs, gate)]
        tp = sum(1 for a, y in zip(said, labels) if a and y)
        accepted = sum(said)
        candidates.append((threshold, tp / accepted if accepted else math.nan, tp / positives))
    meeting = [c for c in candidates if c[1] >= target_precision]
    if meeting:
        best = min(meeting, key=lambda c: c[0])
        return ThresholdChoice(best[0], best[1], best[2], True)
    best = max(candidates, key=lambda c: (c[1], c[2]))
    return ThresholdChoice(best[0], best[1], best[2], False)


def load_parts(cfg: VerifierTrainConfig) -> dict[str, list]:
    """The train, calibration and test rows of the data file; rows without a split are split here
    (seeded, by reference answer). A pair that repeats a pair of train (or of calibration) is left out
    of the later part, so what test measures was never trained or calibrated on."""
    from medo1.jsonl import read_jsonl
    from medo1.verify.data import PARTS, VerifierExample, pair_id, split_examples

    rows = read_jsonl(cfg.data, VerifierExample)
    if any(r.split is None for r in rows):
        split_examples(rows, cfg.heldout, cfg.seed)
    parts: dict[str, list] = {part: [] for part in PARTS}
    seen: set[str] = set()
    for part in PARTS:  # a pair already in an earlier part is no new evidence here (a file with repeats)
        for r in rows:
            if r.split == part and pair_id(r.response, r.reference) not in seen:
                parts[part].append(r)
        seen |= {pair_id(r.response, r.reference) for r in parts[part]}
    sizes = ", ".join(f"{part} {len(v)}" for part, v in parts.items())
    for part, why in (("train", "to learn"), ("calibration", "to stop early and choose the threshold"),
                      ("test", "to measure it")):
        if not parts[part]:
            raise Medo1Error(f"{cfg.data}: no {part} rows ({sizes}); a verifier needs them {why} "
                             "(more data, or a larger heldout share)")
        if len({r.label for r in parts[part]}) < 2:
            raise Medo1Error(f"{cfg.data}: the {part} rows all have the label {parts[part][0].label} ({sizes}); "
                             f"a verifier needs both {why}")
    return parts


def figures(probs: list[float], labels: list[bool], threshold: float,
            gate: list[bool] | None = None) -> dict[str, dict]:
    """Agreement with the labels at the chosen threshold and at 0.5 (and the gate's verdict, if any)."""
    from medo1.verify.evaluation import Agreement

    gate = gate if gate is not None else [True] * len(probs)
    at_threshold, at_half = Agreement(n=len(labels)), Agreement(n=len(labels))
    for p, y, g in zip(probs, labels, gate):
        at_threshold.add(g and p > threshold, y)
        at_half.add(g and p > 0.5, y)
    return {"at_threshold": at_threshold.figures(), "at_0.5": at_half.figures()}


def train_verifier(cfg: VerifierTrainConfig) -> dict[str, Any]:
    """Train, early-stop on the calibration loss, choose the threshold on calibration, measure on test,
    save to `cfg.out`; returns the summary."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from medo1.train.common import (
        MetricsCallback,
        bf16_supported,
        resolve_model_path,
        split_batch,
        warmup_args,
        write_json,
    )
    from medo1.verify.data import pair_id

    if cfg.layout not in LAYOUTS:
        raise Medo1Error(f"verifier-train: layout {cfg.layout!r}, expected one of {', '.join(LAYOUTS)}")
    if not 0.0 < cfg.target_precision <= 1.0:
        raise Medo1Error(f"verifier-train: target precision must be in (0, 1], got {cfg.target_precision}")
    warmup = warmup_args(cfg.warmup_ratio)
    max_length = cfg.max_length or default_max_length(cfg.layout)
    parts = load_parts(cfg)
    join = rule_verdicts(cfg.join, parts) if cfg.join else None  # before training: a bad spec fails at once
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.seed)
    model_path = resolve_model_path(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(
        model_path, num_labels=2, id2label={0: "False", 1: "True"}, label2id={"False": 0, "True": 1},
        dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    if cfg.lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                                 target_modules="all-linear", task_type="SEQ_CLS"))

    def dataset(rows):
        enc = encode_pairs(tokenizer, [(r.response, r.reference) for r in rows], cfg.layout, max_length)
        return [{"input_ids": ids, "attention_mask": mask, "labels": int(r.label)}
                for ids, mask, r in zip(enc["input_ids"], enc["attention_mask"], rows)]

    strategy = "steps" if cfg.eval_steps else "epoch"
    micro, accumulation = split_batch(cfg.batch_size, cfg.micro_batch_size)
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.lr_scheduler, **warmup,
        weight_decay=cfg.weight_decay, per_device_train_batch_size=micro, gradient_accumulation_steps=accumulation,
        per_device_eval_batch_size=micro, eval_strategy=strategy, save_strategy=strategy,
        eval_steps=cfg.eval_steps, save_steps=cfg.eval_steps, load_best_model_at_end=True,
        metric_for_best_model="eval_loss", greater_is_better=False, save_total_limit=2, logging_steps=10,
        bf16=cfg.bf16 if cfg.bf16 is not None else bf16_supported() and torch.cuda.is_available(),
        gradient_checkpointing=cfg.gradient_checkpointing, report_to="none", seed=cfg.seed,
        use_cpu=not torch.cuda.is_available(), remove_unused_columns=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset(parts["train"]),
                      eval_dataset=dataset(parts["calibration"]), data_collator=DataCollatorWithPadding(tokenizer),
                      processing_class=tokenizer,
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience), MetricsCallback(out)])
    # The classification loss is a mean over its micro-batch, so it must be divided by the accumulation steps.
    # transformers takes a model whose forward accepts **kwargs for one that normalises by `num_items_in_batch`
    # itself and skips the division: the gradient and the logged loss then grow with the number of micro-batches
    # (measured: 0.70, 1.40 and 2.79 at 1, 2 and 4 micro-batches for one untrained model on the same rows).
    trainer.model_accepts_loss_kwargs = False
    started = time.time()
    resume = any((out / "checkpoints").glob("checkpoint-*"))
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    best = trainer.model.merge_and_unload() if cfg.lora else trainer.model
    best.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))

    # The saved (best) model scores the held-out parts as `classifier:DIR` will: the threshold from
    # calibration, the figures from test.
    from medo1.verify.classifier import ClassifierVerifier

    scorer = ClassifierVerifier(out, layout=cfg.layout, threshold=0.5, max_length=max_length)
    probs = {part: scorer.probabilities([(r.response, r.reference) for r in parts[part]])
             for part in ("calibration", "test")}
    labels = {part: [r.label for r in parts[part]] for part in ("calibration", "test")}
    choice = choose_threshold(probs["calibration"], labels["calibration"], cfg.target_precision)
    heldout = {part: figures(probs[part], labels[part], choice.threshold) for part in ("calibration", "test")}
    test_precision = heldout["test"]["at_threshold"]["precision"]
    joined = None
    if join is not None:  # the same choice for `<join>+classifier:DIR`: the rule's rejections stay rejections
        joined_choice = choose_threshold(probs["calibration"], labels["calibration"], cfg.target_precision,
                                         gate=join["calibration"])
        joined = {"verifier": join_spec(cfg.join), "threshold": joined_choice.threshold,
                  "calibration_target_met": joined_choice.met,
                  "heldout": {part: figures(probs[part], labels[part], joined_choice.threshold, gate=join[part])
                              for part in ("calibration", "test")}}
        joined_precision = joined["heldout"]["test"]["at_threshold"]["precision"]
        joined["target_met"] = not math.isnan(joined_precision) and joined_precision >= cfg.target_precision
    summary = {
        "layout": cfg.layout, "threshold": choice.threshold, "target_precision": cfg.target_precision,
        "target_met": not math.isnan(test_precision) and test_precision >= cfg.target_precision,
        "calibration_target_met": choice.met, "max_length": max_length, "base_model": str(cfg.model),
        "rows": {part: len(rows) for part, rows in parts.items()}, "heldout": heldout,
        "steps": trainer.state.global_step, "best_eval_loss": trainer.state.best_metric,
        "train_loss": result.training_loss, "seconds": round(time.time() - started, 1),
        "join": joined, "settings": asdict(cfg),
    }
    write_json(out / SEEN_FILE, {part: sorted({pair_id(r.response, r.reference) for r in parts[part]})
                                 for part in ("train", "calibration")})
    write_json(out / META_FILE, _no_nan(summary))
    shutil.rmtree(out / "checkpoints", ignore_errors=True)  # the best model is saved above
    return summary


RULES = ("match", "match:strict", "option")


def join_spec(spec: str) -> str:
    """A joined spec written one way: its parts in order, stripped, joined by `+`."""
    from medo1.verify.combined import split_spec

    return "+".join(split_spec(spec))


def rule_verdicts(spec: str, parts: dict[str, list]) -> dict[str, list[bool]]:
    """The verdicts of the rule verifier `spec` on the calibration and test rows."""
    import asyncio

    from medo1.verify.combined import split_spec
    from medo1.verify.load import load_verifier

    for part in split_spec(spec):
        if part not in RULES:
            raise Medo1Error(f"verifier-train: join {spec!r}: {part!r} is not a rule verifier ({', '.join(RULES)}, "
                             "or several joined by '+'); the join is scored offline on every calibration and test row")
    verifier = load_verifier(spec)

    async def verdicts(rows: list) -> list[bool]:
        return list(await asyncio.gather(*(verifier.verify(r.response, r.reference) for r in rows)))

    return {part: asyncio.run(verdicts(parts[part])) for part in ("calibration", "test")}


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    return value
