"""The reasoning output format: `## Thinking` then `## Final Response`.

    ## Thinking

    {complex_cot}

    ## Final Response

    {response}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINKING_HEADER = "## Thinking"
FINAL_HEADER = "## Final Response"

_FINAL_RE = re.compile(r"^\s*##\s*Final\s+Response\s*$", re.IGNORECASE | re.MULTILINE)
_THINKING_RE = re.compile(r"^\s*##\s*Thinking\s*$", re.IGNORECASE | re.MULTILINE)
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"  # the tags of other reasoning models (DeepSeek-R1, Qwen3)


def format_target(thinking: str, response: str) -> str:
    """The SFT target text for one example (no thinking -> the response alone)."""
    if not thinking.strip():
        return response.strip()
    return f"{THINKING_HEADER}\n\n{thinking.strip()}\n\n{FINAL_HEADER}\n\n{response.strip()}"


@dataclass
class Parsed:
    thinking: str | None  # None when there is no `## Thinking` section
    final: str | None  # None when there is no non-empty `## Final Response` section
    well_formed: bool  # both sections present, in order, and non-empty


def parse_output(text: str) -> Parsed:
    """Split a model output into its thinking and final response."""
    final_m = None
    for final_m in _FINAL_RE.finditer(text):
        pass  # the last `## Final Response` header wins
    think_m = _THINKING_RE.search(text)
    final = text[final_m.end():].strip() if final_m else None
    if think_m and final_m and think_m.start() < final_m.start():
        thinking = text[think_m.end(): final_m.start()].strip()
    elif think_m:
        thinking = text[think_m.end():].strip()
    else:
        thinking = None
    final = final or None
    well_formed = bool(thinking) and final is not None and think_m.start() < final_m.start()
    return Parsed(thinking=thinking, final=final, well_formed=well_formed)


def final_answer_text(text: str) -> str | None:
    """The part of an output that states its answer (read by evaluation and curation), or None:

    - the `## Final Response` section when the output has one (possibly empty);
    - None when the output starts a `## Thinking` section but never reaches `## Final Response`
      (cut off by the length limit, or it stopped): it has no answer, and what it was still
      weighing in its thinking is not one;
    - the same for the `<think> ... </think>` format of other reasoning models: the text after the
      last `</think>`, None when a `<think>` is never closed;
    - the whole text when it has neither (a plain answer, e.g. from a base model).

    The RL reward agrees and is stricter: without both sections an output gets the no-format reward
    (medo1.verify.reward), a plain answer included.
    """
    parsed = parse_output(text)
    if _FINAL_RE.search(text):
        return parsed.final or ""
    if parsed.thinking is not None:
        return None
    closed = text.rfind(_THINK_CLOSE)
    if closed >= 0:
        return text[closed + len(_THINK_CLOSE):].strip()
    return None if _THINK_OPEN in text else text
