"""What every verifier is, and the RL reward rule built on one.

The reward rule (paper): 1.0 when the output is well formed (thinking + final response)
and verified correct, 0.1 when well formed but wrong, 0.0 when the format is missing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from medo1.errors import ModelError
from medo1.thinking import parse_output

REWARD_CORRECT = 1.0
REWARD_WRONG = 0.1
REWARD_NO_FORMAT = 0.0


@runtime_checkable
class Verifier(Protocol):
    name: str

    async def verify(self, response: str, reference: str) -> bool: ...


async def reward(output: str, reference: str, verifier: Verifier) -> float:
    """1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format."""
    parsed = parse_output(output)
    if not parsed.well_formed:
        return REWARD_NO_FORMAT
    return REWARD_CORRECT if await verifier.verify(parsed.final, reference) else REWARD_WRONG


class VerifierError(ModelError):
    """The verifier could not reach a verdict (e.g. the judge never answered True or False)."""
