"""The `judge:<model spec>` verifier: an LLM that answers exactly True or False (the paper: GPT-4o)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medo1.prompts import load_prompt, render
from medo1.verify.base import VerifierError

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
    """An LLM judge; its verdict is parsed strictly and an unclear reply is asked again."""

    model: Any  # a ChatModel
    lang: str = "en"
    prompts: str | None = None
    retries: int = 2  # re-asks after an unclear verdict
    max_tokens: int = 8
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.name = self.name or f"judge:{self.model.name}"
        self._template = load_prompt("verify/judge", lang=self.lang, override=self.prompts)
        self._fix = load_prompt("verify/fix_verdict", lang=self.lang, override=self.prompts)

    def with_model(self, model: Any) -> "JudgeVerifier":
        return JudgeVerifier(model, self.lang, self.prompts, self.retries, self.max_tokens, self.name)

    async def verify(self, response: str, reference: str) -> bool:
        messages = [{"role": "user", "content": render(self._template, response=response, reference=reference)}]
        asked = messages
        error: VerifierError | None = None
        for _ in range(self.retries + 1):
            completion = await self.model.chat(asked, max_tokens=self.max_tokens, temperature=0.0, tag="verify")
            try:
                return parse_verdict(completion.text)
            except VerifierError as err:
                error = err
            asked = [*messages, {"role": "assistant", "content": completion.text},
                     {"role": "user", "content": self._fix}]
        raise VerifierError(f"{error} (after {self.retries + 1} tries)")
