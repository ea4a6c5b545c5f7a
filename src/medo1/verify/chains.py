"""Chains of answers: two answer statements for one question that name different answers ("The answer is A. Thus B.",
"…, so A. Therefore B."), for `medo1.verify.answer.uncommitted`. `statement` reads what one sentence states and for
which question (its slot: diagnosis, treatment, … or "so" for a bare "thus X"); `chain` finds two that disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medo1.verify import cues
from medo1.verify.sentences import Sentence
from medo1.verify.shapes import bare, words_of

__all__ = ["Statement", "chain", "conclusion", "statement"]

_NP_END = re.compile(r"\s*(?:[,;:(（，；：]|\s[-–—]\s|——|\b(?:given|because|since|as|due\s+to|which|that|with|in|from|"
                     r"based|secondary|caused|after|on|for|at|by|who|when|while|and\s+(?:the|it|this|he|she|they|is|"
                     r"was|should|needs?|requires?))\b)", re.IGNORECASE)
# what a statement answers ("the drug is …" is its own question: the culprit drug or the one to give)
_SLOTS = {"dx": "diagnosis", "choice": "answer", "option": "answer", "aetiology": "cause", "etiology": "cause",
          "culprit": "cause", "pathogen": "organism", "therapy": "treatment", "management": "treatment",
          "condition": "diagnosis", "disease": "diagnosis", "disorder": "diagnosis", "答案": "answer", "结论": "answer",
          "诊断": "diagnosis", "病因": "cause", "原因": "cause", "治疗": "treatment", "首选": "treatment"}


@dataclass(frozen=True)
class Statement:
    slot: str  # what the statement answers ("diagnosis", "treatment", ...); "so" for a bare "thus X"
    words: frozenset[str]
    revises: bool  # "actually, …": it sets aside what came before
    superseded: bool  # "at first …": it was set aside


@lru_cache(maxsize=8192)
def statement(sentence: Sentence) -> Statement | None:
    """The answer a sentence states, if it is an answer statement: "the diagnosis is X", "final answer:
    X", "X is the most likely diagnosis", "thus X" (X a bare noun phrase)."""
    if sentence.question or _STEP_TASK.match(sentence.text):
        return None  # "Step 2 — ACTH-dependent or independent?", "Step 1 — Confirm hypercortisolism": a task, no answer
    text = _STEP_LABEL.sub("", sentence.text)  # "Step 1: polyuria → nephrogenic DI": a step of reasoning, not "the step"
    found = cues.STATEMENT_FIRST.match(text) or cues.STATEMENT_ZH.match(text)
    if found:
        slot, np = found.group("slot").lower(), _NP_END.split(found.group("np"), 1)[0]
    elif (found := cues.STATEMENT_DUE.match(text)) is not None:
        slot, np = "so" if found.group("so") else "cause", _NP_END.split(found.group("np"), 1)[0]
    elif (found := cues.STATEMENT_LAST.match(text)) is not None:
        slot, np = found.group("slot").lower(), re.split(r"[,;:，；：]", found.group("np"))[-1]
    elif ((found := cues.STATEMENT_SO.match(text)) is not None and bare(found.group("np"))
          and not _PLAN.match(found.group("np"))):  # "so replace B12 first" is a plan
        slot, np = "so", found.group("np")
    else:
        return None
    if _NOT.search(np):  # "so a CT angiogram isn't the first step", "so neither X nor Y is …" state nothing
        return None
    return Statement(_SLOTS.get(slot, slot), words_of(np), bool(cues.REVISION.match(text)),
                     bool(cues.SUPERSEDED.search(text)))


_STEP_TASK = re.compile(r"^\W*step\s+\d+\W+(?:confirm|exclude|establish|determine|identify|assess|decide|distinguish|"
                        r"locali[sz]e|find|work\s+out|check)\b", re.IGNORECASE)
_STEP_LABEL = re.compile(r"^\W*step\s+\d+\s*(?:[:.)]|\s[-–—])\s*", re.IGNORECASE)
_PLAN_LABEL = re.compile(r"^\W*(?:recommendations?|plan|management|tx|rx|treatment)\s*[:：]", re.IGNORECASE)
_NOT = re.compile(r"n't\b|\b(?:not|never|no|neither|nor)\b", re.IGNORECASE)
_PLAN = re.compile(r"^\W*(?:replace|give|start|begin|stop|treat|repeat|continue|add|check|monitor|refer|admit|order|"
                   r"send|withhold|hold)\b", re.IGNORECASE)
_CLAUSES = re.compile(r"[;；]|,\s*(?=(?:so|therefore|thus|hence)\s)|"
                      r"\s[—–]\s*(?=(?:so|therefore|thus|hence)\s+(?:the|his|her|this|its|their)\s)", re.IGNORECASE)


def chain(found: tuple[Sentence, ...]) -> bool:
    """Two answer statements for one question naming different answers, neither set aside ("The answer is
    A. Thus B.", "thus A; thus B", "…, so A. Therefore B."). A statement that revises ("actually, …") sets aside all before it; a bare "thus X" answers
    whatever was asked; one answer may restate another in fewer words."""
    if _leaves_opening(found):
        return True
    live: list[Statement] = []
    clauses = ((Sentence(part.strip(), s.question, s.heading), bool(_PLAN_LABEL.match(s.text)))
               for s in found for part in _CLAUSES.split(s.text))
    for s, planned in clauses:  # "thus X; thus Y" and "…, so X. Therefore Y." chain as "Thus X. Thus Y." does
        said = statement(s) if s.text else None
        if said is None or not said.words:
            continue
        if planned and said.slot == "so":  # "Recommendation: CURB-65 is 2, so amoxicillin": what to give
            said = Statement("treatment", said.words, said.revises, said.superseded)
        if said.revises:
            live = []
        for before in live:
            if (before.slot == said.slot or "so" in (before.slot, said.slot)) \
                    and not (before.words <= said.words or said.words <= before.words):
                return True
        if not said.superseded:
            live.append(said)
    return False


def _leaves_opening(found: tuple[Sentence, ...]) -> bool:
    """A bare answer opening the response, and a bare "Therefore, Y" concluded after its reasoning: "Crush injury. That
    leads to rhabdomyolysis, … Therefore, hyperkalaemic cardiac arrest." (a whole sentence: "…, so a D-dimer adds
    nothing" concludes nothing)."""
    if not _opens_bare(found):
        return False
    opening = words_of(found[0].text)
    return any((said := statement(s)) is not None and said.words and not (said.words <= opening or opening <= said.words)
               and (said.slot == "so" or said.slot in ("answer", "diagnosis", "cause") and _THEREFORE.match(s.text)
                    and not _FINDING.search(found[0].text))  # "Three days after surgery. …  So the answer is X."
               for s in found[2:])


_THEREFORE = re.compile(r"\W*(?:so|therefore|thus|hence)\b", re.IGNORECASE)
_FINDING = re.compile(r"\d|\b(?:after|before|since|ago|hours?|days?|weeks?|months?|years?|old|with|on|in)\b",
                      re.IGNORECASE)


def _opens_bare(found: tuple[Sentence, ...]) -> bool:
    """A response that opens with a bare answer of a few words ("Crush injury."), with reasoning after it."""
    first = found[0] if len(found) > 2 else None
    return (first is not None and not first.heading and not first.question and len(first.text.split()) <= 6
            and bare(first.text) and not cues.VERB.search(first.text) and not _NO_OPENING.match(first.text))


# not an answer: "Let's eliminate.", a heading ("**Assessment**", "Clinical reasoning")
_NO_OPENING = re.compile(r"\W*(?:let(?:'s|\s+us|\s+me)\b|(?:clinical\s+|brief\s+|case\s+)?(?:assessment|summary|reasoning|"
                         r"explanation|impression|analysis|discussion|background|key\s+points|answer|diagnosis)\W*$)",
                         re.IGNORECASE)


def conclusion(found: tuple[Sentence, ...]) -> str | None:
    """Where a response in numbered steps ("Step 1: …", "Step 2: …") ends up: its last answer statement from its
    last step on ("Therefore: Y", "So the answer is Y"), or where an arrow in its last step leads. None for a
    response not in steps, or one that states no answer after them. What the steps say on the way ("Step 1:
    metformin", "→ nephrogenic DI") is not the answer."""
    steps = [i for i, s in enumerate(found) if _STEP_LABEL.match(s.text)]
    if len(steps) < 2:
        return None
    stated = next((s.text for s in reversed(found[steps[-1]:]) if statement(s) is not None), None)
    if stated is None and len(last := cues.ARROW.split(found[steps[-1]].text)) > 1 and bare(last[-1]):
        return last[-1]  # "Step 3 – Mentzer index 11 → β-thalassaemia trait": where the last step leads
    return stated
