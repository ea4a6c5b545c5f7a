"""Option letters: which letter a short answer names, and which letters a response commits to.

A reference that is an option letter ("C", "(C)", "C. Aspirin") is compared with the one letter the
final response commits to ("the answer is C", "(D) Amiodarone", "it is C" after "not A"); a letter
it rejects ("not A", "B over D") or weighs does not count, and two letters ("A or C", "both A and B")
are a hedge. "E. coli", "type A" and "A tear of …" are not letters.
"""

from __future__ import annotations

import re

from medo1.verify.sentences import committed_sentences, segments

_LETTER_RE = re.compile(r"^\s*[\(\[]?([A-J])[\)\]]?(?:\s*[\.\):]\s*|\s*$)(.*)$", re.DOTALL)
_LETTER_IN_TEXT = re.compile(
    r"(?:answer|option|choice)\s*(?:is|:)?\s*(?:option\s*)?[\(\[]?([A-J])[\)\]]?(?![A-Za-z])", re.IGNORECASE
)


def option_letter(text: str) -> str | None:
    """The option letter a short answer names: "C", "(C)", "C. Aspirin", "The answer is C"."""
    text = text.strip()
    match = _LETTER_RE.match(text)
    if match and (not match.group(2).strip() or text[:1] in "([" or text[1:2] in ".):"):
        return match.group(1)
    found = _LETTER_IN_TEXT.findall(text)
    return found[-1].upper() if found else None


# the letter between an answer statement and its option text: "The answer is B, right coronary artery occlusion"
_STATED_LETTER = re.compile(r"\b((?:answer|option|choice)\s*(?:is|would\s+be|:)?\s*)(?:\*\*|__)?"  # "is **C, X**"
                            r"[\(\[]?[A-J][\)\]]?\s*[,:—–]\s*"
                            r"(?!(?:which|that|because|since|as|but|and|or|not|so|since|though|although|while|if)\b)"
                            r"(?=[A-Za-z(])", re.IGNORECASE)


def stated_letter_dropped(text: str) -> str:
    """The letters between answer statements and their option texts taken out: "The answer is B, aspirin" -> "The
    answer is aspirin"."""
    return _STATED_LETTER.sub(r"\1", text)


def strip_letter(text: str) -> str:
    """"C. Aspirin" / "(C) Aspirin" -> "Aspirin", "The answer is B, aspirin" -> "The answer is aspirin"; "C. difficile"
    and "B-cell" are left alone."""
    text = stated_letter_dropped(text.strip())
    match = _LETTER_RE.match(text)
    rest = match.group(2).strip() if match else ""
    if rest and (text[:1] in "([" or text[1:2] == ")" or rest[:1].isupper() or rest[:1].isdigit()):
        return rest
    return text


_LETTER = re.compile(r"(?<![A-Za-z0-9])[\(\[]?([A-J])(?![A-Za-z0-9])[\)\]]?")
_LETTER_CONTEXT_BEFORE = re.compile(
    r"(?:answer|option|choice|choose|select|pick|is|are|:|or|and|,|答案是|答案为|选项?|应选|是|为|：)\s*[\(\[（]?$",
    re.IGNORECASE)
_LETTER_QUALIFIER = re.compile(
    r"\b(?:type|group|hepatitis|vitamin|factor|class|grade|stage|phase|protein|kinase|cell|serotype)\s*$",
    re.IGNORECASE)
_LETTER_NEGATED = re.compile(r"\b(?:not|over|rather\s+than|instead\s+of|except|than|no)\s+(?:\S+\s+){0,1}[\(\[]?$|不是$|而非$",
                             re.IGNORECASE)


def committed_letters(final: str) -> tuple[list[str], bool]:
    """The option letters a final response asserts ("the answer is C", "(D) Amiodarone", "it is C" after
    "not A"), and whether it hedges between letters ("A or C", "both A and B")."""
    letters: list[str] = []
    hedge = False
    for sentence in committed_sentences(final):
        if sentence.question:
            continue
        for segment in segments(sentence.text):
            found = [letter for letter, start, end in _letters(segment.text) if segment.asserts(start, end)]
            letters += found
            hedge = hedge or bool(found and re.search(r"\b(?:or|either|both|vs|versus)\b", segment.text, re.IGNORECASE))
    return letters, hedge


def _letters(text: str) -> list[tuple[str, int, int]]:
    """Standalone option letters in a text that read as answers, not as "E. coli", "type A" or "A tear"."""
    out: list[tuple[str, int, int]] = []
    for m in _LETTER.finditer(text):
        before, after = text[:m.start()], text[m.end():]
        bracketed = m.group(0) != m.group(1)
        if _LETTER_QUALIFIER.search(before) or _LETTER_NEGATED.search(before):
            continue
        if re.match(r"\.\s*[a-z]", after):  # "E. coli"
            continue
        first = not before.strip()
        alone = first and (not after.strip() or re.match(r"\s*[.:)\]]", after) or re.match(r"\s*(?:or|and)\b", after)
                           or re.match(r"\s+(?:is|was|would\s+be)\s+(?:the\s+)?(?:correct|right|best|answer)\b", after))
        if bracketed or alone or _LETTER_CONTEXT_BEFORE.search(before) or re.match(r"\s*(?:or|and)\s+[A-J]\b", after):
            if m.group(1) == "A" and not bracketed and first and re.match(r"\s+[a-z]", after):
                continue  # "A tear of ...": the article
            out.append((m.group(1), m.start(), m.end()))
    return out
