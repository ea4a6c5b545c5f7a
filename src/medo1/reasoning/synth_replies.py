"""What synthesis asks its teacher for, and how each reply is read.

The natural reasoning comes as JSON `{"NaturalReasoning": "..."}` (one thought per line), the
formal response as plain text (or `{"Response": "..."}` from a grammar-backed local teacher held
to a schema). A reply that loops (much of its text repeats earlier text) is invalid: training on
it would teach the loop. For grammar-backed teachers the schemas also fix where the verified
answer is stated, in the words of the `synth/answer_line` prompt.
"""

from __future__ import annotations

import re

from medo1.llm.base import ChatModel
from medo1.reasoning.cot import (
    CHARS_PER_TOKEN,
    ReplyError,
    extract_json,
    get_key,
    grammar_backed,
)
from medo1.thinking import FINAL_HEADER, THINKING_HEADER

REASONING_SCHEMA = {
    "type": "object",
    "properties": {"NaturalReasoning": {"type": "string"}},
    "required": ["NaturalReasoning"],
    "additionalProperties": False,
}


LINE_MAX = 160  # most characters of one thought (line) of a grammar-held reasoning
LINE_MIN = 40  # with a token budget, fewer lines rather than lines shorter than this
JSON_CHARS = 30  # the reply's `{"NaturalReasoning": "` and `"}`


def reasoning_schema(model: ChatModel, min_lines: int, answer_line: str | None = None,
                     max_tokens: int | None = None) -> dict:
    """For grammar-backed models, a schema that forces at least `min_lines` lines of at most 160
    characters (JSON `\\n\\n` between runs of plain text): a small local model can then neither write
    one long line nor ramble past its token budget. With `answer_line` (the rendered `synth/answer_line`
    prompt, e.g. "The answer is X."), the last line is exactly that sentence, as the label-hint round of
    the search holds a local teacher to the reference. With `max_tokens`, the lines are shortened (and,
    below LINE_MIN characters, fewer allowed) so the whole reply fits the budget at CHARS_PER_TOKEN: a
    reply cut off at the limit is invalid JSON, its call wasted (as `cot.content_limit` for the search)."""
    if not grammar_backed(model):
        return REASONING_SCHEMA
    literal = _pattern_literal(answer_line) if answer_line else None
    fewest, most = max(min_lines - 1, 1 if literal else 0), max(min_lines, 3)
    width = LINE_MAX
    if max_tokens is not None:
        room = max_tokens * CHARS_PER_TOKEN - JSON_CHARS - (len(answer_line) if literal else 0)
        last = 0 if literal else 1  # without an answer line the last line is free text too
        # each free line takes its characters and the 4 of the `\\n\\n` after it
        while most > fewest and room // (most + last) - 4 < LINE_MIN:
            most -= 1
        width = max(10, min(LINE_MAX, room // (most + last) - 4))
    line = rf'[^"\\\n]{{10,{width}}}'
    pattern = rf"^({line}\\n\\n){{{fewest},{most}}}{literal or line}$"
    return {"type": "object", "properties": {"NaturalReasoning": {"type": "string", "pattern": pattern}},
            "required": ["NaturalReasoning"], "additionalProperties": False}


def response_schema(model: ChatModel, answer_line: str | None, max_chars: int = 240) -> dict | None:
    """For grammar-backed models with an `answer_line`: the response as JSON `{"Response": ...}` that opens
    with exactly that sentence and gives its reasons in at most `max_chars` more characters (a small local
    model otherwise drifts or loops past its budget; 0: the answer line alone). None (plain text) for every
    other teacher."""
    literal = _pattern_literal(answer_line) if answer_line else None
    if not grammar_backed(model) or not literal:
        return None
    reasons = rf' [^"\\\n]{{{min(20, max_chars)},{max_chars}}}' if max_chars > 0 else ""
    pattern = rf'^{literal}{reasons}$'
    return {"type": "object", "properties": {"Response": {"type": "string", "pattern": pattern}},
            "required": ["Response"], "additionalProperties": False}


def _pattern_literal(text: str) -> str | None:
    """`text` as a schema-pattern literal that llama.cpp's grammar converter reads back exactly, or None
    for text it cannot hold (quotes, backslashes, control characters, long answers)."""
    text = " ".join(text.split())
    if not text or len(text) > 120 or any(ch in '"\\' or not ch.isprintable() for ch in text):
        return None
    return "".join("[.]" if ch == "." else "\\" + ch if ch in "[](){}|*+?" else ch for ch in text)


def repeated_share(text: str, n: int = 16) -> float:
    """The share of the text's n-character sequences that already occurred earlier in it (0: none, ~1: a
    loop). Written text scores near 0 at any length (this module's docs: 0.001); loops of a small model
    ("I will check. I will check.", "1.1.1.1.1") score 0.4 and more."""
    flat = " ".join(text.lower().split())
    grams = [flat[i:i + n] for i in range(len(flat) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def check_not_looping(text: str, limit: float) -> None:
    """Small teachers fall into loops ("I will check. I will check. ..."); training on them teaches the loop."""
    share = repeated_share(text)
    if share > limit:
        raise ReplyError(f"the text repeats itself ({share:.0%} of it repeats earlier text); "
                         "write each thought once")


def reasoning_parser(min_lines: int, max_repeated: float = 1.0):
    def parse(text: str) -> str:
        value = extract_json(text)
        reasoning = get_key(value, "NaturalReasoning", "natural_reasoning", "reasoning") \
            if isinstance(value, dict) else None
        if not isinstance(reasoning, str) or not reasoning.strip():
            raise ReplyError('expected {"NaturalReasoning": "<text>"} with non-empty text')
        lines = [line.strip() for line in reasoning.strip().splitlines() if line.strip()]
        if len(lines) < min_lines:
            raise ReplyError(f"the reasoning must put each thought on its own line ({len(lines)} line(s), "
                             f"at least {min_lines} needed)")
        check_not_looping(reasoning, max_repeated)
        return "\n\n".join(lines)

    return parse


_HEADERS = re.compile(rf"^\s*(?:{re.escape(THINKING_HEADER)}|{re.escape(FINAL_HEADER)})\s*$",
                      re.IGNORECASE | re.MULTILINE)


def response_parser(max_repeated: float = 1.0, json_reply: bool = False):
    """Plain text; or, with `json_reply` (a grammar-backed teacher held to `response_schema`), the text of
    the reply's `{"Response": ...}`."""
    def parse(text: str) -> str:
        if json_reply:
            value = extract_json(text)
            text = get_key(value, "Response") if isinstance(value, dict) else None
            if not isinstance(text, str):
                raise ReplyError('expected {"Response": "<text>"}')
        text = _HEADERS.sub("", text or "").strip()
        if not text:
            raise ReplyError("the response is empty")
        check_not_looping(text, max_repeated)
        return text

    return parse
