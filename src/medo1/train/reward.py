"""The verifier reward for training loops, by the one rule every engine shares
(`medo1.verify.score_response`: 1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response
format or when cut off by the length limit, plus DAPO's overlong penalty when it is on). Verifiers are
async (an LLM judge is a network call), so a batch is verified concurrently with `asyncio.gather`:

- PPO and DPO sampling call `RewardScorer.score(...)`, which keeps one event loop for the whole run
  (clients such as the judge's HTTP pool stay bound to it);
- TRL's GRPO / RLOO trainers take the async `trl_reward_func(...)` directly and run it on their own
  event loop;
- verl calls `medo1.integrations.verl_reward.compute_score` once per response.

PPO and GRPO / RLOO log the same keys per step (`Scores.metrics`): correct_rate (among the verified
responses), format_rate, truncated_rate, verify_failed_rate and overlong_penalty (the mean), and the
reward-hacking watch (medo1.train.hacking): uncommitted_rate, rewarded_responses, final_response_chars,
no_format_rate.

A verification that fails (judge unreachable after retries, no verdict, ...) is not a reward at all:
it gives `None` with the reason, and no learning signal for that sample: PPO leaves the sample out of
its update, DPO out of its pairs, and GRPO / RLOO get `None` from the reward function, which TRL
(>= 1.6) treats as an unscorable completion: left out of its group's baseline and spread, advantage 0.
Never the 0.0 of "no format", which would teach the policy that its answer was badly formed, and pull
the group's baseline down. A response without a final answer is no failure: it gets 0.0.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from medo1.train.hacking import sample_terms, tally, watch_metrics
from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, Overlong, Reward, Verifier, score_response


@dataclass
class Scores:
    rewards: list[float | None]  # None where verification failed
    errors: list[str | None] = field(default_factory=list)  # the reason, where it failed
    formatted: list[bool] | None = None  # finished and well formed (known even where verification failed)
    correct: list[bool] | None = None  # verified correct (known: rewards may carry the overlong penalty)
    truncated: list[bool] | None = None  # cut off by the length limit
    penalties: list[float] | None = None  # the overlong penalty of each response (0.0 when off)
    watch: list[dict[str, float]] | None = None  # each response's reward-hacking watch terms (hacking.sample_terms)

    @classmethod
    def of(cls, results: list[Reward]) -> Scores:
        return cls([r.score for r in results], [r.error for r in results], [r.formatted for r in results],
                   [r.correct for r in results], [r.truncated for r in results],
                   [r.overlong_penalty for r in results])

    def _valid(self) -> list[float]:
        return [r for r in self.rewards if r is not None]

    @property
    def correct_rate(self) -> float:
        """Correct among the verified responses (0.0 when none was)."""
        verified = sum(r is not None for r in self.rewards)
        if not verified:
            return 0.0
        if self.correct is not None:
            return sum(c for c, r in zip(self.correct, self.rewards) if r is not None) / verified
        return sum(r == REWARD_CORRECT for r in self._valid()) / verified

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

    def watch_counts(self) -> dict[str, float]:
        """The batch's reward-hacking tally (medo1.train.hacking.tally: sums; empty when `watch` is unknown)."""
        if self.watch is None or self.correct is None or self.formatted is None:
            return {}
        return tally({"correct": c, "formatted": f, **w} for c, f, w in zip(self.correct, self.formatted, self.watch))

    def metrics(self, watch: bool = True) -> dict[str, float]:
        """The batch's reward terms, under the keys PPO and GRPO / RLOO both log, and with `watch` the
        reward-hacking watch's (where known). correct_rate and uncommitted_rate are left out when no
        response was verified / rewarded (a rate over nothing is no figure)."""
        n = len(self.rewards)
        out = {"format_rate": self.format_rate,
               "truncated_rate": sum(self.truncated) / n if self.truncated and n else 0.0,
               "verify_failed_rate": self.failed_rate,
               "overlong_penalty": sum(self.penalties) / n if self.penalties and n else 0.0}
        if self.failed_rate < 1.0:
            out["correct_rate"] = self.correct_rate
        if watch and (counts := self.watch_counts()):
            out.update(watch_metrics(counts))
        return dict(sorted(out.items()))


async def score_batch(verifier: Verifier, outputs: list[str], references: list[str],
                      finished: list[bool] | None = None, lengths: list[int] | None = None,
                      overlong: Overlong | None = None) -> Scores:
    """Rewards of a batch of outputs by the shared rule, verified concurrently. `finished`: whether each
    ended with an end-of-sequence token (default: all did); `lengths`: their lengths in tokens (EOS
    included), for the overlong penalty."""
    finished = finished if finished is not None else [True] * len(outputs)
    lengths = lengths if lengths is not None else [None] * len(outputs)
    results = await asyncio.gather(*(
        score_response(o, r, verifier, truncated=not done, length=n, overlong=overlong)
        for o, r, done, n in zip(outputs, references, finished, lengths, strict=True)))
    scores = Scores.of(list(results))
    scores.watch = [sample_terms(o, r.formatted) for o, r in zip(outputs, results)]
    return scores


def decode_responses(tokenizer, responses: list[list[int]], eos_ids) -> tuple[list[str], list[bool], list[int]]:
    """Texts (special tokens skipped, as TRL and verl decode), whether each finished (ends with an EOS
    token) and its length in tokens, of sampled responses (token ids up to and including EOS)."""
    eos = set(eos_ids)
    texts = tokenizer.batch_decode(responses, skip_special_tokens=True)
    return texts, [bool(r) and r[-1] in eos for r in responses], [len(r) for r in responses]


class RewardScorer:
    """Sync front of `score_batch` for training loops: one event loop, kept for the whole run."""

    def __init__(self, verifier: Verifier, overlong: Overlong | None = None):
        self.verifier = verifier
        self.overlong = overlong
        self._runner = asyncio.Runner()

    def score(self, outputs: list[str], references: list[str], finished: list[bool] | None = None,
              lengths: list[int] | None = None) -> Scores:
        return self._runner.run(score_batch(self.verifier, outputs, references, finished, lengths, self.overlong))

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


def trl_reward_func(verifier: Verifier, eos_token_ids: list[int], failures=None, overlong: Overlong | None = None):
    """A TRL reward function for GRPO / RLOO (async; TRL runs it on its own event loop), called with
    `prompts`, `completions`, `completion_ids` and the dataset's columns: it needs `answer`, and
    records `id` when the dataset has it. A completion is cut off when its ids do not end with an
    EOS token; its length (for `overlong`) is its number of ids, EOS included.

    Returns one reward per completion, `None` where verification failed: TRL >= 1.6 makes such a
    completion unscorable (its advantage is 0 and it is left out of its group's mean and std, for
    GRPO and for RLOO's leave-one-out baseline; a group where every verification failed gives no
    signal), which is exact even when a group's completions are spread over several processes. A
    reward function cannot mask a sample from the loss: with `beta > 0` the KL term to the
    reference still applies to it, as to any sample with advantage 0.

    Each failure is appended to `failures` (a list, or anything with `append`) with its reason.
    Logged per batch through TRL's `log_metric`: `Scores.metrics()`. TRL averages each name over the
    processes' batches, so a rate is the mean of the processes' rates, and `rewarded_responses` is logged
    times the number of processes: the whole generation batch's count.
    """
    from accelerate import PartialState

    eos = set(eos_token_ids)
    processes = PartialState().num_processes

    async def medo1_reward(prompts, completions, completion_ids, answer, log_metric=None, trainer_state=None,
                           **columns) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        finished = [bool(ids) and ids[-1] in eos for ids in completion_ids]
        scores = await score_batch(verifier, texts, list(answer), finished, [len(ids) for ids in completion_ids],
                                   overlong)
        if log_metric is not None:
            for name, value in scores.metrics().items():
                log_metric(name, value * processes if name == "rewarded_responses" else value)
        if failures is not None:
            step = trainer_state.global_step + 1 if trainer_state is not None else None
            ids = columns.get("id") or [None] * len(texts)
            for problem_id, reference, error in zip(ids, answer, scores.errors):
                if error is not None:
                    failures.append({"id": problem_id, "step": step, "answer": reference, "reason": error})
        return scores.rewards

    return medo1_reward
