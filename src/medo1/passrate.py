"""Problems chosen by the policy's own pass rate: a stage between `sft` and `rl`.

The paper keeps the problems three small models all fail (curate's difficulty filter). Later recipes (open-r1,
Skywork-OR1, II-Medical's DAPO, AlphaMed) ask the policy being trained: sample it K times per problem after
SFT and keep the problems it solves sometimes. A problem it always or never solves gives GRPO nothing to learn
from: every response of its group gets the same reward, so every advantage is 0 (DAPO's dynamic sampling drops
such groups during training; TRL has none, so this stage removes their problems before it).

Each problem is sampled `samples` times at RL's temperature and length and scored by the run's reward rule
(`medo1.verify.score_response` with the RL verifier): a pass is a response verified correct (a cut-off or
unformatted one is not). It is kept when min_pass_rate < passes / samples < max_pass_rate (the defaults 0 and 1
keep 0 < passes < K).

    medo1 passrate --model ckpt/sft --problems clean/rl.jsonl --samples 8 --out passrate.jsonl
      passrate.jsonl            one line per problem: id, passes, samples, pass_rate, formatted, truncated, scores
      passrate.failed.jsonl     problems whose sampling or verification failed, with the reason (retried on re-run)
      passrate.setup.json       model and sampling; a re-run must match them
      passrate.selected.jsonl   the problems kept, in input order (rewritten from passrate.jsonl at every run)

Resumable: lines are appended and flushed as problems finish, and a re-run samples only the problems not done.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medo1.errors import Medo1Error

BACKENDS = ("hf", "vllm")


@dataclass
class PassRateConfig:
    """How problems are sampled and which pass rates are kept. The defaults keep what GRPO can learn from."""

    enabled: bool = field(default=False, metadata={
        "help": "Run the stage in `medo1 run` (after sft): rl then trains on the problems it keeps."})
    samples: int = field(default=8, metadata={
        "help": "Responses sampled per problem (K; open-r1 and Skywork-OR1 use 8 to 16)."})
    min_pass_rate: float = field(default=0.0, metadata={
        "help": "Keep problems whose pass rate is above this (0: drop only those never solved)."})
    max_pass_rate: float = field(default=1.0, metadata={
        "help": "Keep problems whose pass rate is below this (1: drop only those always solved)."})
    temperature: float = field(default=0.5, metadata={
        "help": "Sampling temperature: RL's (paper: 0.5; in `medo1 run`, rl.temperature)."})
    max_new_tokens: int = field(default=1300, metadata={
        "help": "Longest response in tokens: RL's (a cut-off response does not pass; in `medo1 run`, "
                "rl.max_new_tokens)."})
    verifier: str = field(default="match", metadata={
        "help": "The reward's verifier: match, match:strict, option, judge:<model spec> or classifier:<path>, or "
                "several joined by + (in `medo1 run`, the RL reward's)."})
    backend: Literal["hf", "vllm"] = field(default="hf", metadata={
        "help": "Engine of a checkpoint directory: hf (transformers, batched) or vllm (vLLM's offline engine in "
                "this process; pip install 'medo1[vllm]'). Other model specs (openai:NAME@URL, a vLLM server) run "
                "as they are."})
    seed: int = field(default=0, metadata={"help": "Sample k of every problem uses seed + k."})

    def check(self) -> None:
        if self.samples < 1:
            raise Medo1Error(f"passrate: samples {self.samples}: expected 1 or more")
        if not 0 <= self.min_pass_rate < self.max_pass_rate <= 1:
            raise Medo1Error(f"passrate: min_pass_rate {self.min_pass_rate} and max_pass_rate {self.max_pass_rate}: "
                             "expected 0 <= min < max <= 1")
        if self.temperature <= 0:
            raise Medo1Error(f"passrate: temperature {self.temperature}: K samples of a greedy policy are one sample")

    def fate(self, passes: int, samples: int) -> str:
        """"kept", or the bound that removes the problem: "min_pass_rate" or "max_pass_rate"."""
        rate = passes / samples
        if rate <= self.min_pass_rate:
            return "min_pass_rate"
        return "max_pass_rate" if rate >= self.max_pass_rate else "kept"


@dataclass
class PassRateSummary:
    problems: int = 0  # problems given
    samples: int = 0  # K
    histogram: dict[int, int] = field(default_factory=dict)  # passes -> problems
    kept: int = 0
    removed: dict[str, int] = field(default_factory=lambda: {"min_pass_rate": 0, "max_pass_rate": 0})
    failed: int = 0  # problems without a pass count (their sampling or verification failed)
    bounds: tuple[float, float] = (0.0, 1.0)

    def as_dict(self) -> dict[str, Any]:
        return {"problems": self.problems, "samples": self.samples,
                "histogram": {str(k): v for k, v in sorted(self.histogram.items())}, "kept": self.kept,
                "removed": dict(self.removed), "failed": self.failed, "bounds": list(self.bounds)}

    def lines(self) -> list[str]:
        width = max(self.histogram.values(), default=0)
        out = [f"{passes:>3}/{self.samples} passed  {n:>5}  {'#' * round(30 * n / width) if width else ''}"
               for passes, n in sorted(self.histogram.items())]
        return out + [f"kept {self.kept} of {self.problems}; removed by min_pass_rate {self.bounds[0]}: "
                      f"{self.removed['min_pass_rate']}, by max_pass_rate {self.bounds[1]}: "
                      f"{self.removed['max_pass_rate']}; failed {self.failed}"]


# ---------------------------------------------------------------- the files


def beside(out: str | os.PathLike, kind: str) -> Path:
    """`passrate.jsonl` -> `passrate.<kind>` (selected.jsonl, setup.json)."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.stem
    return out.with_name(f"{stem}.{kind}")


def selected_path(out: str | os.PathLike) -> Path:
    return beside(out, "selected.jsonl")


def check_setup(out: Path, setup: dict[str, Any]) -> None:
    """A file of pass counts holds counts of one setup only (model, K, sampling, verifier)."""
    path = beside(out, "setup.json")
    if path.exists() and out.exists() and out.stat().st_size:
        before = json.loads(path.read_text())
        changed = [f"{k} {before.get(k)!r} -> {v!r}" for k, v in setup.items() if before.get(k) != v]
        if changed:
            raise Medo1Error(f"{out} holds pass counts of another setup ({'; '.join(changed)}); use another --out")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(setup, indent=2) + "\n")


def read_counts(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The pass counts in a file, by problem id (a missing file: none)."""
    path = Path(path)
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {row["id"]: row for row in rows}


def summarize(problems: list, counts: dict[str, dict[str, Any]], cfg: PassRateConfig) -> tuple[PassRateSummary, list]:
    """The histogram, what each bound removed, and the problems kept (input order)."""
    summary = PassRateSummary(problems=len(problems), samples=cfg.samples, bounds=(cfg.min_pass_rate,
                                                                                  cfg.max_pass_rate))
    summary.histogram = {k: 0 for k in range(cfg.samples + 1)}
    kept = []
    for problem in problems:
        row = counts.get(problem.id)
        if row is None:
            summary.failed += 1
            continue
        summary.histogram[row["passes"]] += 1
        fate = cfg.fate(row["passes"], row["samples"])
        if fate == "kept":
            kept.append(problem)
        else:
            summary.removed[fate] += 1
    summary.kept = len(kept)
    return summary, kept


# ---------------------------------------------------------------- the stage


async def pass_rates(problems: list, out: str | os.PathLike, cfg: PassRateConfig, *, model, verifier,
                     concurrency: int = 32, progress: bool = True) -> None:
    """Sample and score every problem of `problems` not yet in `out`, appending one line per problem."""
    from medo1.jsonl import StageOutput
    from medo1.llm.chat_template import prompt_messages
    from medo1.pool import CallPool, StageProgress, StageUsage, run_items
    from medo1.verify import score_response, verifier_model

    pool = CallPool(concurrency)
    policy = pool.wrap(model)
    usage = StageUsage([m for m in (model, verifier_model(verifier)) if m is not None])
    output = StageOutput(out, retry_failed=True)  # a problem that failed is tried again
    seen: set[str] = set()
    todo = [p for p in problems if not output.done(p.id) and not (p.id in seen or seen.add(p.id))]
    with output, usage.recorded(out, "passrate", _Counts(len(todo))), \
            StageProgress("passrate", len(todo), ["sometimes", "always", "never", "failed"], usage,
                          enabled=progress) as bar:

        async def work(_: int, problem) -> None:
            try:
                replies = await asyncio.gather(*(
                    policy.chat(prompt_messages(problem.question), max_tokens=cfg.max_new_tokens,
                                temperature=cfg.temperature, seed=cfg.seed + k, tag="passrate")
                    for k in range(cfg.samples)))
            except Exception as err:  # one problem never ends the run: recorded, tried again next time
                output.fail(problem.id, f"sampling failed: {type(err).__name__}: {err}", stage="sample")
                bar.count("failed")
                return
            rewards = await asyncio.gather(*(
                score_response(r.text, problem.answer, verifier, truncated=r.finish_reason == "length")
                for r in replies))
            failed = [r for r in rewards if r.verify_failed]
            if failed:
                output.fail(problem.id, f"verification failed for {len(failed)} of {cfg.samples} responses: "
                            f"{failed[0].error}", stage="verify")
                bar.count("failed")
                return
            passes = sum(r.correct for r in rewards)
            output.write({"id": problem.id, "passes": passes, "samples": cfg.samples,
                          "pass_rate": round(passes / cfg.samples, 4), "formatted": sum(r.formatted for r in rewards),
                          "truncated": sum(r.truncated for r in rewards), "scores": [r.score for r in rewards],
                          "completion_tokens": sum(r.usage.completion_tokens for r in replies),
                          "answer": problem.answer})
            bar.count("always" if passes == cfg.samples else "never" if passes == 0 else "sometimes")

        await run_items(todo, work, window=max(4, math.ceil(4 * concurrency / cfg.samples)))


@dataclass
class _Counts:
    todo: int

    def as_dict(self) -> dict[str, Any]:
        return {"problems_sampled": self.todo}


def load_policy(spec: str, backend: str = "hf", *, concurrency: int = 32, cache: bool | str | os.PathLike = True):
    """The policy as a ChatModel: a checkpoint directory on transformers (batched) or vLLM; other specs as they
    are (`embedded`, `openai:NAME@URL` for a vLLM server)."""
    if backend not in BACKENDS:
        raise Medo1Error(f"passrate backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if ":" not in spec and spec != "embedded" and Path(spec).is_dir():
        spec = f"hf:{spec}"
    if backend == "vllm":
        from medo1.llm.vllm import load_vllm

        return load_vllm(spec, cache=cache)
    from medo1.llm import load_model

    return load_model(spec, concurrency=concurrency, cache=cache)


def passrate_file(problems: str | os.PathLike, out: str | os.PathLike, cfg: PassRateConfig, *, model: str,
                  selected: str | os.PathLike | None = None, concurrency: int = 32,
                  cache: bool | str | os.PathLike = True, progress: bool = True) -> PassRateSummary:
    """`medo1 passrate`: the pass count of every problem in `problems` (resumable) and the problems kept,
    written to `selected` (default: `<out>.selected.jsonl`)."""
    from medo1.jsonl import read_jsonl
    from medo1.records import Problem
    from medo1.verify import load_verifier, verifier_model

    cfg.check()
    out = Path(out)
    if out.resolve() == Path(problems).resolve():
        raise Medo1Error(f"{out}: the output must not be the input file")
    loaded = read_jsonl(problems, Problem)
    check_setup(out, {"model": model, "backend": cfg.backend, "samples": cfg.samples, "temperature": cfg.temperature,
                      "max_new_tokens": cfg.max_new_tokens, "verifier": cfg.verifier, "seed": cfg.seed})
    verifier = load_verifier(cfg.verifier, concurrency=concurrency, cache=cache)
    policy = load_policy(model, cfg.backend, concurrency=concurrency, cache=cache)

    async def main() -> None:
        try:
            await pass_rates(loaded, out, cfg, model=policy, verifier=verifier, concurrency=concurrency,
                             progress=progress)
        finally:
            await policy.aclose()
            if (judge := verifier_model(verifier)) is not None:
                await judge.aclose()

    asyncio.run(main())
    summary, kept = summarize(loaded, read_counts(out), cfg)
    target = Path(selected) if selected else selected_path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(p.model_dump_json() + "\n" for p in kept), encoding="utf-8")
    tmp.replace(target)
    return summary
