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
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medo1.llm.chat_template import prompt_messages
from medo1.records import Problem

LINEAGE = ("id", "source", "source_id", "mcq_id", "original_answer")


@dataclass
class VerlData:
    train: Path
    val: Path
    train_rows: int
    val_rows: int  # 0: `val` is the training file (no held-out problems)


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


def write_verl_data(problems: list[Problem], out_dir: str | Path, *, run_name: str, val_size: int = 64,
                    seed: int = 0, style: str = "rule", ability: str = "medical") -> VerlData:
    """Write `train.parquet` and `val.parquet` under `out_dir` (replaced atomically)."""
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, val = split_problems(problems, val_size, seed)
    source = data_source(run_name)
    paths = {"train": out / "train.parquet", "val": out / "val.parquet"}
    for split, part in (("train", train), ("val", val or train)):
        rows = [verl_row(p, i, split, source=source, style=style, ability=ability) for i, p in enumerate(part)]
        tmp = paths[split].with_suffix(".tmp")
        pd.DataFrame(rows).to_parquet(tmp, index=False)
        tmp.replace(paths[split])
    return VerlData(paths["train"], paths["val"], len(train), len(val))
