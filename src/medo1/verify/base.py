"""What every verifier is, and the RL reward rule built on one: `score_response`, the one function
our PPO, TRL's GRPO / RLOO and verl's `compute_score` all call.

The rule (paper): 1.0 when the output is well formed (thinking + final response) and verified
correct, 0.1 when well formed but wrong, 0.0 when the format is missing; plus, as an option,
DAPO's soft overlong penalty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from medo1.errors import Medo1Error, ModelError
from medo1.thinking import final_answer_text, parse_output

REWARD_CORRECT = 1.0
REWARD_WRONG = 0.1
REWARD_NO_FORMAT = 0.0
# The per-sample terms of the rule, under the names every engine logs them by.
TERMS = ("score", "correct", "formatted", "truncated", "verify_failed", "overlong_penalty")

# A section header on a line of its own, as medo1.thinking reads them (case and spacing tolerant).
_HEADER = re.compile(r"^\s*##\s*(Thinking|Final\s+Response)\s*$", re.IGNORECASE | re.MULTILINE)


@runtime_checkable
class Verifier(Protocol):
    name: str

    async def verify(self, response: str, reference: str) -> bool: ...


class VerifierError(ModelError):
    """The verifier could not reach a verdict (e.g. the judge never answered True or False)."""


def final_response(output: str) -> str | None:
    """The answer the rule verifies, or None when the output lacks the format. Well formed means,
    as in the official reward (HuatuoGPT-o1 ppo_utils/ppo_trainer_medo1.py, `get_reward_o1`: exactly
    one `## Thinking` and one `## Final Response`, else 0.0):

    - exactly one `## Thinking` header and, after it, exactly one `## Final Response` header, both
      sections non-empty: a `## Thinking` line inside the final response, or a second final
      response, is no format (a policy must not get to restart its reasoning after answering);
    - a final response that holds an unclosed `<think>` has no answer (medo1.thinking.final_answer_text
      gives None), nor one whose `<think> ... </think>` leaves nothing after it: no format too.

    What is returned is the final response's answer (the text after a closed `</think>`, if any)."""
    headers = [" ".join(h.split()).lower() for h in _HEADER.findall(output or "")]
    if headers != ["thinking", "final response"]:
        return None
    parsed = parse_output(output)
    if not parsed.well_formed:
        return None
    return final_answer_text(parsed.final) or None


def overlong_penalty(length: int, max_length: int, buffer: int, factor: float = 1.0) -> float:
    """DAPO's soft overlong punishment (Yu et al. 2025, arXiv 2503.14476, eq. 13), in tokens:

        0                                   |y| <= L_max - L_cache
        ((L_max - L_cache) - |y|) / L_cache  L_max - L_cache < |y| <= L_max
        -1                                  L_max < |y|

    times `factor` (verl's DAPO reward manager: `overlong_buffer.penalty_factor`, 1.0 in the DAPO
    recipe; L_cache is its `overlong_buffer.len`, L_max its `max_resp_len`, the generation limit).
    The length counts every generated token, the end-of-sequence one included, as verl's does."""
    start = max_length - buffer
    if length <= start:
        return 0.0
    return -factor * min((length - start) / buffer, 1.0)


@dataclass(frozen=True)
class Overlong:
    """The overlong penalty's settings: `max_length` L_max (the engine's generation limit) and
    `buffer` L_cache (> 0), in tokens."""

    max_length: int
    buffer: int
    factor: float = 1.0

    def __post_init__(self):
        if not 0 < self.buffer <= self.max_length:
            raise Medo1Error(f"overlong buffer {self.buffer}: must be above 0 and at most the maximum response "
                             f"length {self.max_length} (DAPO: 4096 of 20480)")
        if self.factor < 0:
            raise Medo1Error(f"overlong penalty factor {self.factor}: must be 0 or more")

    def penalty(self, length: int) -> float:
        return overlong_penalty(length, self.max_length, self.buffer, self.factor)


@dataclass(frozen=True)
class Reward:
    """One response's reward and its terms."""

    score: float | None  # 1.0 / 0.1 / 0.0 plus the overlong penalty; None: the verification failed
    correct: bool
    formatted: bool  # finished and well formed
    truncated: bool  # cut off by the length limit
    verify_failed: bool  # well formed, but the verifier gave no verdict
    overlong_penalty: float = 0.0
    error: str | None = None  # why the verification failed

    def terms(self) -> dict[str, float]:
        """The terms as numbers (`score` is None where the verification failed)."""
        return {"score": self.score, "correct": float(self.correct), "formatted": float(self.formatted),
                "truncated": float(self.truncated), "verify_failed": float(self.verify_failed),
                "overlong_penalty": self.overlong_penalty}


async def score_response(output: str, reference: str, verifier: Verifier, *, truncated: bool = False,
                         length: int | None = None, overlong: Overlong | None = None) -> Reward:
    """The reward rule, for every engine. Never raises for a response: whatever it holds, it is scored.

    - `truncated` (the response was cut off by the length limit, without its end-of-sequence token):
      the no-format reward 0.0, unverified, whatever its text holds. A cut-off response has not
      finished its answer: its final section may stop before the "... or heparin", "... is ruled out"
      or correction that was coming, and a verifier reading the cut text would credit an answer the
      model never committed to; scoring it by its text would also let the policy run into the limit
      at no cost. (The official code scores the cut text and leaves cut-off responses to TRL's
      `missing_eos_penalty`; DAPO too found truncated samples a source of reward noise.)
    - no format (`final_response` is None: a header missing or repeated, an empty section, an
      unclosed `<think>` in the final response): 0.0, unverified.
    - otherwise the verifier's verdict on the final response: 1.0 correct, 0.1 wrong. A verifier
      that raises (a judge down after its retries, no verdict) gives `score=None`,
      `verify_failed=True` and the reason in `error`: what that means is the engine's to say
      (medo1.train.reward: no learning signal; verl: scored as wrong).
    - `overlong` (off by default): DAPO's soft overlong penalty of `length` (tokens, EOS included)
      is added to the score, formatted or not; it is its own term too.
    """
    penalty = overlong.penalty(length) if overlong is not None and length is not None else 0.0
    answer = None if truncated else final_response(output)
    if answer is None:
        return Reward(REWARD_NO_FORMAT + penalty, correct=False, formatted=False, truncated=truncated,
                      verify_failed=False, overlong_penalty=penalty)
    try:
        ok = bool(await verifier.verify(answer, reference))
    except Exception as err:  # one failed verification must not end a long run; the engine records it
        return Reward(None, correct=False, formatted=True, truncated=False, verify_failed=True,
                      overlong_penalty=penalty, error=f"{type(err).__name__}: {err}")
    return Reward((REWARD_CORRECT if ok else REWARD_WRONG) + penalty, correct=ok, formatted=True, truncated=False,
                  verify_failed=False, overlong_penalty=penalty)


async def reward(output: str, reference: str, verifier: Verifier) -> float:
    """1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format, for a finished
    response (`score_response` with no options); raises VerifierError when the verifier gives no verdict."""
    result = await score_response(output, reference, verifier)
    if result.score is None:
        raise VerifierError(result.error or "no verdict")
    return result.score
