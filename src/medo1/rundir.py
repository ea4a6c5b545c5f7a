"""A run directory of `medo1 run`: where each file lives (`Paths`), the run's state in run.json, its
log, and the fingerprint of the settings each stage ran with (`Run`). The stages read and write
through it; `medo1.pipeline` decides which stages run."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from medo1.recipe import Recipe

STAGES = ("curate", "split", "decontaminate", "search", "synthesize", "verifier", "sft", "passrate", "rl", "eval")
TRAINING = ("sft", "rl")  # the stages that may run under `accelerate launch` (several processes)
# Settings that change what is kept on disk, not what a stage computes: left out of its fingerprint.
NOT_FINGERPRINTED = ("keep_checkpoints",)
# Settings added after runs were made: left out of a print while unset (None), so those runs keep theirs.
ADDED_UNSET = ("join",)

# The recipe sections (and model roles) each stage depends on: its fingerprint.
DEPENDS: dict[str, tuple[str, ...]] = {
    "curate": ("data", "curate", "models.teacher", "models.difficulty", "lang", "prompts"),
    "split": ("split", "seed"),
    "decontaminate": ("decontaminate", "eval.benches", "eval.data", "eval.cop_base"),
    "search": ("search", "models.teacher", "models.verifier", "seed", "lang", "prompts"),
    "synthesize": ("synthesize", "models.teacher", "models.verifier", "seed", "lang", "prompts"),
    "verifier": ("verifier", "models.verifier", "seed"),
    "sft": ("sft", "models.policy", "seed"),
    "passrate": ("passrate",),  # + what it samples and scores with when it is on (fingerprint)
    "rl": ("rl", "models.verifier", "seed"),  # + the verifier and passrate sections when those stages are on
    "eval": ("eval", "models.policy", "lang", "prompts", "seed"),
}


def _settings(section: dict[str, Any]) -> dict[str, Any]:
    """A section's settings as a print reads them."""
    return {k: v for k, v in section.items()
            if k not in NOT_FINGERPRINTED and not (k in ADDED_UNSET and v is None)}


@dataclass
class Paths:
    root: Path

    def __getattr__(self, name: str) -> Path:
        files = {
            "recipe": "recipe.yaml", "state": "run.json", "cache": "cache.sqlite", "log": "logs/run.log",
            "mcq": "mcq.jsonl", "problems": "problems.jsonl", "search_split": "split/search.jsonl",
            "rl_split": "split/rl.jsonl", "eval_items": "eval_items.jsonl", "search_problems": "clean/search.jsonl",
            "rl_problems": "clean/rl.jsonl", "traces": "traces.jsonl", "sft_data": "sft.jsonl",
            "verdicts": "verdicts.jsonl", "verifier_data": "verifier/data.jsonl",
            "verifier_model": "ckpt/verifier", "sft_model": "ckpt/sft", "rl_model": "ckpt/rl", "eval": "eval",
            "passrate_dir": "passrate", "passrate": "passrate/passrate.jsonl", "rl_selected": "passrate/rl.jsonl",
        }
        if name not in files:
            raise AttributeError(name)
        return self.root / files[name]


class Run:
    """One run directory: its recipe, its state file and its log."""

    def __init__(self, recipe: Recipe, root: Path, *, concurrency: int | None, cache: bool,
                 console: Console | None = None):
        self.recipe, self.paths = recipe, Paths(root)
        self.concurrency = concurrency or recipe.models.concurrency
        self.cache: bool | Path = self.paths.cache if cache else False
        self.console = console or Console(stderr=True)
        root.mkdir(parents=True, exist_ok=True)
        self.paths.log.parent.mkdir(parents=True, exist_ok=True)
        self.state = json.loads(self.paths.state.read_text()) if self.paths.state.exists() else {"stages": {}}
        self.main = int(os.environ.get("RANK", "0")) == 0  # under accelerate launch, one process keeps the books

    # ------------------------------------------------------------ bookkeeping

    def log(self, message: str) -> None:
        if not self.main:
            return
        with open(self.paths.log, "a", encoding="utf-8") as f:
            f.write(f"{datetime.now().isoformat(timespec='seconds')} {message}\n")

    def fingerprint(self, stage: str) -> str:
        dumped = self.recipe.dump()
        picked = {}
        for dotted in DEPENDS[stage]:
            value: Any = dumped
            for part in dotted.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            picked[dotted] = _settings(value) if isinstance(value, dict) else value
        # Sections a stage reads only while another stage is on: runs made before those stages keep their prints.
        passrate_on = dumped["passrate"]["enabled"]
        if stage in ("rl", "passrate") and (stage == "rl" or passrate_on) and dumped["verifier"]["enabled"]:
            picked["verifier"] = _settings(dumped["verifier"])  # the reward: the verifier stage's classifier
        if stage in ("rl", "passrate") and dumped["models"].get("reward") is not None:
            picked["models.reward"] = dumped["models"]["reward"]  # the reward's own verifier, when it is set
        if stage == "rl" and passrate_on:  # rl trains on the problems passrate kept
            picked["passrate"] = dumped["passrate"]
        if stage == "passrate" and passrate_on:  # it samples and scores as RL does
            picked.update({f"rl.{key}": dumped["rl"].get(key) for key in ("temperature", "max_new_tokens")},
                          **{"models.verifier": dumped["models"]["verifier"], "seed": dumped["seed"]})
        return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:16]

    def done(self, stage: str) -> dict[str, Any] | None:
        return self.state["stages"].get(stage)

    def mark_done(self, stage: str, seconds: float, summary: dict[str, Any], cpu_seconds: float | None = None) -> None:
        self.state["stages"][stage] = {
            "seconds": round(seconds, 1), "summary": summary, "fingerprint": self.fingerprint(stage),
            **({"cpu_seconds": round(cpu_seconds, 1)} if cpu_seconds is not None else {}),
            "finished": datetime.now().isoformat(timespec="seconds"),
        }
        self._save_state()

    def forget(self, stage: str) -> None:
        if self.state["stages"].pop(stage, None) is not None:
            self._save_state()

    def _save_state(self) -> None:
        if not self.main:
            return
        tmp = self.paths.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2, default=str) + "\n")
        tmp.replace(self.paths.state)

    def spec(self, role: str) -> str:
        return self.recipe.model_spec(getattr(self.recipe.models, role))


# What each stage writes: removed by --force so the stage starts over.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "curate": ("mcq", "problems"),
    "split": ("search_split", "rl_split"),
    "decontaminate": ("eval_items", "search_problems", "rl_problems"),
    "search": ("traces",),
    "synthesize": ("sft_data",),
    "verifier": ("verifier_data", "verifier_model"),
    "sft": ("sft_model",),
    "passrate": ("passrate_dir",),
    "rl": ("rl_model",),
    "eval": ("eval",),
}
