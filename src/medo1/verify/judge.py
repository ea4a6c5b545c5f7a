"""The `judge:<model spec>` verifier: an LLM that answers exactly True or False (the paper: GPT-4o)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from medo1.prompts import load_prompt, render
from medo1.records import Usage
from medo1.verify.base import VerifierError
from medo1.verify.verdicts import VerdictLog

_VERDICT_DECORATION = " \t\r\n.!*`'\"“”‘’_#:()[]"


def parse_verdict(text: str) -> bool:
    """True / False from a judge reply; anything not clearly one of them is an error.

    Accepts the bare word with markdown or punctuation around it ("**True**", "False.").
    "not true", "True or False", "Yes", or a sentence are errors, never guesses.
    """
    word = (text or "").strip().strip(_VERDICT_DECORATION).strip().lower()
    if word == "true":
        return True
    if word == "false":
        return False
    shown = (text or "").strip()
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise VerifierError(f"judge reply is not exactly True or False: {shown!r}")


@dataclass
class JudgeVerifier:
    """An LLM judge; its verdict is parsed strictly and an unclear reply is asked again.

    With a `log`, every verdict is appended to it (response, reference, verdict, `source`):
    the labels `medo1 verifier-train` learns from. `usage` adds up the tokens of every reply
    it read, cached or not (what the verdicts would cost uncached), and `verdicts` counts them.
    """

    model: Any  # a ChatModel
    lang: str = "en"
    prompts: str | None = None
    retries: int = 2  # re-asks after an unclear verdict
    max_tokens: int = 8
    name: str = field(default="")
    log: VerdictLog | None = None
    source: str = ""  # where the verdicts are asked for (search, synthesize), written in the log
    usage: Usage = field(default_factory=Usage, init=False, repr=False)
    verdicts: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or f"judge:{self.model.name}"
        self._template = load_prompt("verify/judge", lang=self.lang, override=self.prompts)
        self._fix = load_prompt("verify/fix_verdict", lang=self.lang, override=self.prompts)

    def with_model(self, model: Any) -> "JudgeVerifier":
        return replace(self, model=model)

    async def verify(self, response: str, reference: str) -> bool:
        messages = [{"role": "user", "content": render(self._template, response=response, reference=reference)}]
        asked = messages
        error: VerifierError | None = None
        for _ in range(self.retries + 1):
            completion = await self.model.chat(asked, max_tokens=self.max_tokens, temperature=0.0, tag="verify")
            self.usage = self.usage + completion.usage
            try:
                verdict = parse_verdict(completion.text)
            except VerifierError as err:
                error = err
            else:
                self.verdicts += 1
                if self.log is not None:
                    self.log.write(response, reference, verdict, source=self.source, verifier=self.name)
                return verdict
            asked = [*messages, {"role": "assistant", "content": completion.text},
                     {"role": "user", "content": self._fix}]
        raise VerifierError(f"{error} (after {self.retries + 1} tries)")
