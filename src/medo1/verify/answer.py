"""Which part of a response commits to an answer, and how (for the `match` verifier).

A response names many things: the answer, the candidates it weighed, the ones it rejected,
the findings that explain it. Only the committed answer may be compared with the reference:

1. the `## Final Response` section when there is one (the thinking is never read);
2. in it, the sentences that commit: the last explicit statement ("the answer is …",
   "final answer: …", "the most likely diagnosis is …", "… makes X the diagnosis") and the
   conclusions after it; without one, the conclusions ("most consistent with", "therefore",
   "points to", "this is …", "she has …"); without those, every sentence;
3. those sentences cut into segments, each with a role: `main` (asserted), `rejected`
   ("not X", "X, not Y", "rather than X", "X was ruled out"), `concession` ("although X, …",
   "X is tempting, but the answer is Y") or `explanation` ("…, given X", "because X").
   A segment that negates or dismisses what it names ("X is unlikely", "no evidence of X")
   is rejected too.

A hedge — several candidates ("X or Y", "X vs Y", "the differential includes …") or a range
("5-10 mg") — is judged by `hedged(segment, start, end, reference)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medo1.thinking import final_answer_text

# A sentence ends at . ! ? or a line break, but not at a decimal point ("2.5 mg"), after a single
# letter ("E. coli", "H. influenzae", "B. Aspirin", "i.e.") or after "vs." / "e.g.".
_SENTENCE_END = re.compile(r"(?<!\d)(?<!\b[A-Za-z])(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)[.!?](?!\d)|[。！？]|\n+")
_MARKUP = re.compile(r"[*_`#>]+|^\s*[-•]\s+", re.MULTILINE)

_ANSWER_WORD = r"(?:answer|diagnosis|dx)"
_EXPLICIT = [
    re.compile(rf"\b{_ANSWER_WORD}\s*(?:is|would be|will be|remains|:|=|-)", re.IGNORECASE),
    re.compile(r"\b(?:is|are|as|makes?|making|remains?|be|being)\s+"
               r"(?:(?!confirm|establish|support|rule|exclud|reach|clinch|secur|mak|narrow|refin)\S+\s+){0,6}?the\s+"
               r"(?:(?:most|more|single)\s+)?(?:(?:likely|probable|best|correct|final|right|unifying|definitive|"
               rf"underlying|leading|working)\s+)*{_ANSWER_WORD}\b", re.IGNORECASE),
    re.compile(r"\b(?:correct|best|right)\s+(?:option|choice)\s*(?:is|:)", re.IGNORECASE),
]
_CONCLUSION = re.compile(
    r"\b(?:most\s+likely|most\s+probable|most\s+consistent|consistent\s+with|compatible\s+with|in\s+keeping\s+with|"
    r"best\s+explain\w*|points?\s+(?:to|toward)|pointing\s+to|indicat(?:e|es|ing)\b|therefore|thus|hence|"
    r"in\s+conclusion|in\s+summary|overall|of\s+choice|next\s+(?:best\s+)?step|"
    r"best\s+(?:initial\s+|next\s+)?(?:step|test|treatment|management)|treatment\s+is|management\s+is|"
    r"the\s+(?:likely\s+|underlying\s+|most\s+likely\s+)?cause\s+is|"
    r"culprit|causative|responsible)\b", re.IGNORECASE)
_WEAK_CONCLUSION = re.compile(
    r"^\s*(?:so\s+)?(?:this|it|that)\s+(?:is|was|represents|looks\s+like|sounds\s+like)\b|"
    r"\b(?:he|she|they|patient|child|baby|infant|woman|man|boy|girl)\s+(?:\w+\s+)?(?:has|have|had|is\s+suffering)\b",
    re.IGNORECASE)

# Words that negate or dismiss what they stand next to ("not X", "no evidence of X", "X is unlikely").
_NEGATION_WORDS = (r"not(?!\s+only)|no(?!\s+doubt)|never|nor|neither|none|cannot|can't|\w+n't|unlikely|improbable|"
                   r"less\s+likely|against|exclud\w*|ruled?\s+out|rules\s+out|ruling\s+out|contraindicated|avoid\w*|"
                   r"inappropriate|incorrect|wrong|doubtful|discard\w*|dismiss\w*|eliminat\w*|inconsistent|rejected")
_NEGATION = re.compile(rf"\b(?:{_NEGATION_WORDS})\b", re.IGNORECASE)
_NEGATED_BEFORE = re.compile(rf"\b(?:{_NEGATION_WORDS})\b(?:\W+\w+){{0,3}}\W*$", re.IGNORECASE)
_AUXILIARY = (r"is|was|are|were|be|been|being|has|have|had|can|could|should|would|will|may|might|must|seems?|"
              r"appears?|looks?|very|highly|also|clearly|definitely|therefore|thus|much|far|then|here|now|does|do|"
              r"did|fairly|quite|rather|safely|reliably|effectively|essentially|largely|probably|still")
_NEGATED_AFTER = re.compile(rf"^\W*(?:(?:{_AUXILIARY})\s+){{0,4}}(?:{_NEGATION_WORDS})\b", re.IGNORECASE)
# A segment that only weighs what it names ("X is a consideration", "X is tempting").
_WEIGHED = re.compile(r"\b(?:consideration|considered|tempting|first\s+thought|initially|at\s+first|"
                      r"also\s+(?:be\s+)?(?:considered|possible))\b", re.IGNORECASE)
# Before ", but Y": a tentative first part gives way to Y.
_TENTATIVE = re.compile(r"\b(?:could|might|may|possible|possibly|plausible|perhaps|probably\s+not|common|typical)\b",
                        re.IGNORECASE)
_COMMITS = re.compile(
    rf"\b{_ANSWER_WORD}\b|\bmost\s+likely\b|\bmore\s+likely\b|\bbest\s+(?:explain|fit)|\bpoints?\s+to\b|"
    r"\bindicat|\bconsistent\s+with\b|\bmakes?\s+|\bmeans\s+|\bthis\s+is\b|\bit\s+is\b|"
    r"\bthe\s+(?:real|actual|true)\b|\bof\s+choice\b|\bfits?\s+better\b|\bbetter\s+(?:fit|explain)", re.IGNORECASE)

# Several candidates, or a range: not a committed single answer. A segment that lists candidates
# hedges whatever it names; "or" / "vs" / "/" hedge the answer they stand next to ("X or Y",
# "A, B, or C") but not another part of the sentence ("X; treat with A or B").
_CANDIDATES = re.compile(
    r"\b(?:differentials?|candidates?|possibilities|alternatives|either)\b|"
    r"\b(?:can|could|may|might|are|were)\s+both\b|\bboth\s+(?:of\s+)?(?:these|them|conditions|diagnoses|are|could|"
    r"can|may|might)\b|\bcannot\s+(?:be\s+)?(?:distinguish|differentiat|separat|tell|decide)\w*|"
    r"\bcan't\s+(?:distinguish|tell|decide)|"
    r"\b(?:diagnoses|causes|options|organisms|possibilities|considerations)\b(?:\s+[\w'-]+){0,4}?\s+"
    r"(?:are|include\w*)\b|"
    r"\bone\s+of\s+(?:the\s+)?(?:following|these|them)\b",
    re.IGNORECASE)
_OR = r"(?:\bor\b|\bvs\b\.?|\bversus\b|\band/or\b|/)"
_OR_INSIDE = re.compile(_OR, re.IGNORECASE)
_LIST_ITEM = (r"(?:(?!\b(?:with|by|for|to|from|because|which|that|who|after|before|using|via|including)\b)"
              r"[^,;:.]){1,40}")  # a short noun phrase in a list "A, B or C"
_OR_AFTER = re.compile(rf"^\W*(?:[\w'-]+\s+){{0,2}}{_OR}|^(?:\s*,\s*{_LIST_ITEM}){{1,6}}?\s*,?\s*{_OR}",
                       re.IGNORECASE)
_OR_BEFORE = re.compile(rf"{_OR}\s*(?:[\w'-]+\W+){{0,2}}$", re.IGNORECASE)
_NUMBER = r"(?:\d+(?:\.\d+)?|\b[IVX]{1,4}\b)"
_RANGE = re.compile(rf"{_NUMBER}\s*(?:-|–|—|to)\s*{_NUMBER}|\bbetween\s+{_NUMBER}\s*\S*\s+and\s+{_NUMBER}",
                    re.IGNORECASE)

# Segment boundaries inside a sentence and the role of what follows them.
_LEAD = re.compile(
    r"^\s*(?P<concession>although|though|even\s+though|while|whilst|whereas|despite|in\s+spite\s+of|like|unlike|"
    r"apart\s+from|besides|other\s+than|except\s+for)\b|"
    r"^\s*(?P<rejected>rather\s+than|instead\s+of|not)\b|"
    r"^\s*(?P<explanation>given|because|since|as|after|considering|based\s+on|with)\b", re.IGNORECASE)
_JOINT = re.compile(
    r"(?P<but>,?\s+but\s+|,\s*yet\s+|[,;]?\s*however,?\s+)|"
    r"(?P<concession>,\s*(?:although|though|even\s+though|while|whilst|whereas|despite)\s+)|"
    r"(?P<rejected>,\s*(?:not|and\s+not|no)\s+|\s+(?:rather\s+than|instead\s+of)\s+|\s+and\s+not\s+)|"
    r"(?P<than>\s+than\s+)|"
    r"(?P<explanation>,\s*(?:which|given|because|since|as|due\s+to\s+the|based\s+on)\s+|"
    r"\s+(?:given|because|since)\s+)|"
    r"(?P<so>,\s*(?:so|therefore|thus|hence)\s+)",
    re.IGNORECASE)


@dataclass
class Segment:
    text: str
    role: str  # main | rejected | concession | explanation

    def asserts(self, start: int, end: int) -> bool:
        """Whether the segment asserts what it names at text[start:end]: a main segment that does
        not weigh it ("X is a consideration") and has no negation right before it ("no evidence of X")
        or in the predicate right after it ("X was ruled out", "X is very unlikely")."""
        if self.role != "main" or _WEIGHED.search(self.text):
            return False
        return not (_NEGATED_BEFORE.search(self.text[:start]) or _NEGATED_AFTER.match(self.text[end:]))


def sentences(text: str) -> list[str]:
    text = _MARKUP.sub(" ", text.replace("\u2019", "'"))
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip(" ,;:")]


def committed_sentences(text: str) -> list[str]:
    """The sentences that carry the committed answer, from the final response when there is one:
    the last explicit answer statement and any conclusion after it; else every conclusion
    sentence ("most consistent with", "this is …", "she has …"); else every sentence."""
    found = sentences(final_answer_text(text or ""))
    explicit = [i for i, s in enumerate(found) if any(p.search(s) for p in _EXPLICIT)]
    if explicit:
        last = explicit[-1]
        return [found[last]] + [s for s in found[last + 1:] if _CONCLUSION.search(s)]
    cued = [s for s in found if _CONCLUSION.search(s) or _WEAK_CONCLUSION.search(s)]
    return cued or found


def segments(sentence: str) -> list[Segment]:
    """A sentence cut into segments, each with its role (see the module docstring)."""
    out: list[Segment] = []
    for part in re.split(r"\s*[;:]\s+|\s+[-–—]\s+|[；：]", sentence):
        if part.strip():
            out.extend(_part_segments(part))
    return out


def _part_segments(part: str) -> list[Segment]:
    out: list[Segment] = []
    lead = _LEAD.match(part)
    end = re.search(r",|\s+but\s+", part) if lead else None
    if lead and end:  # "Although X, Y" / "Rather than X, Y" / "Not X but Y" / "Given X, Y"
        out.append(Segment(part[:end.start()], lead.lastgroup))
        part = part[end.end():]
    elif lead and lead.lastgroup == "rejected":  # "Not a tension pneumothorax"
        return [Segment(part, "rejected")]
    role, start = "main", 0
    for joint in _JOINT.finditer(part):
        out.append(Segment(part[start:joint.start()], role))
        start, kind = joint.end(), joint.lastgroup
        if kind == "but":
            after = part[start:]
            before = out[-1]
            if before.role == "main" and (_WEIGHED.search(before.text) or _TENTATIVE.search(before.text)
                                          or _COMMITS.search(after) or _NEGATION.search(after)):
                before.role = "concession"
            role = "main"
        elif kind == "than":  # "X is less likely than Y": Y is the answer; "X rather/more than Y": X is
            role = "main" if re.search(r"\bless\b", out[-1].text, re.IGNORECASE) else "rejected"
        elif kind == "so":
            role = "main"
        else:
            role = kind
    out.append(Segment(part[start:], role))
    return [s for s in out if s.text.strip(" ,.")]


def hedged(segment: str, start: int, end: int, reference: str) -> bool:
    """Whether a segment hedges the answer it names at segment[start:end]: it lists candidates,
    joins that answer with another by or / vs / "/", or gives a range around it — unless the
    reference itself does so."""
    if _CANDIDATES.search(segment) and not _CANDIDATES.search(reference):
        return True
    joined = (_OR_INSIDE.search(segment[start:end]) or _OR_AFTER.search(segment[end:])
              or _OR_BEFORE.search(segment[:start]))
    if joined and not _OR_INSIDE.search(reference):
        return True
    if _RANGE.search(reference):
        return False
    return any(m.start() < end + 15 and m.end() > start - 15 for m in _RANGE.finditer(segment))


# ---------------------------------------------------------------- option letters

_LETTER = re.compile(r"(?<![A-Za-z0-9])[\(\[]?([A-J])(?![A-Za-z0-9])[\)\]]?")
_LETTER_CONTEXT_BEFORE = re.compile(
    r"(?:answer|option|choice|choose|select|pick|is|are|:|or|and|,)\s*[\(\[]?$", re.IGNORECASE)
_LETTER_QUALIFIER = re.compile(
    r"\b(?:type|group|hepatitis|vitamin|factor|class|grade|stage|phase|protein|kinase|cell|serotype)\s*$",
    re.IGNORECASE)
_LETTER_NEGATED = re.compile(r"\b(?:not|over|rather\s+than|instead\s+of|except|than|no)\s+(?:\S+\s+){0,1}[\(\[]?$",
                             re.IGNORECASE)


def committed_letters(text: str) -> tuple[list[str], bool]:
    """The option letters a response asserts ("the answer is C", "(D) Amiodarone", "it is C" after
    "not A"), and whether it hedges between letters ("A or C", "both A and B")."""
    letters: list[str] = []
    hedge = False
    for sentence in committed_sentences(text):
        for segment in segments(sentence):
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
