"""The verifier reward (1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format)
for training loops. Verifiers are async (an LLM judge is a network call), so a batch is verified
concurrently with `asyncio.gather`:

- PPO and DPO sampling call `RewardScorer.score(...)`, which keeps one event loop for the whole run
  (clients such as the judge's HTTP pool stay bound to it);
- TRL's GRPO / RLOO trainers take the async `trl_reward_func(...)` directly and run it on their own
  event loop.

A response cut off by the length limit (no end-of-sequence token) has no final answer: it gets the
no-format reward. A verification that fails (judge unreachable after retries, no verdict, ...) is not
a reward at all: it gives `None` with the reason, and no learning signal for that sample: PPO leaves the
sample out of its update, DPO out of its pairs, and GRPO / RLOO get `None` from the reward function,
which TRL (>= 1.6) treats as an unscorable completion: left out of its group's baseline and spread,
advantage 0. Never the 0.0 of "no format", which would teach the policy that its answer was badly
formed, and pull the group's baseline down.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from medo1.thinking import parse_output
from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, Verifier, reward


@dataclass
class Scores:
    rewards: list[float | None]  # None where verification failed
    errors: list[str | None] = field(default_factory=list)  # the reason, where it failed
    formatted: list[bool] | None = None  # finished and well formed (known even where verification failed)

    def _valid(self) -> list[float]:
        return [r for r in self.rewards if r is not None]

    @property
    def correct_rate(self) -> float:
        """Correct among the verified responses (0.0 when none was)."""
        valid = self._valid()
        return sum(r == REWARD_CORRECT for r in valid) / len(valid) if valid else 0.0

    @property
    def format_rate(self) -> float:
        """Well formed among all responses (among the verified ones when `formatted` is not known)."""
        if self.formatted is not None:
            return sum(self.formatted) / len(self.formatted) if self.formatted else 0.0
        valid = self._valid()
        return sum(r > REWARD_NO_FORMAT for r in valid) / len(valid) if valid else 0.0

    @property
    def failed_rate(self) -> float:
        """Responses whose verification failed."""
        return sum(r is None for r in self.rewards) / len(self.rewards) if self.rewards else 0.0

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
    formatted = [done and parse_output(o).well_formed for o, done in zip(outputs, finished)]
    return Scores([r for r, _ in results], [e for _, e in results], formatted)


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


def trl_reward_func(verifier: Verifier, eos_token_ids: list[int], failures=None):
    """A TRL reward function for GRPO / RLOO (async; TRL runs it on its own event loop), called with
    `prompts`, `completions`, `completion_ids` and the dataset's columns: it needs `answer`, and
    records `id` when the dataset has it.

    Returns one reward per completion, `None` where verification failed: TRL >= 1.6 makes such a
    completion unscorable (its advantage is 0 and it is left out of its group's mean and std, for
    GRPO and for RLOO's leave-one-out baseline; a group where every verification failed gives no
    signal), which is exact even when a group's completions are spread over several processes. A
    reward function cannot mask a sample from the loss: with `beta > 0` the KL term to the
    reference still applies to it, as to any sample with advantage 0.

    Each failure is appended to `failures` (a list, or anything with `append`) with its reason.
    Logged per batch: correct_rate (among verified), format_rate, truncated_rate, verify_failed_rate.
    """

    eos = set(eos_token_ids)

    async def medo1_reward(prompts, completions, completion_ids, answer, log_metric=None, trainer_state=None,
                           **columns) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        finished = [bool(ids) and ids[-1] in eos for ids in completion_ids]
        scores = await score_batch(verifier, texts, list(answer), finished)
        if log_metric is not None:
            if scores.failed_rate < 1.0:  # a rate over no verified response is no figure
                log_metric("correct_rate", scores.correct_rate)
            log_metric("format_rate", scores.format_rate)
            log_metric("truncated_rate", 1.0 - sum(finished) / len(finished))
            log_metric("verify_failed_rate", scores.failed_rate)
        if failures is not None:
            step = trainer_state.global_step + 1 if trainer_state is not None else None
            ids = columns.get("id") or [None] * len(texts)
            for problem_id, reference, error in zip(ids, answer, scores.errors):
                if error is not None:
                    failures.append({"id": problem_id, "step": step, "answer": reference, "reason": error})
        return scores.rewards

    return medo1_reward
