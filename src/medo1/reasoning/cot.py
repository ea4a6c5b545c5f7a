"""Structured replies from a teacher: find the JSON, validate it, re-ask with the error.

The search stage's chain of thought is a JSON list of steps. An initial CoT is

    {"CoT": [{"action": "Inner Thinking", "title": "...", "content": "..."}, ...,
             {"action": "Final Conclusion", "content": "..."},
             {"action": "Verification", "content": "..."}]}

and a refinement continues a path whose conclusion was judged wrong: the teacher sees the
path without its last Verification and replies with a Verification that rejects the previous
conclusion (and says why), new Inner Thinking, a new Final Conclusion and its Verification;
the path becomes `path[:-1] + reply` (`SearchTrace.trajectory`). `parse_cot` accepts each
shape only in that order and names the expected shape when a reply is wrong. `ask_parsed`
sends a request, parses the reply with any parser and, when the reply is invalid, shows the
teacher its reply and what is wrong with it, a bounded number of times.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Callable, TypeVar

from medo1.errors import Medo1Error
from medo1.llm.base import ChatModel, Message
from medo1.prompts import render
from medo1.records import CoTStep, Usage

T = TypeVar("T")

INNER, FINAL, VERIFY = "Inner Thinking", "Final Conclusion", "Verification"
_ACTIONS = {"inner thinking": INNER, "final conclusion": FINAL, "verification": VERIFY}
_NAMES = frozenset(_ACTIONS.values())

# The two shapes, as the error messages and schema descriptions spell them out.
INIT_SHAPE = f'one or more "{INNER}" steps, then one "{FINAL}", then one "{VERIFY}"'
REFINEMENT_SHAPE = (f'one "{VERIFY}" step that says why the previous conclusion is wrong, then one or more '
                    f'"{INNER}" steps, then one "{FINAL}", then one "{VERIFY}"')


def _portable_schema(refinement: bool) -> dict[str, Any]:
    # OpenAI strict mode has no tuples: the order is in the description and checked by `parse_cot`.
    return {
        "type": "object",
        "properties": {
            "CoT": {
                "type": "array",
                "description": "The steps in this order: " + (REFINEMENT_SHAPE if refinement else INIT_SHAPE) + ".",
                "minItems": 4 if refinement else 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string", "enum": [INNER, FINAL, VERIFY]},
                        "title": {"type": "string"},
                        "content": {"type": "string"},
                    },
                    "required": ["action", "title", "content"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["CoT"],
        "additionalProperties": False,
    }


COT_SCHEMA = _portable_schema(refinement=False)
REFINEMENT_SCHEMA = _portable_schema(refinement=True)


# What bounds a grammar-held reply. A step's JSON keys, punctuation and title take about STEP_CHARS characters;
# prose runs at about CHARS_PER_TOKEN characters a token or more (the embedded teacher's CoT replies: 2.9 to 4.9,
# median 3.6). With a token budget, each shape's step contents are capped so that the whole reply fits it at that
# rate, and shapes whose steps would have fewer than MIN_CONTENT characters are left out (one Inner Thinking step
# always stays): a small model can then not run past the budget and have its reply cut off, a call wasted.
CHARS_PER_TOKEN = 3
STEP_CHARS = 100
MIN_CONTENT = 60
MAX_CONTENT = 400


def _step_schema(action: str, min_content: int, max_content: int, content: str | None = None) -> dict[str, Any]:
    text = {"const": content} if content is not None else \
        {"type": "string", "minLength": min_content, "maxLength": max_content}
    return {
        "type": "object",
        "properties": {
            "action": {"const": action},
            "title": {"type": "string", "minLength": 3, "maxLength": 40},
            "content": text,
        },
        "required": ["action", "title", "content"],
        "additionalProperties": False,
    }


def content_limit(n_steps: int, max_tokens: int | None) -> int:
    """The most characters of one step's content when a reply of `n_steps` steps must fit `max_tokens`."""
    if max_tokens is None:
        return MAX_CONTENT
    return max(0, min(MAX_CONTENT, (max_tokens * CHARS_PER_TOKEN - n_steps * STEP_CHARS) // n_steps))


def grammar_cot_schema(conclusion: str | None = None, *, refinement: bool = False,
                       max_tokens: int | None = None) -> dict[str, Any]:
    """The CoT format spelled out step by step (1 to 4 Inner Thinking steps, then the Final
    Conclusion, then the Verification; a refinement starts with a Verification of the previous
    conclusion), for backends that enforce a schema exactly with a grammar: a small local model
    then cannot get the order wrong or leave a step empty, and with `max_tokens` it cannot ramble
    past the budget (`content_limit`). `conclusion` fixes the Final Conclusion's text (the label-hint round)."""
    shapes = []
    for k in range(1, 5):
        n_steps = int(refinement) + k + 2
        limit = content_limit(n_steps, max_tokens)
        if k > 1 and limit < MIN_CONTENT:
            break
        limit = max(limit, 12)
        head = [_step_schema(VERIFY, 12, limit)] if refinement else []
        shapes.append(head + [_step_schema(INNER, 12, limit)] * k
                      + [_step_schema(FINAL, 3, limit, conclusion), _step_schema(VERIFY, 12, limit)])
    return {
        "type": "object",
        "properties": {
            # exactly these items: a tuple to llama.cpp's converter, and to any JSON Schema validator
            "CoT": {"anyOf": [{"type": "array", "prefixItems": steps, "items": False, "minItems": len(steps)}
                              for steps in shapes]}
        },
        "required": ["CoT"],
        "additionalProperties": False,
    }


GRAMMAR_COT_SCHEMA = grammar_cot_schema()
GRAMMAR_REFINEMENT_SCHEMA = grammar_cot_schema(refinement=True)


def grammar_backed(model: Any) -> bool:
    """Whether a model follows JSON schemas exactly through a grammar (in-process llama.cpp)."""
    try:
        return model.identity().get("backend") == "llama.cpp"
    except Exception:  # noqa: BLE001 - an unknown backend gets the portable schemas
        return False


def cot_schema(model: Any, *, refinement: bool = False, max_tokens: int | None = None) -> dict[str, Any]:
    """The CoT schema to send: exact for grammar-backed models (bounded by `max_tokens`), portable (OpenAI
    strict mode) otherwise."""
    if grammar_backed(model):
        return grammar_cot_schema(refinement=refinement, max_tokens=max_tokens)
    return REFINEMENT_SCHEMA if refinement else COT_SCHEMA


class ReplyError(Medo1Error):
    """A model reply that does not have the required structure (the message says why)."""


# ---------------------------------------------------------------- finding JSON in a reply

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


# Lenient about raw control characters inside strings (a raw line break in a long text):
# some grammar-constrained local models write them, and the meaning is unambiguous.
_DECODER = json.JSONDecoder(strict=False)


def _loads(text: str) -> Any:
    value, end = _DECODER.raw_decode(text)
    if text[end:].strip():
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a fenced block, or the first object in it."""
    text = (text or "").strip()
    if not text:
        raise ReplyError("the reply is empty")
    try:
        return _loads(text)
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(text):
        try:
            return _loads(block.strip())
        except json.JSONDecodeError:
            continue
    for match in re.finditer(r"[{\[]", text):
        try:
            value, _ = _DECODER.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, (dict, list)) and value:
            return value
    raise ReplyError("the reply contains no valid JSON object")


def get_key(obj: dict, *names: str) -> Any:
    """obj[name] for the first name present, compared without case, spaces or underscores."""
    for name in names:
        if name in obj:
            return obj[name]
    squash = {re.sub(r"[\s_\-]", "", str(k)).lower(): k for k in obj}
    for name in names:
        key = squash.get(re.sub(r"[\s_\-]", "", name).lower())
        if key is not None:
            return obj[key]
    return None


# ---------------------------------------------------------------- the chain-of-thought JSON


def parse_cot(text: str, *, refinement: bool = False) -> list[CoTStep]:
    """Parse and validate a CoT reply (an initial CoT, or a refinement when `refinement`);
    ReplyError names the first thing that is wrong."""
    value = extract_json(text)
    if isinstance(value, dict):
        steps = get_key(value, "CoT", "chain_of_thought", "steps")
        if steps is None:
            raise ReplyError('the JSON object has no "CoT" list')
    else:
        steps = value
    if not isinstance(steps, list):
        raise ReplyError('"CoT" must be a list of steps')
    out: list[CoTStep] = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise ReplyError(f"step {number} is not an object with action and content")
        action = get_key(step, "action")
        if isinstance(action, str) and action in _NAMES:
            name = action
        else:
            name = _ACTIONS.get(re.sub(r"\s+", " ", str(action or "")).strip().lower())
        if name is None:
            raise ReplyError(f'step {number}: action {action!r} is not one of "{INNER}", "{FINAL}", "{VERIFY}"')
        content = get_key(step, "content")
        if not isinstance(content, str) or not content.strip():
            raise ReplyError(f'step {number} ({name}): "content" must be non-empty text')
        title = get_key(step, "title")
        title = title.strip() if isinstance(title, str) and title.strip() else None
        out.append(CoTStep(action=name, title=title, content=content.strip()))
    check_cot_order(out, refinement=refinement)
    return out


def parse_refinement(text: str) -> list[CoTStep]:
    """`parse_cot` for a refinement: Verification, Inner Thinking..., Final Conclusion, Verification."""
    return parse_cot(text, refinement=True)


def check_cot_order(steps: list[CoTStep], *, refinement: bool = False) -> None:
    expected = f"expected {REFINEMENT_SHAPE if refinement else INIT_SHAPE}"
    need = 4 if refinement else 3
    if len(steps) < need:
        raise ReplyError(f"the CoT needs at least {need} steps, got {len(steps)}; {expected}")
    if refinement and steps[0].action != VERIFY:
        raise ReplyError(f'a continuation of the previous reasoning must start with a "{VERIFY}" step, got '
                         f'"{steps[0].action}"; {expected}')
    if steps[-1].action != VERIFY:
        raise ReplyError(f'the last step must be "{VERIFY}", got "{steps[-1].action}"; {expected}')
    if steps[-2].action != FINAL:
        raise ReplyError(f'the step before the last must be "{FINAL}", got "{steps[-2].action}"; {expected}')
    first = 2 if refinement else 1
    for number, step in enumerate(steps[first - 1:-2], start=first):
        if step.action != INNER:
            raise ReplyError(f'step {number} is "{step.action}": only "{INNER}" steps may come before the '
                             f'"{FINAL}"{" (after the first Verification)" if refinement else ""}; {expected}')


def conclusion_of(steps: list[CoTStep]) -> str:
    """The answer a CoT reached: its (last) Final Conclusion."""
    for step in reversed(steps):
        if step.action == FINAL:
            return step.content
    return ""


def cot_json(steps: list[CoTStep]) -> str:
    """Steps as the JSON the teacher writes (used to show it its previous reasoning)."""
    rows = [{"action": s.action, **({"title": s.title} if s.title else {}), "content": s.content} for s in steps]
    return json.dumps({"CoT": rows}, ensure_ascii=False, indent=1)


def cot_text(steps: list[CoTStep]) -> str:
    """Steps as readable sections (`### title` then the content): the trajectory for synthesis."""
    names = {FINAL: "Conclusion", VERIFY: "Verification"}
    parts = [f"### {s.title or names.get(s.action, s.action)}\n{s.content}" for s in steps]
    return "\n\n".join(parts)


# ---------------------------------------------------------------- asking until the reply is valid


def call_seed(seed: int, item_id: str, attempt: int, depth: int) -> int:
    """The sampling seed of one teacher call: the same run seed and item give the same calls on a re-run."""
    digest = hashlib.sha256(f"{seed}:{item_id}:{attempt}:{depth}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


async def ask_parsed(
    model: ChatModel,
    messages: list[Message],
    parse: Callable[[str], T],
    *,
    tag: str,
    max_tokens: int,
    temperature: float = 0.0,
    seed: int | None = None,
    json_schema: dict | None = None,
    retries: int = 2,
    fix_template: str = "{problem}",
) -> tuple[T, Usage, int]:
    """(parsed value, summed usage, number of calls). Raises ReplyError after `retries` re-asks.

    A re-ask shows the teacher its own reply and the problem found in it; each re-ask
    is a new request (so a cached bad reply is never served again). `fix_template` is the
    re-ask message, with a `{problem}` placeholder.
    """
    usage = Usage()
    asked = list(messages)
    problem = ""
    for call in range(1, retries + 2):
        completion = await model.chat(
            asked, max_tokens=max_tokens, temperature=temperature, seed=seed, json_schema=json_schema, tag=tag
        )
        usage = usage + completion.usage
        try:
            return parse(completion.text), usage, call
        except ReplyError as err:
            problem = str(err)
            if completion.finish_reason == "length":
                problem += f" (the reply was cut off at the {max_tokens}-token limit)"
        asked = [*messages, {"role": "assistant", "content": completion.text},
                 {"role": "user", "content": render(fix_template, problem=problem)}]
    raise ReplyError(f"invalid reply after {retries + 1} tries: {problem}")
