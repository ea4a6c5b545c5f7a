"""The `match:strict` verifier: `match`, and only when a sentence of the final response is the answer
statement alone — "The answer is X.", "Final answer: X", "The most likely diagnosis is X.", "**X**",
答案是X。 — with X the reference and nothing more.

`match` reads free text, and free text is where a policy under RL finds wordings no rule anticipated:
a hedge after a dash ("**Diagnosis: X** — pending the histology"), a second answer in the same
sentence ("metformin, with empagliflozin every bit as appropriate"). In blind rounds written to game
it, `match` accepted between a third and a tenth of such answers (README, "the match verifier").
`match:strict` leaves them no sentence to hide in: the statement that carries the answer must hold
nothing but the answer (an abbreviation or other name in parentheses is allowed: "… is diabetic
ketoacidosis (DKA)."), and the rest of the response must pass every check of `match` (no hedge, list,
chain, negation or doubt anywhere). It pays for a format: use it when the final responses the policy
learned from state their answer that way — the synthesis stage opens every final response with such
a sentence (the `synth/answer_line` prompt: "The answer is X.") — and `match` or a judge otherwise.
Option letters and yes/no references are judged as `match` judges them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from medo1.thinking import final_answer_text
from medo1.verify import cues
from medo1.verify.letters import option_letter, strip_letter
from medo1.verify.match import _YES_NO, MatchVerifier
from medo1.verify.sentences import BOLD_LINE, sentences
from medo1.verify.synonyms import variants
from medo1.verify.tokens import FILLER, normalize_tokens

__all__ = ["StrictMatchVerifier"]

_LABEL = re.compile(r"^\W*(?:(?:the\s+)?(?:final|correct|most\s+likely)\s+)?(?:answer|diagnosis|"
                    r"dx)\s*[:：]\s*(?P<np>.+)$|"
                    r"^\W*(?:最终)?(?:答案|诊断)\s*[:：]\s*(?P<zh>.+)$", re.IGNORECASE)
_ALSO_NAMED = re.compile(r"\s*[(（](?P<name>[^()（）]{1,60})[)）]\s*$")  # "diabetic ketoacidosis (DKA)"
# what a parenthesis may not hold to pass as another name: a condition, a doubt, a second answer, a clause
_NOT_A_NAME = re.compile(r"\b(?:if|unless|pending|until|when|or|vs|versus|possibly|probably|likely|maybe|perhaps|not|"
                         r"but|though|suspected|query)\b|[?？]|可能|待|或|如果|若", re.IGNORECASE)


@dataclass
class StrictMatchVerifier(MatchVerifier):
    """`match`, when a sentence of the final response is the answer statement alone, naming the reference."""

    name: str = "match:strict"

    def check(self, response: str | None, reference: str | None) -> bool:
        if not super().check(response, reference):
            return False
        reference = (reference or "").strip()
        if _YES_NO.match(reference) or (len(reference) <= 4 and option_letter(reference)):
            return True
        final = final_answer_text(response or "") or ""
        wanted = [_words(v) for v in variants(strip_letter(reference))]
        return any(_words(said) in wanted for said in _stated_alone(final))


def _stated_alone(final: str) -> list[str]:
    """What each answer statement of the final response states, when the statement is the whole sentence:
    a line in bold or under an answer label ("Final answer: X"), or "the answer / diagnosis … is X"."""
    out = []
    for line in final.split("\n"):
        bold = BOLD_LINE.match(line)
        if bold:
            label = _LABEL.match(bold.group("np"))
            out.append((label.group("np") or label.group("zh")) if label else bold.group("np"))
        else:
            label = _LABEL.match(re.sub(r"[*_`]+", "", line).strip())
            if label:
                out.append(label.group("np") or label.group("zh"))
    for sentence in sentences(final):
        said = cues.STATEMENT_FIRST.match(sentence.text) or cues.STATEMENT_ZH.match(sentence.text)
        if said and not sentence.question:
            out.append(said.group("np"))
    return [_without_other_name(s.strip(" .。*_`")).strip(" .。*_`") for s in out]


def _without_other_name(said: str) -> str:
    """The answer without a closing parenthesis that only names it again ("… (DKA)", "（唐氏综合征）")."""
    other = _ALSO_NAMED.search(said)
    if other is None:
        return said
    name = other.group("name")
    if _NOT_A_NAME.search(name) or cues.VERB.search(name) or len(name.split()) > 5:
        return said
    return said[:other.start()]


def _words(text: str) -> Counter:
    return Counter(w for w in normalize_tokens(text) if w not in FILLER)
