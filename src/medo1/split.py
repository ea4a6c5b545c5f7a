"""Split problems into the search/SFT part and the RL part (paper: 40K -> 20K + 20K), seeded.

The split is a seeded shuffle of the problems ordered by id, so it does not depend on
the order of the input file and the same seed always gives the same parts.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from medo1.errors import Medo1Error
from medo1.jsonl import iter_json_values, parse_record
from medo1.records import Problem


@dataclass
class SplitConfig:
    rl_fraction: float = field(default=0.5, metadata={
        "help": "Share of problems kept for RL; the rest go to search and SFT (paper: 20K of 40K)."})


def split_ids(ids: list[str], *, rl_fraction: float = 0.5, seed: int = 0) -> tuple[set[str], set[str]]:
    """(search ids, rl ids): round(len * rl_fraction) ids go to RL."""
    if not 0.0 <= rl_fraction <= 1.0:
        raise Medo1Error(f"rl fraction must be between 0 and 1, got {rl_fraction}")
    order = sorted(set(ids))
    random.Random(seed).shuffle(order)
    n_rl = round(len(order) * rl_fraction)
    return set(order[n_rl:]), set(order[:n_rl])


def split_file(
    problems: str | os.PathLike,
    search_out: str | os.PathLike,
    rl_out: str | os.PathLike,
    *,
    rl_fraction: float = 0.5,
    seed: int = 0,
) -> tuple[int, int]:
    """Write the two parts (records unchanged, input order kept); returns their sizes."""
    rows = []
    for line, raw in iter_json_values(problems):
        record = parse_record(Problem, raw, problems, line)  # validates, and gives medical-o1 rows an id
        rows.append((record.id, raw if raw.get("id") == record.id else record.model_dump(mode="json")))
    search_ids, _ = split_ids([rid for rid, _ in rows], rl_fraction=rl_fraction, seed=seed)
    parts: dict[Path, list[dict]] = {Path(search_out): [], Path(rl_out): []}
    seen: set[str] = set()
    for rid, row in rows:
        if rid in seen:  # a duplicate problem goes to one part only
            continue
        seen.add(rid)
        parts[Path(search_out) if rid in search_ids else Path(rl_out)].append(row)
    for path, part in parts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for row in part:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(path)
    return len(parts[Path(search_out)]), len(parts[Path(rl_out)])
