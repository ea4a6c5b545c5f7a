"""Whether a final response commits to a single answer, and if not, why: `uncommitted(final)`.

Which sentences and segments commit is `medo1.verify.sentences`; the shapes are `medo1.verify.shapes`.
A response does not commit to one answer — `uncommitted` names why — when it
    has no final answer (an unclosed `<think>`, a `## Thinking` never followed by `## Final
    Response`, an empty one): "no_answer";
    strikes text through ("~~X~~ Y", <del>, combining strokes): "strikethrough";
    answers yes and no ("Yes. No.", "Yes and no", 是。否。): "yes_no";
    states two different answers to one question, neither set aside ("The answer is A. Thus B.
    Thus C."; a later "actually, …" revises, an earlier "at first …" was set aside; "the diagnosis
    is X. The treatment of choice is Y" answers two questions): "chain";
    lists candidates — bare noun phrases one per line or bullet ("- MI\n- PE", "MI. PE."), joined by
    and, commas, semicolons, plus, "as well as", 、和与及 ("MI, PE and dissection", "MI plus PE") —
    or names them as such ("the differential includes …", "several conditions"): "list";
    joins them by or / vs / "/" (或, 还是), makes its answer only possible ("could be", "consider",
    可能是), weighs it, doubts or withdraws it with or after it ("I cannot be confident", "Y could equally
    account for it", 无法确定, 收回), leaves another candidate open after it ("PE is also possible", with
    no "but" / "not" to dismiss it), holds it back ("… before committing"), gives it only for now
    ("probably X", "Tentative answer: X", "X, I'd guess", 暂定), or gives none and defers ("further
    workup is needed", "pending …"): "hedge";
    names a course of conditions as the answer ("A → X → C", "A evolving into X", "A, then B, then C"; not one
    arrow from the findings or a label to the answer, "… after verapamil → digoxin toxicity", "Bottom line → X"):
    "chain"; or two at
    once ("an overlap syndrome: A with B features", 两种病变并存): "list";
    only asks ("Is it MI?", 是心肌梗死吗), or asks the reader anything after its answer ("The answer is X.
    Before you mark it, was the D-dimer drawn?"): "question"; only negates ("MI is absent", "I doubt it is
    MI", 排除心肌梗死): "negation".
After the answer, what takes it back counts wherever it stands: a figure or a tie put on it ("confidence about
55%", "60% A and 40% B", "I'd put it at 60%", "I'm split between", "B fits almost as well", "B close behind",
"first pass, open to revision", "I wouldn't commit to it yet", "I can't settle it", "the most I can commit to is
…", "I would keep both diagnoses open", "two main possibilities", "… before choosing", "I can't pin it down to a
single drug", "either answer could be right", "everything hinges on …", 把握六成, 两种都说得通, 只是初步判断),
doubt pointed at it ("It cannot be excluded", "it remains only a possibility", "It may be, at least", "Possibly —",
"I suspect it", "… before I'd say so", "X cannot be confirmed", "suspected, not established", "I can't tell which
…: it is either X or Y", "Consider it:"), a tie or a dependence ("Y is just as likely as X", "a coin flip against
Y", "A and B are both on the table", "which of these it is depends on …", "This is provisional"), the writer
speaking after it ("Without the ACTH I would hold off", "I'd say …"; not "I am confident this is X", nor a plan, "I
would start it at 25 mg"), a turn after it that dismisses nothing ("However, the scan is incomplete", "It could be
…", "That said, …"; not "However, the absence of fever argues against Y", nor a caution, "However, use it with
caution …"), a sentence that opens by backing off ("Without the biopsy …", "Until the CT is back …", "Whether …",
"Or Y", "Only …", "Then, …", "Provisional: …", a footnote to it, 目前…, 需要…; none of 2,131 correct tuned responses
does, 142 of
2,742 wrong ones do), a tie ("50/50", "a coin flip"), even in a hidden comment ("<!-- provisional -->"), or
candidates left undecided with nothing to settle them ("… the two cannot be told apart", "… remains genuinely open",
"… before anyone can call it"), a condition on it ("**X** — provided the eGFR is above 30", "X — assuming …", "the
answer changes"), the other answer just as good ("'No' is just as defensible"), 都不能排除, 并列考虑, doubt or a guess
in so many words ("Not sure though.", "Confidence: low", "Just a guess.", "Happy to be corrected", "Needs confirmation",
"Y can't be excluded either"), another answer under another condition ("If …, then X; if it's normal, Y …", 否则…), a
sentence that opens "Unless …", "Equally, …", "Might be …", or a word or two that takes it back ("No.", "Sort of.",
"Both.", "Neither."): "hedge"; setting it
aside ("Revised answer: Y", "…or rather Y", "On reflection, no", "Actually no —", "I mean …", "That label can be
set aside", "That would be wrong", "X — not present", "X — not supported", "Excluded — …", "Excluded: the lipase is
normal …", "Status: negative", "Answer: medial — no, lateral", "— no wait, …", "… sorry, …", "— on a second look, no:
…", "Update: Y", "Make that Y",
以上并非本例诊断, ——已排除, 并非如此, 改为Y, 不对，是Y, 最终选用Y): "hedge"; giving
others with it ("Plus Y and Z", "and also Y and Z", "any could explain it", "Also acceptable: Y", "both are
correct answers", "either one is fine", "All three can produce …", "I'm submitting all three", the answer listed again
among others ("Answer: X\n- X\n- Y\n- Z"), "Likely organisms: X, Y, Z", "Differential: X, Y, Z", "Any of these
is appropriate", "Other likely organisms are Y and Z", "Second choice: Y", "Y would also be accepted", "Y too.",
"And Y.", 以及Y, X、Y均可, 一并作为答案, Y也都可以, X、Y均可作为本题答案,
可选药物：X、Y, 可能的病原体：X、Y): "list". Findings, plans ("pending
the CT") and dismissed alternatives after it do not.
A yes/no answer ("No, …") commits; a range ("5-10 mg") needs the reference to judge.

It is cheap (regular expressions, no model) and reference-free: the RL hacking monitor runs it on
every sample, and the `match` verifier judges nothing correct that it flags.
"""

from __future__ import annotations

import re
from functools import lru_cache

from medo1.thinking import final_answer_text
from medo1.verify import cues, doubts
from medo1.verify.chains import chain, statement
from medo1.verify.tokens import initials
from medo1.verify.sentences import (
    CONCLUSION,
    WEAK_CONCLUSION,
    Sentence,
    committed_sentences,
    explicit,
    segments,
    sentences,
    states,
)
from medo1.verify.shapes import (
    ANSWER_LABEL,
    OR_INSIDE,
    answer_np,
    bare,
    inline_list,
    listed_sentences,
    np_list,
    paired,
    polarity,
    struck,
    words_of,
)
from medo1.verify.structured import without_offer

__all__ = ["uncommitted"]


def uncommitted(final_response: str | None) -> str | None:
    """Why a final response does not commit to a single answer, or None when it does: "no_answer",
    "strikethrough", "yes_no", "chain", "list", "hedge", "question" or "negation" (see the module
    docstring). Reference-free and cheap: it runs on every RL sample.

    It commits when a main segment of a committed sentence gives an answer (an answer statement, what
    follows "consistent with" / "points to" / "give", "she has X", a bare noun phrase) and nothing
    flags that segment; else the first reason found (list, hedge, question, negation), or a deferral
    ("further workup is needed") as a hedge. A range ("5-10 mg") needs the reference to judge."""
    final = final_answer_text(final_response or "")
    if final is None or not final.strip():
        return "no_answer"
    final = without_offer(final)  # "…\n\nWant me to walk through the Wells score?": no doubt of the answer
    if struck(final):
        return "strikethrough"
    polar = polarity(final)
    if {"yes", "no"} <= polar or "maybe" in polar:
        return "yes_no" if {"yes", "no"} <= polar else "hedge"
    found = sentences(final)
    if polar and polarity(found[0].text):  # "No, …": a yes/no answer commits, unless it doubts itself
        return "hedge" if any(doubts.DOUBT.search(s.text) or doubts.WITHDRAWN.search(s.text) for s in found) or any(
            doubts.BACKS_OFF.match(s.text) or _turns(s.text) for s in found[1:]) else None  # "Yes. That said, …"
    if chain(found):
        return "chain"
    items = listed_sentences(found)
    said = [said.words for i, s in enumerate(found)
            if i not in items and explicit(s.text) and (said := statement(s)) is not None and said.words]
    if items and (not said or any(words <= words_of(found[i].text) for i in items for words in said)):
        return "list"  # "- MI\n- PE", or the answer given and then listed with others ("Answer: X\n- X\n- Y\n- Z")
    committed = committed_sentences(final)
    first = found.index(committed[0]) if committed else 0  # committed sentences come in order
    if {first + 1, first + 2} <= items and first not in items and explicit(found[first].text):
        return "list"  # "Final answer: X\n- Y\n- Z": candidates right under the answer (no correct tuned response)
    if any(doubts.DOUBT.search(s.text) or doubts.WITHDRAWN.search(s.text) for s in found[first:]):
        return "hedge"  # "The most likely diagnosis is X. … I cannot be confident without a biopsy."
    if any(doubts.ALTERNATIVE.search(s.text) and not cues.CONTRAST.search(s.text) for s in found[first:]):
        return "hedge"  # "MI. PE is also possible.": another candidate left open
    if any(doubts.UNDECIDED.search(s.text) and not doubts.SETTLED.search(s.text) for s in found[first:]):
        return "hedge"  # "The answer is X. … Without a biopsy, the pituitary and an ectopic source cannot be told …"
    if any(cues.CANDIDATES_LABEL.search(s.text) and (np_list(rest := re.split(r"[:：]", s.text, 1)[-1])
                                                   or not rest.strip() and {j + 1, j + 2} <= items)
           and not cues.NEGATION.search(s.text) and not cues.WEIGHED.search(s.text)
           for j, s in enumerate(found) if j > first):  # or "Likely organisms:" over a list of them
        return "list"  # "The answer is X.\n\nLikely organisms: X, Y, Z." (but not "Excluded diagnoses: Y, Z")
    if any(doubts.TOGETHER.search(s.text) for s in found[first:]):
        return "list"  # "The answer is X. Y and Z go on the same answer line; I'm submitting all three."
    given = said + [words_of(found[first].text)] * bare(found[first].text)  # "**X**" given bare counts too
    if any((inline_list(s.text) or paired(s.text, given)) and any(words <= words_of(s.text) for words in given)
           for s in found[first + 1:]):
        return "list"  # the answer listed again with others: "Answer: X\n\nX; Y; adenovirus.", "**X**\n\nY; X; Z"
    asked = _HEADING.sub("", final)
    if any(found[first].question and not _RHETORICAL.search(found[first].text)  # "MI? No.": the answer itself asked
           or not _answered(asked, m.end())
           for m in _ASKED.finditer(asked, _where(asked, found[first].text))):
        return "question"  # "The answer is X. Before I lock that in, could you tell me …?"
    if found[-1].question and OR_INSIDE.search(found[-1].text):
        return "hedge"  # it ends asking which of two it is
    if any(doubts.FIRST_PERSON.search(doubts.QUOTED.sub("", s.text)) and not doubts.STANDS_BY.search(s.text)
           for s in found[first + 1:]):
        return "hedge"  # "The answer is X. … Without the ACTH I would hold off on a final diagnosis."
    if any(_turns(s.text) for s in found[first + 1:]):
        return "hedge"  # "The answer is X. … But cyclothymia is also possible if …"
    if any(doubts.BACKS_OFF.match(s.text) or doubts.FRAGMENT.match(s.text) for s in found[first + 1:]):
        return "hedge"  # "The answer is X. Without the biopsy …", "… Until the CT is back …", "… Sort of."
    if first + 1 < len(found) and _NO_DASH.match(found[first + 1].text) and not found[first].question:
        return "hedge"  # "X\n\nNo — on re-reading, …" right after the answer takes it back (not "Y? No — …")
    if any(_ALSO.search(s.text) and bare(_ALSO.sub("", s.text)) for s in found[first + 1:]):
        return "list"  # "The answer is X. Y too.", "… And Y."
    stating = tuple(s for s in committed if explicit(s.text) or CONCLUSION.search(s.text) or states(s.text))
    stating = stating or committed[-1:]  # the sentences that give the answer, not the findings beside them
    if any(_tentative(s.text) for s in stating):
        return "hedge"  # "Tentative answer: X", "The culprit is presumably X", "X, I'd guess"
    if any(_progression(s.text) or len(_LEADS_TO.findall(s.text)) > 1 for s in stating) or any(
            _FIRST_THEN.match(s.text) for s in committed + found[first + 1:]):  # "First cirrhosis, then portal …"
        return "chain"  # "SBP → hepatorenal syndrome → liver failure": a course, not one answer
    if any(_TWO_AT_ONCE.search(s.text) for s in stating):
        return "list"  # "an overlap syndrome: A with B features", 肺结核合并肺鳞癌，两种病变并存
    reasons: list[str] = []
    for sentence in committed:
        reason, answered = _sentence_reason(sentence)
        if answered:
            return None
        if reason:
            reasons.append(reason)
    for reason in ("list", "hedge", "question", "negation"):
        if reason in reasons:
            return reason
    return "hedge" if doubts.DEFERRAL.search(final) else None


@lru_cache(maxsize=4096)
def _sentence_reason(sentence: Sentence) -> tuple[str | None, bool]:
    """Why a committed sentence does not commit, and whether one of its main segments gives an answer
    that nothing flags (then it commits)."""
    if sentence.question:
        return "question", False
    if inline_list(sentence.text) or cues.CANDIDATES_LABEL.search(sentence.text):
        return "list", False
    strong = bool(CONCLUSION.search(sentence.text) or states(sentence.text)
                  or explicit(sentence.text))
    weak = not strong and bool(WEAK_CONCLUSION.search(sentence.text))  # "she has A and B": findings, not answers
    reasons = []
    for segment in segments(sentence.text):
        text = segment.text
        if segment.role != "main" or ANSWER_LABEL.match(text):
            continue
        np = answer_np(text, concluded=strong)
        if not weak and np_list(np):
            reasons.append("list")
        elif (cues.CANDIDATES.search(text) or _CANNOT_EXCLUDE.search(text)
              or OR_INSIDE.search(_ASIDE_ZH.sub("", np or text).rstrip(" /"))):  # "TP/(TP+FN)": a formula
            reasons.append("hedge")
        elif _negated(text, np):
            reasons.append("negation")
        elif cues.WEIGHED.search(text) or _POSSIBLE_INSIDE.search(text):
            reasons.append("hedge")
        elif np.strip(" ,.;:"):
            return None, True
    return (reasons[0] if reasons else None), False


def _turns(text: str) -> bool:
    """A turn after the answer that dismisses nothing (`doubts.TURN`)."""
    turn = doubts.TURN.search(text)
    if turn is None:
        return False
    if turn.group("always"):
        return True  # "That said, …", "On the other hand, …": turned against the answer itself
    rest = turn.group("rest") if turn.group("rest") is not None else turn.group("zrest")
    rest = text if rest is None else rest
    return not (cues.CONTRAST.search(rest) or _CAUTION.search(rest))


def _answered(text: str, end: int) -> bool:
    """Whether a question ending at text[end] is answered right after it, as a tutor asks and answers ("Sulfonylureas?
    They come later.", "Why? An opening snap …", "Previa or abruption? Previa is painless — so this is abruption")."""
    after = re.split(r"[?？.!。\n]", text[end:].strip(), 1)[0]
    asked = re.split(r"[.!。\n]", text[:end].rstrip("?？ "))[-1]
    if (not re.search(r"\w", after) or _COURTESY.match(after) or _DOUBTS_ITSELF.search(asked)
            or not (_RHETORICAL.search(asked) or bare(asked)) or _STILL_OPEN.search(after)):
        return False  # "Pneumothorax? Also possible.", "What about Y? It remains on the list."
    if bare(asked) and not _WH_WORD.match(asked) or _CANDIDATE_ASKED.search(asked):  # a candidate asked about: it
        return bool(_DISMISSES.search(after))  # is answered by dismissing it: "Klebsiella? …; it doesn't fit here."
    return True  # "Why? An opening snap …", "What explains the alkalosis? The vomiting."


# what leaves a candidate asked about open, and what dismisses it
_STILL_OPEN = re.compile(r"\balso\s+(?:possible|likely|plausible|fits?)\b|"
                         r"\b(?:fits?|works?|explains?\s+it)\s+(?:too|as\s+well)\b|"
                         r"\b(?:equally|possible|possibly|maybe|perhaps|(?<!less\s)(?<!un)likely|on\s+the\s+(?:list|table|cards)|"
                         r"cannot\s+say|can't\s+say|unsure|uncertain|no\s+reason|consider|we(?:'ll|\s+will)\s+see|will\s+tell|"
                         r"can(?:not|'t)\s+(?:be\s+)?(?:excluded|ruled\s+out))\b", re.IGNORECASE)
_WH_WORD = re.compile(rf"\W*(?:so\s+|and\s+)?{cues.WH_WORDS}\b", re.IGNORECASE)
_CANDIDATE_ASKED = re.compile(r"\bwhat\s+about\b|\bcould\s+(?:it|this)\s+be\b|\bwhy\s+not\b|\bis\s+it\b|"
                              r"(?:^|\s)(?:or|vs\.?|versus)\s", re.IGNORECASE)
_DISMISSES = re.compile(r"^\W*no\b|\b(?:not|doesn't|does\s+not|isn't|is\s+not|wouldn't|would|unlikely|less\s+likely|"
                        r"excluded?|ruled?\s+out|wrong|never|lacks?|without|absent|instead|rather|later|second-line|"
                        r"rarely|but|so\s+(?:this|it)\s+is|therefore|thus|too\s+\w+|normal|negative|clear|spared|preserved)\b|"
                        r"\bno\s+[—–-]", re.IGNORECASE)


# the questions a tutor asks on the way and answers: "What explains the alkalosis?", "Why?", "So which …?"
_RHETORICAL = re.compile(rf"(?:^|[—–,;:]\s*)(?:so\s+|and\s+|but\s+)?{cues.WH_WORDS}\b|"
                         r"(?:^|\s)(?:or|vs\.?|versus)\s|\bwhat\s+about\b|\bcould\s+(?:it|this)\s+be\s+(?!(?:it|that|this)\b)\w",
                         re.IGNORECASE)


# a question put to the answer itself is a doubt, whatever follows: "Is that really it, though?", "So is it?"
_DOUBTS_ITSELF = re.compile(r"(?:^|[—–,;:]\s*)(?:so|but|or|and)?\s*(?:is|was|could|can|would|might|am\s+i)\s+"
                            r"(?:it|that|this|i)"
                            r"(?:\s+(?:really|actually|truly|definitely|right|sure|correct|it|so|the\s+answer))*"
                            r"(?:\s*,?\s*though)?\W*$|^\W*(?:really|sure|right|or\s+not)\W*$", re.IGNORECASE)
_COURTESY = re.compile(r"^\W*(?:thanks|thank\s+you|please|cheers|let\s+me\s+know|happy\s+to|i'?ll\s+wait|awaiting)\b",
                       re.IGNORECASE)


def _where(raw: str, text: str) -> int:
    """Where a sentence (its markup taken out: "Answer:  X" for "**Answer:** X") starts in the raw text."""
    words = re.findall(r"\w+", text)[:4]
    found = re.search(r"\W+".join(map(re.escape, words)), raw) if words else None
    return found.start() if found else 0


def _progression(text: str) -> bool:
    """A course of conditions named as the answer (`PROGRESSION`): not one arrow from the findings, or from a label,
    to the answer ("Halos and bradycardia after verapamil → digoxin toxicity", "Bottom line → X", "→ **X**")."""
    text = _ARROW_LABEL.sub("", text)
    if (equals := _EQUALS.search(text)) and not re.search(r"\d", text):
        # "X = Y": one name set equal to another is a course (not "findings + more findings = X", "X = a clot …")
        left, right = text[:equals.start()], text[equals.end():]
        return (bare(left) and bare(right) and not re.search(r"[+,&]|\b(?:plus|and|with)\b", left, re.IGNORECASE)
                and not re.match(r"\W*(?:an?|the)\b", right, re.IGNORECASE) and not _FROM_FINDINGS.search(left)
                and not _SLOT_ONLY.fullmatch(left) and not initials(right.strip(" .*_"), left)
                and not initials(left.strip(" .*_"), right))  # "organism = X", "X = its initials"
    found = PROGRESSION.search(text)
    if found is None:
        return False
    if PROGRESSION.search(text, found.end()) or not cues.ARROW.fullmatch(found.group()):
        return True  # two steps or more, or "evolving into"
    if cues.TO_CARE.match(text[found.end():]):
        return False  # "Testicular torsion → theatre, now": the answer and what to do about it
    return bare(text[:found.start()]) and not _FROM_FINDINGS.search(text[:found.start()])


def _tentative(text: str) -> bool:
    """An answer given only for now: a tentative word in its answer part (after the last "is" / ":") or in
    the label before it ("Tentative answer: X"), not one that qualifies the subject ("This presumably
    autoimmune pericarditis is Dressler syndrome")."""
    if _TENTATIVE_LABEL.search(text):
        return True
    for part in _PARTS.split(text):
        main = _ASIDE.split(part, 1)[0]  # not in a concession: "X, though the clonus is presumably mild"
        found = doubts.TENTATIVE.search(main)
        answer_starts = [m.end() for m in _ANSWER_PART.finditer(main)]  # after the last "is" / ":"
        if found and found.start() >= (answer_starts[-1] if answer_starts else 0):
            return True
    return False


def _negated(text: str, np: str) -> bool:
    """A segment that negates: a negation word, unless it states an answer that is not negated ("the absent
    cough makes X the best answer")."""
    stated = _STATED_INSIDE.search(text)  # "In a child with no hematuria, the most likely cause is X"
    text = text[stated.end():] if stated else text
    text = _CONDITION.sub("", text)  # "X, repeated after 5 minutes if there is no improvement"
    text = _PURPOSE.sub("", text)  # "X (sent with a total IgA to exclude IgA deficiency)"
    text = _SET_ASIDE.sub("", text)  # "X 1 g IM (not ciprofloxacin — …)", X——…，不是急性心肌梗死: another dismissed
    text = _BRACKETED.sub("", text)  # "Tension pneumothorax (trachea deviated, absent breath sounds, …)": findings
    if not _NEGATED.search(text):
        return False
    # "The next step is a lumbar puncture, … red cells that don't clear": the statement's answer is not negated
    return not (np.strip() and (explicit(text) or states(text))) or bool(_NEGATED.search(np))


# a caution about giving the answer, not a turn against it: "However, use it with caution in …", 但…慎用
_CAUTION = re.compile(r"\b(?:caution|cautious(?:ly)?|contraindicated|use\s+(?:it\s+)?(?:with\s+)?care)\b|慎用|禁用|以免",
                      re.IGNORECASE)
_SET_ASIDE = re.compile(r"(?<=\S)\s*[(（]\s*(?:not|rather\s+than|instead\s+of)\b[^)）]*[)）]?|"
                        r"(?<=[^\W\d_])[，,]\s*(?:不是|并非|而非|而不是)[^，,。；;]+$", re.IGNORECASE)
_BRACKETED = re.compile(r"\s*[(（][^()（）]*[)）]")
_PURPOSE = re.compile(r"\bto\s+(?:exclude|rule\s+out)\b[^,;()]*", re.IGNORECASE)
_CONDITION = re.compile(r"(?:^|[,;])[^,;]*?\b(?:if|unless|whenever|until)\b[^,;]*", re.IGNORECASE)
_NEGATED = re.compile(rf"{cues.NEGATION.pattern}|\b(?:absent|negative\s+for|off\s+the\s+table)\b|除外|可能性(?:很|较|"
                      rf"极)?(?:小|低|不大)",
                      re.IGNORECASE)
_STATED_INSIDE = re.compile(rf",\s*(?=(?:so\s+|thus\s+|therefore\s+)?(?:the|my|our)\s+(?:[\w-]+\s+){{0,3}}?"
                            rf"(?:{cues.SLOT})s?\s+(?:is|would\s+be|must\s+be)\b)|"
                            r"\b(?:indicates|points\s+(?:to|toward)|(?:is|are)\s+(?:most\s+)?consistent\s+with|"
                            r"confirms|"
                            r"establishes|(?:is|are)\s+(?:diagnostic|characteristic|typical)\s+of)\s+", re.IGNORECASE)
# "First cirrhosis, then portal hypertension, then …": a course, in any committed sentence too
_FIRST_THEN = re.compile(r"^\W*first\b[^.;]{1,80}?,?\s*then\b", re.IGNORECASE)
# A course of several conditions named as the answer: "A → B → C", "A evolving into B", "A, leading on to B and
# then C" (one "leading to" alone explains a cause: "thiamine deficiency, leading to Wernicke encephalopathy")
PROGRESSION = re.compile(rf"{cues.ARROW.pattern}|\b(?:evolv(?:ing|ed)|turn(?:ing|ed)|transform(?:ing|ed))\s+into\b|"
                         r"\bgave\s+way\s+to\b|" + _FIRST_THEN.pattern + "|"
                         r"先是[^。；;]{1,30}[，,]\s*(?:后来|然后|继而|随后)|\bprogress(?:ing|ed)\s+(?:on\s+)?to\b|"
                         r"\bwent\s+on\s+to\b|\bculminating\s+in\b|进展为|演变为|发展为|继而(?:引起|出现)",
                         re.IGNORECASE)
_EQUALS = re.compile(r"\s=\s")
_SLOT_ONLY = re.compile(rf"\W*(?:the\s+)?(?:(?:{cues.GRADE_WORDS})\s+)*(?:{cues.SLOT})s?\W*", re.IGNORECASE)
_NO_DASH = re.compile(r"^\W*no\s*[—–]\s", re.IGNORECASE)
_TWO_AT_ONCE = re.compile(r"\boverlap\s+(?:syndrome|of)\b|\bco-?exist\w*|\bconcurrent\b|并存|同时存在", re.IGNORECASE)
# a question that heads a part or restates the question asked: "### Which property rules disease out?", "**Why not
# sepsis alone?**", "Question: which of her drugs …?"
_ALSO = re.compile(r"\s+(?:too|as\s+well|also)\W*$|^\W*and\s+(?:also\s+)?", re.IGNORECASE)
_HEADING = re.compile(r"^[ \t]*(?:#{1,6}[ \t].*|(?:\*\*|__)[^*_\n]+[?？](?:\*\*|__)[ \t]*|"
                      r"(?:question|q)[ \t]*[:：].*)$",
                      re.MULTILINE | re.IGNORECASE)
_ASKED = re.compile(r"[?？](?![A-Za-z0-9])")  # a question mark that ends a question (not "?acute cholangitis")
_PARTS = re.compile(r"[;—–]|\s-\s")
# an aside after the answer, including a tentative word about its cause: "X, probably from a ruptured aneurysm"
_ASIDE = re.compile(r",\s*(?:though|although|but|yet|while|whereas|since|because|given|(?:probably|likely|presumably|"
                    r"possibly)\s+(?:from|due\s+to|caused\s+by|secondary\s+to|related\s+to|because))\b", re.IGNORECASE)
_ANSWER_PART = re.compile(r"\s(?:is|are|was|would\s+be)\s|[:：]", re.IGNORECASE)
_TENTATIVE_LABEL = re.compile(rf"(?:{doubts.TENTATIVE.pattern})(?:\s+(?:answer|diagnosis|dx|impression)\b|"
                              rf"[^:：.]{{0,80}}[:：])",
                              re.IGNORECASE)  # "Tentative answer: X", "Working diagnosis, to be revisited …: X"
_ARROW_LABEL = re.compile(r"^\W*(?:(?:final\s+)?(?:answer|diagnosis|dx)|bottom\s+line|conclusion|so|therefore|thus|"
                          r"hence|overall|impression|verdict)\s*(?:→|->|=>|⇒)", re.IGNORECASE)  # "Answer → X"
# findings before a single arrow: a number, a finding word, several of them
_FROM_FINDINGS = re.compile(r"\d|,|\b(?:and|with|after|on|positive|negative|raised|high|low|elevated|normal|absent)\b",
                            re.IGNORECASE)
# a Chinese aside in brackets after the answer ("特应性皮炎（…常有哮喘或过敏性鼻炎家族史）"): no second candidate
_ASIDE_ZH = re.compile(r"（[^（）]*）")
_LEADS_TO = re.compile(r"\bleading\s+(?:on\s+)?to\b|\b(?:and|,)\s*then\b|\band\s+now\b|\bresult(?:s|ing)\s+in\b|"
                       r"\bfollowed\s+by\b|"
                       r"\bcomplicated\s+by\b", re.IGNORECASE)
_CANNOT_EXCLUDE = re.compile(r"\b(?:cannot|can't|can\s+not)\s+be\s+(?:excluded|ruled\s+out)\b|不能排除|不除外", re.IGNORECASE)
_POSSIBLE_INSIDE = re.compile(
    r"(?:^|\s)\?(?=\w)|"  # "?acute cholangitis": a query
    r"\b(?:could|might|may|possibly|possible|possibilit(?:y|ies)|perhaps|maybe|potentially|conceivably|uncertain|"
    r"unclear|undetermined|not\s+(?:yet\s+)?(?:clear|certain|known)|"
    r"consider(?!\s+(?:[\w'-]+\s+){0,5}?(?:as\s+|to\s+be\s+)?the\s+(?:most|answer|diagnosis|best)))\b|"
    r"leans?\s+(?:\w+\s+)?toward|leaning\s+(?:\w+\s+)?toward|slightly\s+favou?rs?|favou?rs?\s+slightly|倾向于?|"
    r"(?<![最很极更])(?<!最有)(?<!很有)(?<!极有)可能|或许|也许|疑似|不除外|(?<!首先)(?<!综合)考虑(?!为)|不确定|待定", re.IGNORECASE)
