"""The `match:strict` verifier: `match`, and only when a sentence of the final response is the answer
statement alone, with X the reference and nothing more:
- a label or a statement: "The answer is X.", "Final answer: X", "**X**", "The most likely diagnosis is X.",
  答案是X。, 综合分析，诊断为X。;
- X named as the answer: "X is the most likely diagnosis.", "X is the drug of choice." (never "seems to be",
  "would be", "least likely", "initial");
- the case named: "X.", "This is X.", "She has X.", 本例为X。;
- X beside alternatives the sentence only rejects: "X, not Y.", "Not Y but X.", "X; Y does not fit (because …).",
  不是Y，而是X。 — unless the rejection is left open ("unless …", "yet", "for now", "not Y alone", 暂).
Only one sentence is read as the answer: the answer line, the first sentence of the final response when it is
such a statement, else the last (an explicit statement before a bare name). The reward is 1.0 only when the
answer line names the reference, no other statement of the answer names something else ("… means the diagnosis
is A. Therefore, the answer is B.") and `match` accepts the whole response. So a response is paid for one
answer at most: a list, a hedge or a second answer anywhere else earns nothing the answer line would not earn
alone, and hedging cannot raise the expected reward above committing to the line's answer
(tests/test_verify_strict.py checks this on every labelled response and on decoys built from them).

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
from medo1.verify.sentences import BOLD_LINE, Sentence, segments, sentences
from medo1.verify.statements import stated_answers
from medo1.verify.structured import as_lines
from medo1.verify.synonyms import variants
from medo1.verify.tokens import FILLER, normalize_tokens

__all__ = ["StrictMatchVerifier", "answer_line"]

_LABEL = re.compile(r"^\W*(?:(?:the\s+)?(?:final|correct|most\s+likely)\s+)?(?:answer|diagnosis|"
                    r"dx)\s*[:：]\s*(?P<np>.+)$|"
                    r"^\W*(?:最终)?(?:答案|诊断)\s*[:：]\s*(?P<zh>.+)$", re.IGNORECASE)
# "X is the most likely diagnosis." and nothing after the slot but "here" or "in this patient"
_NAMED_AS = re.compile(r"^(?P<np>.+?)\s+is\s+(?:the|our|my)\s+(?:(?:final|correct|right|best|definitive|underlying|"
                       r"most\s+likely)\s+)?(?:answer|diagnosis|cause|etiology|aetiology|organism|pathogen|culprit|"
                       r"drug|treatment|(?:drug|treatment)\s+of\s+choice)"
                       r"(?:\s+(?:here|in\s+this\s+(?:patient|case|child|woman|man)))?\W*$", re.IGNORECASE)
# a statement of an answer that is not the final one: "the working / leading / initial diagnosis is X"
_NOT_FINAL = re.compile(r"\b(?:working|leading|least|provisional|preliminary|presumptive|tentative|differential|"
                        r"suspected|possible|potential|candidate|admitting|(?:initial|first|clinical|immediate)\s+"
                        r"(?:answer|diagnosis|dx|impression))\b", re.IGNORECASE)
# what leaves a rejected alternative open: "MI, not PE, unless the D-dimer is high", "not excluding PE"
_LEFT_OPEN = re.compile(r"\b(?:if|unless|until|pending|yet|still|for\s+now|so\s+far|at\s+present|excluding|"
                        r"without|that|entirely|completely|necessarily|fully|alone|only|just|merely|solely)\b|"
                        r"待|暂|尚|若|如果|除非|单纯|仅", re.IGNORECASE)
# the grounds a Chinese statement opens with: "结合喂养史及检查，" "综合分析，" "根据ST段抬高的导联，"
_ZH_GROUNDS = re.compile(r"^(?:综合|结合|根据|依据)[^。；;，,定再待若如是否视]{0,40}[，,]\s*")
# a part that only dismisses another candidate: "PE does not fit the ECG", "ectopic pregnancy is excluded"
_DISMISSES = re.compile(r"\b(?:does\s+not|doesn't|do\s+not|don't)\s+fit\b|\b(?:is|are|was|were)\s+(?:excluded|"
                        r"ruled\s+out)\b|不符合|已?排除|不支持|^\W*(?:不是|并非|并不是)", re.IGNORECASE)
# "This is X", "She has X": the case named and nothing more
_THIS_IS = re.compile(r"^\W*(?:this|it)\s+is\s+(?:an?\s+)?|^\W*(?:he|she|they|the\s+patient|this\s+(?:patient|"
                      r"child|infant|man|woman|boy|girl))\s+has\s+(?:an?\s+)?|^(?:本例|此例|该患者|患者|这|此)(?:是|为)",
                      re.IGNORECASE)
# a reason that leaves room for the dismissed answer: "because PE could look the same"
_MAYBE = re.compile(r"\b(?:could|may|might|possibl[ey]|perhaps|probabl[ey]|likely|also|too|either|equally|as\s+well)\b|"
                    r"可能|也|或", re.IGNORECASE)
_ALSO_NAMED = re.compile(r"\s*[(（](?P<name>[^()（）]{1,60})[)）]\s*$")  # "diabetic ketoacidosis (DKA)"
# what a parenthesis may not hold to pass as another name: a condition, a doubt, a second answer, a clause
_NOT_A_NAME = re.compile(r"\b(?:if|unless|pending|until|when|or|vs|versus|possibly|probably|likely|maybe|perhaps|not|"
                         r"but|though|suspected|query)\b|[?？]|可能|待|或|如果|若", re.IGNORECASE)


@dataclass
class StrictMatchVerifier(MatchVerifier):
    """`match`, when the answer line of the final response states the reference alone."""

    name: str = "match:strict"

    def check(self, response: str | None, reference: str | None) -> bool:
        if not super().check(response, reference):
            return False
        reference = (reference or "").strip()
        if _YES_NO.match(reference) or (len(reference) <= 4 and option_letter(reference)):
            return True
        final = as_lines(final_answer_text(response or "") or "")
        said = answer_line(final)
        wanted = [_words(v) for v in variants(strip_letter(reference))]
        if said is None or _words(said) not in wanted:
            return False
        # no other statement of the answer names something else ("… the diagnosis is A. Therefore, the answer is B.")
        # ("…, so this is eclampsia. … So the answer is magnesium sulfate": what the case is, said before, is a step)
        stated = stated_answers(final)
        names = [said.kept and any(not (w - _words(said.np)) for w in wanted) for said in stated]
        first = next((i for i, ok in enumerate(names) if ok and not stated[i].case), len(stated))
        return all(ok or (said.case and i < first) for i, (said, ok) in enumerate(zip(stated, names)))


def answer_line(final: str) -> str | None:
    """What the answer line of a final response states: its first sentence when that is an answer statement
    alone, else its last (an explicit statement — a label, "the answer is X", a bold line — before a bare name);
    None when neither is. Only this one line decides the reward, so no text around it can raise the reward: a
    second answer, a list or a hedge elsewhere earns at most what the line earns."""
    said = [s for s in sentences(final) if not (s.heading and not _LABEL.match(s.text.strip(" *_`")))]
    bold = [_words(m.group("np")) for m in map(BOLD_LINE.match, final.split("\n")) if m]
    found = [st for s in dict.fromkeys(said[:1] + said[-1:]) if (st := _statement(s, explicit=_words(s.text) in bold))]
    if not found:
        return None
    stated, _ = next((st for st in found if st[1]), found[0])  # an explicit statement before a bare name
    return _without_other_name(stated.strip(" .。*_`")).strip(" .。*_`")


def _statement(sentence: Sentence, explicit: bool = False) -> tuple[str, bool] | None:
    """What a sentence states when it is an answer statement alone (the forms of the module docstring), and
    whether it says so explicitly (not a bare name: "TTP."; a bold line is explicit); "" for an answer that
    is not the final one ("The working diagnosis is X"); None when the sentence is not an answer statement."""
    if sentence.question:
        return None
    text = _ZH_GROUNDS.sub("", sentence.text.strip(" *_`"))
    label = _LABEL.match(text)
    if label:
        return _beside_rejections(label.group("np") or label.group("zh")) or "", True
    said = cues.STATEMENT_FIRST.match(text) or cues.STATEMENT_ZH.match(text) or _NAMED_AS.match(text)
    if said:
        if said.re is cues.STATEMENT_FIRST and _NOT_FINAL.search(text[:said.start("np")]):
            return "", True  # "The working diagnosis is X", "The least likely diagnosis is X"
        return _beside_rejections(said.group("np")) or "", True
    named = _THIS_IS.match(text)
    if named:
        return _beside_rejections(text[named.end():]) or "", True
    beside = _beside_rejections(text)
    if beside is not None and beside != text:
        return beside, True
    if not cues.VERB.search(text) and len(text.split()) <= 12 and len(text) <= 120 and not re.search(r"[，,；;]", text):
        return text, explicit  # a sentence that is a name and nothing else: "TTP.", "**Myocardial infarction**"
    return None


def _beside_rejections(text: str) -> str | None:
    """A sentence's one asserted part when every other part only rejects something else ("X, not Y",
    "Not Y but X", "X; Y does not fit (because …)", 不是Y，而是X); the text itself when it has one part; None when
    a part asserts or leaves open something else."""
    parts = segments(text)
    main = [p for p in parts if p.role == "main" and not _DISMISSES.search(p.text)]
    others = [p for p in parts if p not in main]
    if len(main) == 1 and not any(_LEFT_OPEN.search(p.text) for p in others) and all(
            (p.role == "rejected" and not cues.VERB.search(p.text)) or (p.role == "main" and _DISMISSES.search(p.text))
            or (p.role == "explanation" and _after_dismissal(parts, p)) for p in others):
        return main[0].text.strip(" ,.;:，。；：") if others else text
    return None


def _after_dismissal(parts: tuple, part) -> bool:
    """A reason given for dismissing another candidate ("… tuberculosis does not fit because the granulomas are
    non-caseating"), that leaves no room for it."""
    i = parts.index(part)
    return i > 0 and bool(_DISMISSES.search(parts[i - 1].text)) and not _MAYBE.search(part.text)


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
