"""The `Scorer` a PPO run is rewarded by (its settings, `PPOConfig`, are medo1.train.rl_config's)."""

from __future__ import annotations

from typing import Protocol

from medo1.train.reward import Scores


class Scorer(Protocol):
    """Turns responses into rewards; `RewardScorer` (the verifier reward) is the one PPO uses. `finished`:
    whether each response ended with EOS; `lengths`: their lengths in tokens."""

    def score(self, outputs: list[str], references: list[str], finished: list[bool] | None = None,
              lengths: list[int] | None = None) -> Scores: ...
