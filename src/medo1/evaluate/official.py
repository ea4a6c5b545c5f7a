"""The official HuatuoGPT-o1 scorer's reading of an answer, so our numbers can sit beside the paper's.

    official_letters("## Final Response\\n\\nVitamin C and insulin.", {"A": "...", ..., "D": "..."})
    -> OfficialMatch(first="C", last="C", kind="letter")

The paper's numbers come from `evaluation/scorer.py` of FreedomIntelligence/HuatuoGPT-o1. It reads
every output to *some* letter, and it scores a source as the better of two readings. Its rules, in
our words (the letters it finds are the same, quirks included, so results agree with its script):

1. What is read: the text after the last `## Final Response` followed by a blank line, if the output
   has one; otherwise the whole output (a reply cut off in its thinking is read whole).
2. kind "answer_is": every `answer is` followed by optional whitespace and an upper-case letter A-N
   (whatever the number of options, and whatever follows the letter: "the answer is Insulin" reads I).
   The first and the last of them are the two readings.
3. kind "letter": every upper-case option letter (the first N letters of A-N for N options) that
   stands apart: before it the start of the text, any non-word character, a CJK character or "is ";
   after it a non-word character, a CJK character or the end. A capital "A" followed by a space is
   skipped (the article). Matches do not overlap: the character after a letter cannot also be the
   character before the next one ("C.D" finds C only). "Vitamin C and insulin" reads C; "A or B"
   reads B twice.
4. kind "option_text": the options whose text (lower case) occurs anywhere in the lower-cased text,
   as a plain substring. The last reading is the option whose last occurrence comes latest. The first
   reading is, as the official code computes it, the option whose *first* occurrence comes latest
   (it sorts first positions latest-first); ties go to the earlier option.
5. kind "similarity": nothing above matched, so the option most similar to the whole text
   (difflib's SequenceMatcher ratio, option against text) is both readings; on a tie the later option
   wins, so a reply sharing nothing with any option ("I cannot determine.") picks the last option. A
   refusal thus still scores about chance.

A source (a benchmark, or a subset such as the official file's sources) scores
max(share of first readings that are right, share of last readings that are right): the better of
the two over the whole source, chosen after seeing the answers. medo1's own extraction
(`medo1.verify.extract`) takes one answer per response or none, and counts a refusal, a hedge or a
loop through the options as wrong; it stays the default, and the official figure is a second column.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Iterable

_FINAL = "## Final Response\n\n"
_ANSWER_IS = re.compile(r"answer is\s*?([A-N])", re.S)
_LETTERS = "ABCDEFGHIJKLMN"
_CJK = "\u4e00-\u9fff"


@dataclass(frozen=True)
class OfficialMatch:
    first: str  # the first reading: an option letter (never None)
    last: str  # the last reading
    kind: str  # "answer_is", "letter", "option_text" or "similarity"


def _letter_pattern(n_options: int) -> re.Pattern:
    letters = _LETTERS[:n_options]
    # Before the letter: the text's start, a non-word or CJK character, or "is " (as in "answer is C").
    # After it: a non-word or CJK character, or the end. The character after is consumed (no overlap).
    return re.compile(rf"(?:^|is |[{_CJK}]|\W)(?![aA] )([{letters}])(?:\W|[{_CJK}]|$)", re.S)


def official_letters(output: str, options: dict[str, str]) -> OfficialMatch:
    """The official scorer's first and last readings of `output` among `options` ({letter: text})."""
    text = output or ""
    if _FINAL in text:
        text = text.split(_FINAL)[-1]
    stated = _ANSWER_IS.findall(text)
    if stated:
        return OfficialMatch(stated[0], stated[-1], "answer_is")
    standing = _letter_pattern(len(options)).findall(text) if options else []
    if standing:
        return OfficialMatch(standing[0], standing[-1], "letter")
    lower = text.lower()
    found = [(letter, option.lower()) for letter, option in options.items() if option.lower() in lower]
    if found:
        # max() keeps the first of equal keys, as a stable latest-first sort does.
        last = max(found, key=lambda f: lower.rindex(f[1]))[0]
        first = max(found, key=lambda f: lower.index(f[1]))[0]
        return OfficialMatch(first, last, "option_text")
    best, best_ratio = list(options)[-1], -1.0
    for letter, option in options.items():
        ratio = difflib.SequenceMatcher(None, option.lower(), lower).ratio()
        if ratio >= best_ratio:  # a tie goes to the later option
            best, best_ratio = letter, ratio
    return OfficialMatch(best, best, "similarity")


def official_score(rows: Iterable[dict[str, Any]]) -> dict[str, float] | None:
    """{accuracy, first, last} over item rows carrying `official_first`, `official_last` and `answer`;
    accuracy is the better of the first and the last readings' accuracies. None when no row has them."""
    firsts = lasts = n = 0
    for r in rows:
        if r.get("official_first") is None:
            continue
        n += 1
        answer = str(r["answer"]).lower()
        firsts += str(r["official_first"]).lower() == answer
        lasts += str(r["official_last"]).lower() == answer
    if not n:
        return None
    first, last = firsts / n, lasts / n
    return {"accuracy": max(first, last), "first": first, "last": last}
