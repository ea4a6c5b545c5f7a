"""A final response written as a JSON object (`{"answer": "Ulnar nerve", "rejected": ["Median nerve"]}`, fenced
or not, with or without text after it) read as the "key: value" lines the rules read ("answer: Ulnar nerve",
"rejected: Median nerve"): a key that labels the answer states it, one that rejects ("rejected", "ruled out")
rejects, and one that lists ("candidates") lists, as the same words do in prose. Anything that is not one flat
object (strings, numbers, lists of them) is left as it is.
"""

from __future__ import annotations

import json
import re

__all__ = ["as_lines"]

_OBJECT = re.compile(r"^(?P<fence>\s*```[\w-]*\s*\n)?\s*(?P<object>\{[^{}]*\})\s*(?(fence)\n?\s*```)", re.DOTALL)


def as_lines(final: str) -> str:
    """The final response with a leading flat JSON object written as "key: value" lines."""
    found = _OBJECT.match(final)
    if found is None:
        return final
    try:
        data = json.loads(found.group("object"))
    except ValueError:
        return final
    if not isinstance(data, dict) or not data or not all(_flat(v) for v in data.values()):
        return final
    lines = [f"{str(key).replace('_', ' ')}: {_value(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n" + final[found.end():]


def _flat(value: object) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None or (
        isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value))


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)
