"""A final response written as a JSON object (`{"answer": "Ulnar nerve", "rejected": ["Median nerve"]}`, fenced
or not, with or without text after it) read as the "key: value" lines the rules read ("answer: Ulnar nerve",
"rejected: Median nerve"): a key that labels the answer states it, one that rejects ("rejected", "ruled out")
rejects, and one that lists ("candidates") lists, as the same words do in prose. Anything that is not one flat
object (strings, numbers, lists of them) is left as it is.

A closing offer of more help, as chat assistants end ("Want me to walk through the Wells score?", "Let me know if
you'd like the discriminatory zone explained", 需要的话，我可以再整理一下…), is not part of the answer and is read
without it (`without_offer`), unless it doubts, widens or names an alternative ("Want me to explain why Y is also
possible?", "Shall I list the other causes too?").
"""

from __future__ import annotations

import json
import re

__all__ = ["as_lines", "without_offer"]

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


def without_offer(final: str) -> str:
    """The final response without a closing offer of more help: one sentence that ends it (see the module
    docstring). Nothing may follow the offer ("Want me to explain? Y fits equally." keeps both)."""
    found = _OFFER.search(final)
    if found is None or _OFFER_DOUBTS.search(found.group("offer")):
        return final
    return final[:found.start()]


_OFFER = re.compile(r"(?:\n\s*|(?<=[.!。！])[ \t]*)(?P<offer>(?:want|would\s+you\s+like|shall\s+i|should\s+i|"
                    r"would\s+(?:a|an|it)\b[^\n?]{0,80}?\bhelp|let\s+me\s+know\s+if|happy\s+to|"
                    r"if\s+you(?:'d|\s+would)\s+like|i\s+can\s+[^.\n]{0,60}\bif\s+(?:helpful|that\s+helps|useful|you(?:'d|\s+would)?"
                    r"\s+(?:like|want))|需要的话|如果需要|如需|要不要我)[^.?!。？！\n]*[.?!。？！]?)\s*\Z", re.IGNORECASE)
# an offer that doubts or widens the answer is kept: "… why Y is also possible?", "… the other causes too?"
_OFFER_DOUBTS = re.compile(r"\b(?:also|too|alternatives?|instead|other|others|either|or|possib\w*|likel\w*|differential|"
                           r"consider\w*|rule\s+out|exclud\w*|sure|confiden\w*|certain\w*|uncertain\w*|wrong|another|"
                           r"second|diagnos\w*|right|correct|answer|unless|if\s+(?:it|this)\b|maybe|perhaps|might|could|"
                           r"fits?|equally|backup|fallback)|也|或|可能|其他|其它|别的|鉴别|排除|"
                           r"不确定|答案", re.IGNORECASE)
