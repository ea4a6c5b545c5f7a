"""The `match` verifier: no model; the one answer a final response commits to, against the reference.

Correct means: the final response commits to a single answer (`medo1.verify.answer`: no list, no
hedge, no question, no negation, no chain of conclusions, no struck-through text — see
`uncommitted`) and a segment of it that asserts (not rejects, negates, concedes, weighs or asks)
names the reference, and no other statement of the answer anywhere in it names something else ("… and the
answer to that is ATN", "Specifically portal hypertension", "In other words, start apixaban", "Overall, the picture
is best labelled as Y", "…, which is my final answer", "Final diagnosis: Y", "Final answer for her flank pain: Y",
"… — that's the cause of death asked for", "…, so this is Y" after the answer,
诊断归结为Y, 本例应为Y — `medo1.verify.statements`; a statement
of another kind of answer — "the treatment of choice is …" after "the diagnosis is …" — answers another question),
a restatement of it does not hold it back ("More precisely: X may be …"), a revision keeps it ("On second
thought, …" names the reference and says it stands), no statement joins it to another by "or" ("the correct
answer at this stage is haemophilia A or B"), no course of conditions passes through it ("A → X → C") or, after it,
ends in something else, and no later sentence joins it to another by or / "/" ("Gout / pseudogout: …"), negates the
reference or makes it only possible ("… 可以排除缺铁性贫血", "X may be the explanation") or names its opposite
without dismissing it ("… so this is hypokalaemia" for "Hyperkalaemia"). When the committed
answer statement names something else ("The hormone is DHT."), the reference named only in the findings after
it ("… normal testosterone levels …, so …") is not its answer; nor is it when a later statement by the
reference's own head noun names something else ("Final answer: chi-square test. … the correct test here is
Fisher's exact test"). A missing final answer (an unclosed `<think>`, a `## Thinking` never
followed by `## Final Response`) is simply not correct.

Naming the reference (`medo1.verify.naming`) is tolerant where wording varies — other names
(`medo1.verify.synonyms`: "Churg-Strauss syndrome" for "eosinophilic granulomatosis with polyangiitis"), spellings,
abbreviations, word forms — and exact where a small word changes the answer: numbers, Roman numerals, qualified
letters, negating prefixes, hypo- vs hyper-, and opposites.

The reference given as an example of a class is not the answer ("a P2Y12 inhibitor like clopidogrel — specifically
prasugrel"). The reference inside a longer entity is not the reference: "portal hypertension" is not "hypertension",
"vitamin K antagonist" not "vitamin K"; extra words that only qualify it are allowed, and only those the rules
in `medo1.verify.entities` name.

Languages: answers are compared within one language. Chinese compares as a phrase of characters
(characters in another order are another word); a "…性" word before it that is not a named qualifier
(`ZH_MODIFIERS`: 急性, 慢性, 原发性, 弥漫性, …) or the prefixes 先兆, 假, 类, 抗 make another entity
(心源性哮喘 is not 哮喘, 先兆子痫 not 子痫), and so does a head after it that it causes (…肾病, …病变, …足, …综合征,
…性X: 糖尿病肾病 is not 糖尿病, 高血压性心脏病 not 高血压); a correct answer written in another language than
the reference (心肌梗死 or "infarctus du myocarde" for "myocardial infarction") is not confirmed — it
counts as not correct — unless the words are the same (drug names). A judge or a trained classifier
can; `match` cannot without a dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medo1.thinking import final_answer_text
from medo1.verify import cues, doubts
from medo1.verify.answer import uncommitted
from medo1.verify.chains import conclusion
from medo1.verify.entities import another_entity, subtype
from medo1.verify.letters import committed_letters, option_letter, stated_letter_dropped, strip_letter
from medo1.verify.naming import find
from medo1.verify.opposites import opposite_stated
from medo1.verify.sentences import Segment, committed_sentences, explicit, segments, sentences, states
from medo1.verify.shapes import (
    FINDINGS_LABEL,
    OR_INSIDE,
    answer_np,
    bare,
    hedged,
    inline_list,
    listed,
    listed_sentences,
    polarity,
    struck,
)
from medo1.verify.statements import NOT_NAMING, REFINED_INSIDE, stated_answers
from medo1.verify.structured import as_lines, without_offer
from medo1.verify.synonyms import variants
from medo1.verify.tokens import (
    ABBREVIATIONS,
    Token,
    is_cjk,
    normalize_tokens,
    stem,
    token_f1,
    tokens,
)

__all__ = ["ABBREVIATIONS", "MatchVerifier", "normalize_tokens", "option_letter", "token_f1"]

_YES_NO = re.compile(r"^\W*(yes|no|maybe|是的?|否|不是)(?:\W*$|[,.;:，。]\s*)", re.IGNORECASE)
# "the correct test (for this data set) is Y": a statement of the answer by the reference's head noun
_CORRECT_HEAD = re.compile(r"\bthe\s+(?:correct|right|appropriate|proper|preferred)\s+(?P<head>[a-z]+)\b"
                           r"[^.;:]{0,40}?\s+"
                           r"(?:is|would\s+be)\s+(?P<np>[^.;,]+)", re.IGNORECASE)
# the reference given as an example of a class: "A P2Y12 inhibitor like clopidogrel — specifically prasugrel"
_EXAMPLE = re.compile(r"(?<!look\s)(?<!looks\s)(?<!sounds\s)(?<!seems\s)\b(?:like|such\s+as|e\.g\.,?|for\s+example,?|"
                      r"for\s+instance,?)\s*$", re.IGNORECASE)
# the reference joined to another name by or / "/" / vs ("Gout / pseudogout"; not "L5/S1", "1 g/hour")
_OR = r"\s*(?:/(?!(?:L|dL|mL|kg|h|min|day|m2|m²)\b)|\b(?:or|vs\.?|versus)\b|或者?|还是)\s*"  # not "mmol/L"
_NAME = r"(?:[A-Za-z\u4e00-\u9fff]{3,}|\b[A-Z]\b)"  # a word, or a letter ("haemophilia A or B")
_LED = re.compile(r"^[^\w→↳⟶⇒]*(?:→|↳|⟶|⇒)\s*([^:：—–,(.;]+)")
_OR_NEXT = re.compile(_OR + _NAME)
_OR_PREVIOUS = re.compile(_NAME + _OR + "$")
_OR_JOINED = re.compile(_NAME + _OR + _NAME)
# a restated answer that holds back: "… may be …", "I suspect …", "cannot be excluded"
_POSSIBLE_OR_TENTATIVE = re.compile(rf"{doubts.TENTATIVE.pattern}|\b(?:could|might|may|possibly|perhaps|maybe|"
                                    r"unconfirmed|uncertain|unclear)\b|(?:cannot|can't)\s+be\s+(?:excluded|ruled\s+out)|"
                                    r"可能|也许|疑似|不除外", re.IGNORECASE)
_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
@dataclass
class MatchVerifier:
    """No model: the reference must be the one answer the final response commits to.

    The response is correct when it commits to a single answer (`uncommitted` finds no reason it
    does not) and a segment of its committed sentences that asserts its words names the reference —
    and no committed segment rejects, negates, hedges, lists, asks or lengthens the reference. A
    segment names the reference when
      - the reference's normalised words appear in it as a phrase, or
      - at least `min_containment` of the reference's content words appear in it, close together
        (`medo1.verify.naming`), or
      - the token F1 of the content words is at least `min_f1`, or
      - it is the reference's initials ("MI" for "myocardial infarction"), or holds them as one word in
        capitals ("the diagnosis is LEMS" for "Lambert-Eaton myasthenic syndrome"),
    and, around the words it matched, its numbers, qualified letters, negating prefixes,
    hypo-/hyper- and opposites agree with the reference. A reference that is an option letter ("C",
    "(C)") is compared with the one letter the response commits to; a yes/no reference with the one
    of yes / no / maybe the response gives.
    """

    min_containment: float = 1.0
    min_f1: float = 0.7
    name: str = "match"

    async def verify(self, response: str, reference: str) -> bool:
        return self.check(response, reference)

    def check(self, response: str | None, reference: str | None) -> bool:
        final = final_answer_text(response or "")
        reference = (reference or "").strip()
        if final is None or not final.strip() or not reference or struck(final):
            return False
        # {"answer": "X", "rejected": ["Y"]} read as "answer: X" / "rejected: Y"; a closing offer of help left out
        final = without_offer(as_lines(final))
        yes_no = _YES_NO.match(reference)
        if yes_no:
            word = yes_no.group(1).lower()
            return uncommitted(final) is None and polarity(final) == {
                "no" if word in ("否", "不是") else "yes" if word in ("是", "是的") else word}
        if uncommitted(final) is not None:
            return False
        if len(reference) <= 4 and option_letter(reference):
            letters, hedge = committed_letters(final)
            return not hedge and set(letters) == {option_letter(reference)}
        refs = [(variant, ref) for variant in variants(strip_letter(reference)) if (ref := tokens(variant))]
        # "Churg-Strauss syndrome" for "EGPA" (`synonyms`); no other statement of the answer names something else
        return (any(self._named(final, ref, variant) for variant, ref in refs) and not self._other_answer(final, refs)
                and not opposite_stated(final, refs[0][1]))

    def _other_answer(self, final: str, refs: list[tuple[str, tuple[Token, ...]]]) -> bool:
        """Whether a statement of the answer anywhere in the final response ("… the answer to that is Y",
        诊断归结为Y, 本例应为Y) names something the reference is not: a second answer the committed sentences
        did not show."""
        stated = [s for s in stated_answers(stated_letter_dropped(final)) if s.revised or not NOT_NAMING.match(s.np)]
        if any(s.restated and _POSSIBLE_OR_TENTATIVE.search(s.np) for s in stated):
            return True  # "More precisely: X may be the explanation", "To be accurate, I suspect X"
        named = [s.kept and self._names(s.np, refs)
                 and not (_OR_JOINED.search(_BRACKETED.sub("", s.np)) and not OR_INSIDE.search(refs[0][0]))
                 for s in stated]  # "A or B" (not in an aside: "肺栓塞（多见于术后或长途飞行后）")
        # the question the reference answers: the slots of the statements that name it. A statement that names
        # something else answers the same question when its slot is one of those, or either is "the answer";
        # "The diagnosis is A. The treatment of choice is B." answers two questions.
        slots = {s.slot for s, ok in zip(stated, named) if ok}
        # what the case is, said before the answer names the reference, is a step to it ("…, so this is eclampsia.
        # … So the answer is magnesium sulfate"); said after it, it is a second answer
        answered = next((i for i, (s, ok) in enumerate(zip(stated, named)) if ok and not s.case), -1)
        if any(not ok and (s.slot == "answer" or s.slot in slots or "answer" in slots)
               and not ((s.case or s.restated and not s.revised) and i < answered)
               for i, (s, ok) in enumerate(zip(stated, named))):
            return True
        # "The correct test for this data set is Fisher's exact test" for "Chi-square test": the reference's own head
        words = normalize_tokens(refs[0][0], expand=False)
        head = stem(words[-1]) if words else ""
        for m in _CORRECT_HEAD.finditer(final):
            if head and stem(m.group("head").lower()) == head and not self._names(m.group("np"), refs):
                return True
        # "Answer: S. aureus. Gram-positive cocci → catalase positive → coagulase negative → *S. epidermidis*": where a
        # course after the answer ends is another answer
        found, committed = sentences(final), committed_sentences(final)
        for sentence in found[found.index(committed[0]) + 1 if committed else 0:]:
            steps = cues.ARROW.split(sentence.text)
            if len(steps) > 2 and bare(steps[-1]) and not self._names(steps[-1].strip(" .*_"), refs):
                return True
            led = _LED.match(sentence.text)  # "**Cholangitis**\n→ primary sclerosing cholangitis: …": a kind of it
            if led and self._find(tokens(led[1]), refs[0][1], led[1], refs[0][0]) and not self._names(led[1], refs):
                return True
        # "Step 1: metformin. Step 2: … So the answer is empagliflozin": where steps end is the answer
        if (concluded := conclusion(found)) is not None and not self._names(concluded, refs):
            return True
        # "That is, a beta-blocker — …, specifically bisoprolol": a refinement of what is not the reference is another
        # answer ("Non-small cell lung cancer, specifically adenocarcinoma" refines the reference itself), and so is
        # a longer entity around the reference ("angina, specifically Ludwig's angina")
        for sentence in sentences(final):
            for m in REFINED_INSIDE.finditer(sentence.text):
                np = m.group("np")
                if not self._names(np, refs) and (not self._names(sentence.text[:m.start()], refs)
                                                  or any(self._find(tokens(np), r, np, v) for v, r in refs)):
                    return True
        return False

    def _names(self, np: str, refs: list[tuple[str, tuple[Token, ...]]]) -> bool:
        """Whether a stated answer names the reference, not a longer entity around it."""
        seg = tokens(np)
        if not seg:
            return True
        for variant, ref in refs:
            window = self._find(seg, ref, np, variant)
            if window is not None:
                start, end = seg[window[0]].start, seg[window[1] - 1].end
                if not another_entity(np, start, end, {t.word for t in ref}, variant, is_cjk(seg[window[0]].word)):
                    return True
        return False

    def _named(self, final: str, ref: tuple[Token, ...], reference: str) -> bool:
        """Whether an asserting segment of the committed sentences names the reference, and none
        rejects, negates, hedges, lists, asks or lengthens it."""
        found = sentences(final)
        items = [found[i].text for i in listed_sentences(found)]
        committed = committed_sentences(final)
        inverted = any(cues.INVERTED.search(s.text) for s in committed)  # "the least likely cause is X"
        ref_words = {t.word for t in ref}
        named = stated = False
        for sentence in committed:
            text = strip_letter(sentence.text)
            parts = segments(text)
            first = _first_statement(parts)
            again = False  # the reference named in an earlier segment: "hydrocephalus — normal pressure hydrocephalus"
            for i, segment in enumerate(parts):
                seg = tokens(segment.text)
                window = self._find(seg, ref, segment.text, reference)
                if window is None or segment.role in ("concession", "explanation") or i < first:
                    continue
                start, end = seg[window[0]].start, seg[window[1] - 1].end
                stance = segment.stance(start, end)
                if inverted and stance in ("rejected", "negation"):
                    continue  # "X is not as plausible as Y" agrees with "the least likely is X"
                if (stance or sentence.question or sentence.text in items or inline_list(text) or _EXAMPLE.search(
                        segment.text[:start]) or again and bare(segment.text[:end]) and subtype(segment.text[:start])
                        or hedged(segment.text, start, end, reference) or listed(segment.text, start, end, reference)
                        or another_entity(segment.text, start, end, ref_words, reference,
                                           is_cjk(seg[window[0]].word))):
                    return False
                named = again = True
                stated = stated or explicit(sentence.text) or states(sentence.text)
        if named and not stated and committed and (explicit(committed[0].text) or states(committed[0].text)):
            # the answer statement names something else; the reference only in what follows it ("The hormone is
            # DHT. … normal testosterone levels …, so …")
            np = answer_np(committed[0].text, concluded=True).strip(" .,;:*_")
            if bare(np) and not NOT_NAMING.match(np) and not FINDINGS_LABEL.match(committed[0].text):
                return False
        if named and any(len(steps := cues.ARROW.split(s.text)) > 2 and not cues.TO_CARE.match(steps[-1]) and any(
                self._find(tokens(step), ref, step, reference) for step in steps[:-1]) for s in found):
            return False  # "A → X → C" anywhere: X is a step of a course, not its end
        if named and not inverted:  # the reference negated or made only possible after the answer: "… 可以排除X"
            start = found.index(committed[0]) if committed else 0
            for sentence in found[start:]:
                if sentence in committed:
                    continue
                for segment in segments(strip_letter(sentence.text)):
                    seg = tokens(segment.text)
                    window = self._find(seg, ref, segment.text, reference)
                    if window is None:
                        continue
                    start, end = seg[window[0]].start, seg[window[1] - 1].end
                    if is_cjk(seg[window[0]].word) and another_entity(segment.text, start, end, ref_words, reference,
                                                                        True):
                        continue  # "…，不是非结核分枝杆菌" after "病原体是结核分枝杆菌": another thing negated
                    if segment.role in ("main", "rejected", "concession") and segment.stance(start, end) in (
                            "negation", "rejected", "hedge") or ((_OR_NEXT.match(segment.text[end:])
                                                                   or _OR_PREVIOUS.search(segment.text[:start]))
                                                                  and not OR_INSIDE.search(reference)):
                        return False  # "… 可以排除X", "X may be the explanation, but …", "X / Y: …"
        return named
    def _find(self, seg: tuple[Token, ...], ref: tuple[Token, ...], seg_text: str,
              reference: str) -> tuple[int, int] | None:
        """The token window of `seg` that names the reference, or None (`medo1.verify.naming.find`)."""
        return find(seg, ref, seg_text, reference, self.min_containment, self.min_f1)


def _first_statement(parts: tuple[Segment, ...]) -> int:
    """Where a sentence's answer statement starts: what comes before it is not the answer ("X would worsen
    it; the better choice is Y"), unless the statement points back to it ("…is X, so that is the agent")."""
    for i, part in enumerate(parts):
        if part.role == "main" and (explicit(part.text) or states(part.text)):
            np = answer_np(part.text, concluded=True).strip(" .,;:")
            return 0 if re.fullmatch(r"(?:that|this|it|which|these|those)?", np, re.IGNORECASE) else i
    return 0
