"""The `option` verifier: a reward that needs no judge, for problems that keep their options (AlphaMed's
setting: RL on multiple-choice questions with a rule reward). The problem is the question with its lettered
options (`medo1 curate --reformat options`), the reference is the correct letter, and the final response is
correct when it commits to exactly that letter:

1. it commits to one answer (`medo1.verify.answer.uncommitted` finds no list, hedge, question, negation,
   chain of conclusions, struck-through text or yes-and-no);
2. the eval extractor's strict rule (`medo1.verify.extract.extract_answer`, the one evaluation and the
   difficulty filter read answers with) finds one letter, not none and not several different ones;
3. that letter is the reference, and the final response names no other option letter at all, not even to
   reject it: "C, not A" earns nothing, "The answer is C." earns 1.0. Weighing the options belongs in
   `## Thinking`; the final response states the choice. Rule-exact, so no answer shape can talk it into 1.0.

The letters are A to J (MedQA's five, MedMCQA's four, MMLU-Pro's ten). "Vitamin A", "type B", "hepatitis
C", "E. coli", the article "A" ("A beta blocker") and the pronoun "I" ("I would choose C") are not letters.
A reference that is not an option letter ("C", "(C)", "C. Aspirin") is no verdict: `verify` raises, and the
reward records a failed verification (no learning signal), never a silent 0.1.
"""

from __future__ import annotations

import re

from medo1.thinking import final_answer_text
from medo1.verify.answer import uncommitted
from medo1.verify.base import VerifierError
from medo1.verify.extract import AFTER_LOWER_OK, NAMED_BY_LETTER, extract_answer
from medo1.verify.letters import option_letter

LETTERS = "ABCDEFGHIJ"
# The extractor reads letters only (no option texts: the reference is a letter, and a letter is what counts).
_OPTIONS = {letter: "" for letter in LETTERS}

# A standalone letter, bracketed or not ("C", "(C)", "[c]", "C." "C/D").
_MENTION = re.compile(r"(?<![A-Za-z0-9'’\-])[(\[]?\s*(?P<letter>[A-Ja-j])\s*[)\]]?(?![A-Za-z0-9'’\-])")
_GENUS = re.compile(r"\.\s*[a-z]")  # "E. coli", "C. difficile"
# After "A" (article) or "I" (pronoun), the words that still make it a letter: "A or C", "I is correct".
_LETTER_WORDS = r"(?:or|and|nor|vs|versus|plus|is|was|are|then|but|over|rather|instead|as|not)(?![a-z])"
_WORD_AFTER = re.compile(rf"\s+(?!{_LETTER_WORDS})[a-z0-9]")


def mentioned_letters(final: str) -> list[str]:
    """Every option letter a final response names, chosen or rejected, in order (upper case)."""
    out = []
    for m in _MENTION.finditer(final):
        raw, start, end = m.group("letter"), m.start("letter"), m.end("letter")
        if NAMED_BY_LETTER.search(final, 0, start) or _GENUS.match(final, end):
            continue
        bracketed = final[:start].rstrip().endswith(("(", "[")) and final[end:].lstrip().startswith((")", "]"))
        if raw.islower() and not bracketed and not AFTER_LOWER_OK.match(final, end):
            continue  # "a" and "i" in running text are words
        if raw in "AI" and not bracketed and _WORD_AFTER.match(final, end):
            continue  # "A beta blocker", "I would choose C"
        out.append(raw.upper())
    return out


def committed_option(response: str) -> str | None:
    """The one option letter a (final) response commits to, or None (see the module docstring)."""
    final = final_answer_text(response or "")
    if not final or not final.strip() or uncommitted(final) is not None:
        return None
    letter = extract_answer(final, _OPTIONS).letter
    if letter is None or any(other != letter for other in mentioned_letters(final)):
        return None
    return letter


def reference_letter(reference: str) -> str:
    """The correct letter of a reference ("C", "(C)", "C. Aspirin"); VerifierError when it names none."""
    letter = option_letter(reference or "")
    if letter is None or letter not in LETTERS:
        raise VerifierError(f"option verifier: the reference {reference!r} is not an option letter "
                            f"({LETTERS[0]}-{LETTERS[-1]}); curate with --reformat options")
    return letter


class OptionVerifier:
    """`option`: the committed option letter against the reference letter, exactly; no model."""

    name = "option"

    async def verify(self, response: str, reference: str) -> bool:
        return committed_option(response) == reference_letter(reference)
