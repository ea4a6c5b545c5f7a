"""The rule steps of stage 0, no model: the question filter (too short, negated, "all of the following",
multi-answer) and the rule rewrite of a question into an open-ended one (`reformat: rule`)."""

from __future__ import annotations

import re

from medo1.records import MCQ

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NEGATED_UPPER = re.compile(r"\b(NOT|EXCEPT|FALSE|INCORRECT|LEAST|NEVER)\b")
_NEGATED_ASKED = re.compile(
    r"\b(except|incorrect|untrue|false|least|not\s+(?:true|correct|seen|found|associated|a|an|used|indicated|"
    r"recommended|characteristic|typical|likely|recognised|recognized|appropriate|a\s+feature)|"
    r"(?:is|are|was|were|does|do|would|will|should|can|could)\s+not|isn't|aren't|doesn't|wouldn't|cannot)\b",
    re.IGNORECASE,
)
_NEGATED_ZH = re.compile(r"(不正确|不正確|错误的是|錯誤的是|不是|不属于|不屬於|除外|不包括|不符合|不恰当|不宜)")
_ALL_OF_FOLLOWING = re.compile(r"\ball of the following\b|\ball the following\b|以下都|下列各项都", re.IGNORECASE)
_MULTI_ASK = re.compile(
    r"\b(?:which|what)\s+(?:of\s+the\s+following\s+)?(?:statements\s+)?are\s+(?:true|correct|false)\b|"
    r"\bselect\s+all\b|\bchoose\s+all\b|\bmore\s+than\s+one\b|多选|多選",
    re.IGNORECASE,
)
_MULTI_OPTION = re.compile(
    r"^\s*(?:all|none|both)\s+(?:of\s+)?(?:the\s+)?(?:above|these|of\s+them|following)?\s*\.?\s*$|"
    r"^\s*(?:both\s+)?[a-e1-9]\s*(?:,\s*[a-e1-9]\s*)*(?:,?\s*(?:and|&|or)\s*[a-e1-9])\s*\.?\s*$|"
    r"^\s*(?:only\s+)?[a-e1-9](?:\s*,\s*[a-e1-9])+\s*\.?\s*$|"
    r"^\s*(?:以上都是|以上均是|以上都不是|以上皆是|以上皆非)\s*$",
    re.IGNORECASE,
)


def stem_length(text: str) -> int:
    """Words, with each CJK character counted as one word."""
    return len(_CJK.sub(" ", text).split()) + len(_CJK.findall(text))


def asked_part(question: str) -> str:
    """The sentence that asks (the last one), where negation decides what is asked."""
    parts = [p for p in re.split(r"(?<=[.!?。！？])\s+", question.strip()) if p.strip()]
    return parts[-1] if parts else question


def rule_reason(mcq: MCQ, min_words: int) -> str | None:
    """Why the rules drop this MCQ, or None when it passes them."""
    length = stem_length(mcq.question)
    if length < min_words:
        return f"short stem ({length} words, fewer than {min_words})"
    upper = _NEGATED_UPPER.search(mcq.question)
    if upper:
        return f"negated question ({upper.group(0)!r})"
    asked = asked_part(mcq.question)
    negated = _NEGATED_ASKED.search(asked) or _NEGATED_ZH.search(asked)
    if negated:
        return f"negated question ({negated.group(0)!r})"
    if _ALL_OF_FOLLOWING.search(mcq.question):
        return "'all of the following' question"
    if _MULTI_ASK.search(mcq.question):
        return "multi-answer question"
    for letter, text in mcq.options.items():
        if _MULTI_OPTION.match(text):
            return f"multi-answer option {letter} ({text!r})"
    return None


_WHICH = [
    (re.compile(r"\bwhich of the following (is|are|was|were|would be|will be|should be)\b", re.IGNORECASE), r"what \1"),
    (re.compile(r"\bwhich of the following\b", re.IGNORECASE), "what"),
    (re.compile(r"\bwhich one of these\b", re.IGNORECASE), "what"),
]


def rule_rewrite(mcq: MCQ) -> tuple[str, str]:
    """No model: the stem asked directly ("which of the following is" -> "what is"), and the option's text."""
    question = mcq.question.strip()
    for pattern, repl in _WHICH:
        question = pattern.sub(repl, question)
    question = re.sub(r"(^|[.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), question)
    return question, mcq.answer_text
