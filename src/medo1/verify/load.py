"""A verifier from its spec (`match`, `match:strict`, `option`, `judge:<model spec>`,
`classifier:[official:]<path>`, or several joined by `+`): the one place a spec string becomes a Verifier."""

from __future__ import annotations

import os
from typing import Any

from medo1.errors import Medo1Error
from medo1.verify.base import Verifier
from medo1.verify.classifier import ClassifierVerifier
from medo1.verify.combined import AllVerifiers, split_spec
from medo1.verify.judge import JudgeVerifier
from medo1.verify.match import MatchVerifier
from medo1.verify.option import OptionVerifier
from medo1.verify.strict import StrictMatchVerifier
from medo1.verify.verdicts import VerdictLog


def load_verifier(
    spec: str = "match",
    *,
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    lang: str = "en",
    prompts: str | os.PathLike | None = None,
    threshold: float | None = None,
    verdict_log: str | os.PathLike | None = None,
    source: str = "",
) -> Verifier:
    """A Verifier from its spec: `match`, `match:strict` (`match`, when a sentence is the answer statement
    alone), `option` (the committed option letter, for problems that keep their options), `judge:<model spec>`
    or `classifier:[official:]<path>`; specs joined by `+` (`match+classifier:<path>`) are correct only when every
    part is (verify/combined.py).

    `threshold` (classifier): None keeps the checkpoint's own: the one `verifier-train --join` chose for the
    parts it is joined to here, else the one chosen for it alone, else the layout's default.
    `verdict_log` (judge): append every verdict to this JSONL file, marked with `source`.
    """
    spec = (spec or "match").strip()
    parts = split_spec(spec)
    options = dict(concurrency=concurrency, cache=cache, lang=lang, prompts=prompts, threshold=threshold,
                   verdict_log=verdict_log, source=source)
    if len(parts) == 1:
        return _load_part(spec, **options)
    # A classifier part is told what it is joined to: its threshold may have been chosen for that join.
    return AllVerifiers([_load_part(part, join="+".join(parts[:i] + parts[i + 1:]), **options)
                         for i, part in enumerate(parts)])


def _load_part(spec: str, *, concurrency: int, cache: bool | str | os.PathLike, lang: str,
               prompts: str | os.PathLike | None, threshold: float | None, verdict_log: str | os.PathLike | None,
               source: str, join: str | None = None) -> Verifier:
    kind, _, rest = spec.partition(":")
    if kind == "match" and not rest:
        return MatchVerifier()
    if kind == "match" and rest == "strict":
        return StrictMatchVerifier()
    if kind == "option" and not rest:
        return OptionVerifier()
    if kind == "judge" and rest:
        from medo1.llm import load_model

        return JudgeVerifier(load_model(rest, concurrency=concurrency, cache=cache), lang=lang,
                             prompts=str(prompts) if prompts else None, source=source,
                             log=VerdictLog(verdict_log) if verdict_log else None)
    if kind == "classifier" and rest and rest != "official:":
        return ClassifierVerifier(rest, threshold=threshold, batch_size=concurrency, join=join)
    raise Medo1Error(f"verifier spec {spec!r}: expected 'match', 'match:strict', 'option', 'judge:<model "
                     "spec>' or 'classifier:[official:]<path>', or several joined by '+'")


def verifier_model(verifier: Verifier) -> Any | None:
    """The ChatModel a verifier calls, if any (for usage accounting and the call pool)."""
    return verifier.model if isinstance(verifier, (JudgeVerifier, AllVerifiers)) else None
