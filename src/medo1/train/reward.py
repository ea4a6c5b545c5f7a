"""The verifier reward (1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format)
for training loops. Verifiers are async (an LLM judge is a network call), so a batch is verified
concurrently with `asyncio.gather`:

- PPO and DPO sampling call `RewardScorer.score(...)`, which keeps one event loop for the whole run
  (clients such as the judge's HTTP pool stay bound to it);
- TRL's GRPO / RLOO trainers take the async `trl_reward_func(...)` directly and run it on their own
  event loop.

A response cut off by the length limit (no end-of-sequence token) has no final answer: it gets the
no-format reward. A verification that fails (judge unreachable after retries, ...) gives `None`
with the reason, so the caller can leave that sample out instead of stopping the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, Verifier, reward


@dataclass
class Scores:
    rewards: list[float | None]  # None where verification failed
    errors: list[str | None] = field(default_factory=list)  # the reason, where it failed

    def _valid(self) -> list[float]:
        return [r for r in self.rewards if r is not None]

    @property
    def correct_rate(self) -> float:
        valid = self._valid()
        return sum(r == REWARD_CORRECT for r in valid) / len(valid) if valid else 0.0

    @property
    def format_rate(self) -> float:
        valid = self._valid()
        return sum(r > REWARD_NO_FORMAT for r in valid) / len(valid) if valid else 0.0

    @property
    def mean(self) -> float:
        valid = self._valid()
        return sum(valid) / len(valid) if valid else 0.0


async def score_batch(
    verifier: Verifier, outputs: list[str], references: list[str], finished: list[bool] | None = None
) -> Scores:
    """Rewards of a batch of outputs, verified concurrently."""
    finished = finished if finished is not None else [True] * len(outputs)

    async def one(output: str, reference: str, done: bool) -> tuple[float | None, str | None]:
        if not done:
            return REWARD_NO_FORMAT, None
        try:
            return await reward(output, reference, verifier), None
        except Exception as err:  # one failed verification must not end a long run; the caller records it
            return None, f"{type(err).__name__}: {err}"

    results = await asyncio.gather(*(one(o, r, d) for o, r, d in zip(outputs, references, finished, strict=True)))
    return Scores([r for r, _ in results], [e for _, e in results])


class RewardScorer:
    """Sync front of `score_batch` for training loops: one event loop, kept for the whole run."""

    def __init__(self, verifier: Verifier):
        self.verifier = verifier
        self._runner = asyncio.Runner()

    def score(self, outputs: list[str], references: list[str], finished: list[bool] | None = None) -> Scores:
        return self._runner.run(score_batch(self.verifier, outputs, references, finished))

    def run(self, coroutine):
        """Run other async work (e.g. closing the verifier's client) on the same loop."""
        return self._runner.run(coroutine)

    def close(self) -> None:
        self._runner.close()


def completion_text(completion) -> str:
    """TRL passes conversational completions as a list of messages, plain ones as text."""
    if isinstance(completion, list):
        return "".join(m.get("content") or "" for m in completion if m.get("role") == "assistant")
    return completion


def trl_reward_func(verifier: Verifier, eos_token_ids: list[int], failures: list[dict] | None = None):
    """A TRL reward function (async; TRL 1.x runs async reward functions on its own event loop).
    Needs the dataset column `answer`. Failed verifications return None (TRL treats it as missing)
    and are appended to `failures`."""

    eos = set(eos_token_ids)

    async def medo1_reward(prompts, completions, completion_ids, answer, log_metric=None, **_) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        finished = [bool(ids) and ids[-1] in eos for ids in completion_ids]
        scores = await score_batch(verifier, texts, list(answer), finished)
        if log_metric is not None:
            log_metric("correct_rate", scores.correct_rate)
            log_metric("format_rate", scores.format_rate)
            log_metric("truncated_rate", 1.0 - sum(finished) / len(finished))
        if failures is not None:
            failures.extend({"answer": a, "reason": e} for a, e in zip(answer, scores.errors) if e is not None)
        return scores.rewards

    return medo1_reward
