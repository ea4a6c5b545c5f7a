"""Verifiers joined by `+`: a response is correct only when every part says so.

    match+classifier:out/commit      `match` finds the reference; the classifier, trained on labelled
                                     responses (`medo1 verifier-train`), rejects the hedges it cannot read
    match:strict+judge:openai:gpt-4o the judge is asked only about responses the rule already accepts

A rule and a model fail differently: `match` reads which answer a response names but not every wording
that takes the commitment back, and a classifier reads the wording but can be fooled by a name that is
close to the reference. Their conjunction pays for neither failure alone, so it is the more precise
reward (README, "Joined verifiers", measures two on the held-out labelled rows). The parts run in the
order written and stop at the first rejection, so put the cheap one first: the model then sees only what the rule
accepted (fewer judge calls, fewer classifier batches). A part that fails raises, as it would alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from medo1.verify.base import Verifier
from medo1.verify.judge import JudgeVerifier

# A `+` starts a new part only before a verifier kind, so a path or a model spec may hold one.
_JOIN = re.compile(r"\s*\+\s*(?=(?:match|option)(?:$|[\s:+])|judge:|classifier:)")


def split_spec(spec: str) -> list[str]:
    """The parts of a joined spec ("match + classifier:d" -> ["match", "classifier:d"]); one part if none."""
    return [part.strip() for part in _JOIN.split(spec.strip())]


@dataclass
class AllVerifiers:
    """Correct when every part is, asked in order until one says no."""

    parts: list[Verifier]

    def __post_init__(self) -> None:
        self.name = "+".join(part.name for part in self.parts)

    @property
    def judge(self) -> JudgeVerifier | None:
        """The part that is a judge, if any."""
        return next((part for part in self.parts if isinstance(part, JudgeVerifier)), None)

    @property
    def model(self) -> Any | None:
        """The judge's model, when a part is a judge (usage accounting, the call pool)."""
        return self.judge.model if self.judge else None

    def with_model(self, model: Any) -> "AllVerifiers":
        """The same parts, the judge asking `model` (a pooled or cached wrapper of its own)."""
        return AllVerifiers([part.with_model(model) if isinstance(part, JudgeVerifier) else part
                             for part in self.parts])

    async def verify(self, response: str, reference: str) -> bool:
        for part in self.parts:
            if not await part.verify(response, reference):
                return False
        return True

    async def aclose(self) -> None:
        for part in self.parts:
            if hasattr(part, "aclose"):
                await part.aclose()
