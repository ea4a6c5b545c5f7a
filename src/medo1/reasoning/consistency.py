"""Synthesis replies held to the verified answer: ask, verify, re-ask, or give up as drift.

The search verified one answer per problem; the rewrites written from its trajectory (the
natural reasoning, the formal response) must still commit to it. Each reply is parsed (an
invalid one is re-asked by `medo1.reasoning.cot.ask_parsed`), then its conclusion is judged by the run's
verifier against the reference:

    for turn in 0..answer_retries:
        reply = teacher(prompt)                   # turn > 0: prompt, last reply, "it does not commit to
                                                  # the verified answer <answer> ..." (re-asked while invalid)
        if verify(conclusion(reply), answer): keep it
    AnswerDrift                                   # the trace is recorded as failed, with the reason

The conclusion of a response is the whole response (a verifier finds the committed answer in
it); that of a natural reasoning is its final thought, which the prompt asks to state the answer.

A verifier that reaches no verdict (a judge outage) is VerifyFailed, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from medo1.errors import Medo1Error
from medo1.llm.base import ChatModel
from medo1.prompts import render
from medo1.reasoning.config import SynthConfig
from medo1.reasoning.cot import ask_parsed, call_seed
from medo1.records import SearchTrace
from medo1.verify import Verifier


class CheckFailed(Medo1Error):
    """A trace that failed the answer check; `check` is the record its failed row keeps."""

    def __init__(self, message: str, check: dict):
        super().__init__(message)
        self.check = check


class AnswerDrift(CheckFailed):
    """A reply still did not state the verified answer after the re-asks (`check["drifted"]`: which)."""


class VerifyFailed(CheckFailed):
    """The verifier reached no verdict on a reply, e.g. a judge outage (`check["error"]`: which)."""


def final_thought(reasoning: str) -> str:
    """The conclusion of a natural reasoning: its last thought (one thought per paragraph)."""
    thoughts = [t.strip() for t in reasoning.split("\n\n") if t.strip()]
    return thoughts[-1] if thoughts else ""


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Part:
    """One kind of teacher reply: how it is asked, parsed and checked."""

    name: str  # reasoning | response
    tag: str  # the call kind (synth.cot, synth.response)
    number: int  # its place in the call seeds
    parse: Callable[[str], str]  # reply text -> value (ReplyError when invalid)
    conclusion: Callable[[str], str]  # value -> the text the verifier judges
    drift: Callable[[str], str]  # that text -> what the teacher is told when it does not state the answer
    fix: str  # the re-ask template of an invalid reply ({problem})
    json_schema: dict | None = None


@dataclass
class CommittedAsker:
    """The teacher calls of one trace, each held to the trace's verified answer when there is a verifier."""

    teacher: ChatModel
    trace: SearchTrace
    cfg: SynthConfig
    verifier: Verifier | None
    fix_answer: str  # the re-ask template of a drifting reply ({problem}, {answer})
    reasks: dict[str, int] = field(default_factory=dict)  # re-asks for drift, per part

    def record(self) -> dict:
        """What an example keeps in `meta["answer_check"]`."""
        return {"verifier": self.verifier.name if self.verifier else None, "reasks": dict(self.reasks)}

    async def ask(self, prompt: str, part: Part) -> str:
        """A valid reply whose conclusion the verifier accepts as the verified answer.

        An invalid reply is re-asked (`cfg.retries`); a valid one that does not state the answer is
        shown back with what is wrong, at most `cfg.answer_retries` times (each re-ask a new request
        with its own seed); then AnswerDrift. Without a verifier the first valid reply is taken."""
        cfg, trace, verifier = self.cfg, self.trace, self.verifier
        messages = [{"role": "user", "content": prompt}]
        asked, said = messages, ""
        turns = cfg.answer_retries + 1 if verifier is not None else 1
        for turn in range(turns):
            (text, value), _, _ = await ask_parsed(
                self.teacher, asked, lambda reply: (reply, part.parse(reply)), tag=part.tag,
                max_tokens=cfg.max_tokens, temperature=cfg.temperature,
                seed=call_seed(cfg.seed, trace.id, turn, part.number), json_schema=part.json_schema,
                retries=cfg.retries, fix_template=part.fix,
            )
            if verifier is None:
                return value
            said = part.conclusion(value)
            try:
                agrees = await verifier.verify(said, trace.answer)
            except Medo1Error as err:
                raise VerifyFailed(f"verify ({part.name}, {verifier.name}): {type(err).__name__}: {err}",
                                   {**self.record(), "error": part.name}) from None
            self.reasks[part.name] = turn
            if agrees:
                return value
            fix = render(self.fix_answer, problem=part.drift(said), answer=trace.answer)
            asked = [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": fix}]
        what = "response" if part.name == "response" else "the reasoning's final thought"
        raise AnswerDrift(f"{what} does not state the verified answer {trace.answer!r} (verifier {verifier.name}, "
                          f"{turns} tries); last: {short(said)!r}", {**self.record(), "drifted": part.name})
