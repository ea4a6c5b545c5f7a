"""RL problems as verl's RL dataset: parquet files with one row per problem, read by verl's own
`verl.utils.dataset.RLHFDataset` (it applies the policy's chat template to `prompt`).

A row:
    data_source   "medo1/<run>"                       (verl groups validation metrics by it)
    prompt        [{"role": "user", "content": ...}]  (the same chat prompt our PPO samples from)
    ability       "medical" by default                (a label verl carries along)
    reward_model  {"style": "rule" | "model", "ground_truth": <the verified answer>}
    extra_info    {"index", "split", "id", "source", "source_id", "mcq_id", "original_answer"}

`compute_score` (medo1.integrations.verl_reward) gets `ground_truth` and `extra_info` back per sample.
The validation file holds `val_size` problems drawn (seeded) from the RL problems and left out of
training; with none to spare it is the training file itself and validation is off.

Given the policy's tokenizer, problems whose chat prompt is longer than `max_prompt_length` tokens are
left out here, by the rule verl's `filter_overlong_prompts` applies (and our PPO), and listed with their
reason in `skipped.json`: the number of training rows is then exactly what verl's dataloader holds, so
the run's epochs and steps can be planned from it. `fingerprint` names the training data (problems and
their order): a checkpoint trained on other data is not resumed (medo1.integrations.verl_launch).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medo1.llm.chat_template import prompt_ids, prompt_messages
from medo1.records import Problem

LINEAGE = ("id", "source", "source_id", "mcq_id", "original_answer")


@dataclass
class VerlData:
    train: Path
    val: Path
    train_rows: int
    val_rows: int  # 0: `val` is the training file (no held-out problems)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"id", "reason"} of problems left out
    fingerprint: str = ""


@dataclass
class VerlRows:
    """The rows of both files before they are written."""

    train: list[dict[str, Any]]
    val: list[dict[str, Any]]
    skipped: list[dict[str, Any]]

    @property
    def fingerprint(self) -> str:
        """A hash of the training problems in their order (what verl's dataloader state indexes into)."""
        ids = [[r["extra_info"]["id"], r["prompt"][0]["content"], r["reward_model"]["ground_truth"]]
               for r in self.train]
        return hashlib.sha256(json.dumps(ids, ensure_ascii=False).encode()).hexdigest()[:16]


def data_source(run_name: str) -> str:
    return f"medo1/{run_name}"


def verl_row(problem: Problem, index: int, split: str, *, source: str, style: str = "rule",
             ability: str = "medical") -> dict[str, Any]:
    """One problem as a row of verl's RL dataset."""
    extra: dict[str, Any] = {"index": index, "split": split}
    extra.update({key: getattr(problem, key) for key in LINEAGE})
    return {
        "data_source": source,
        "prompt": prompt_messages(problem.question),
        "ability": ability,
        "reward_model": {"style": style, "ground_truth": problem.answer},
        "extra_info": extra,
    }


def split_problems(problems: list[Problem], val_size: int, seed: int) -> tuple[list[Problem], list[Problem]]:
    """(train, val): `val_size` problems drawn with `seed`, never more than a tenth of them, and never
    all of them; the order of the rest is kept."""
    take = min(val_size, len(problems) // 10)
    if take <= 0:
        return list(problems), []
    held = set(random.Random(seed).sample(range(len(problems)), take))
    return ([p for i, p in enumerate(problems) if i not in held],
            [p for i, p in enumerate(problems) if i in held])


def within_prompt_limit(problems: list[Problem], tokenizer, max_prompt_length: int
                        ) -> tuple[list[Problem], list[dict[str, Any]]]:
    """(kept, skipped): problems whose chat prompt (with the generation prompt) fits `max_prompt_length` tokens."""
    kept, skipped = [], []
    for p in problems:
        length = len(prompt_ids(tokenizer, p.question))
        if length > max_prompt_length:
            skipped.append({"id": p.id, "reason": f"prompt is {length} tokens, over max_prompt_length "
                                                  f"{max_prompt_length}"})
        else:
            kept.append(p)
    return kept, skipped


def verl_rows(problems: list[Problem], *, run_name: str, val_size: int = 64, seed: int = 0, style: str = "rule",
              ability: str = "medical", tokenizer=None, max_prompt_length: int | None = None) -> VerlRows:
    skipped: list[dict[str, Any]] = []
    if tokenizer is not None and max_prompt_length is not None:
        problems, skipped = within_prompt_limit(problems, tokenizer, max_prompt_length)
    train, val = split_problems(problems, val_size, seed)
    source = data_source(run_name)
    return VerlRows([verl_row(p, i, "train", source=source, style=style, ability=ability) for i, p in enumerate(train)],
                    [verl_row(p, i, "val", source=source, style=style, ability=ability) for i, p in enumerate(val)],
                    skipped)


def write_rows(rows: VerlRows, out_dir: str | Path) -> VerlData:
    """Write `train.parquet` and `val.parquet` (the training file when nothing is held out) and `skipped.json`
    under `out_dir`, each replaced atomically."""
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "train.parquet", "val": out / "val.parquet"}
    for split, part in (("train", rows.train), ("val", rows.val or rows.train)):
        tmp = paths[split].with_suffix(".tmp")
        pd.DataFrame(part).to_parquet(tmp, index=False)
        tmp.replace(paths[split])
    tmp = out / "skipped.json.tmp"
    tmp.write_text(json.dumps(rows.skipped, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / "skipped.json")
    return VerlData(paths["train"], paths["val"], len(rows.train), len(rows.val), rows.skipped, rows.fingerprint)


def write_verl_data(problems: list[Problem], out_dir: str | Path, *, run_name: str, val_size: int = 64,
                    seed: int = 0, style: str = "rule", ability: str = "medical", tokenizer=None,
                    max_prompt_length: int | None = None) -> VerlData:
    """Write `train.parquet` and `val.parquet` under `out_dir` (replaced atomically)."""
    return write_rows(verl_rows(problems, run_name=run_name, val_size=val_size, seed=seed, style=style,
                                ability=ability, tokenizer=tokenizer, max_prompt_length=max_prompt_length), out_dir)
