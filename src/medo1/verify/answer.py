"""Which part of a final response commits to an answer, and whether it commits to one at all.

A response names many things: the answer, the candidates it weighed, the ones it rejected,
the findings that explain it. Only a single committed answer may be compared with a reference:

1. the final response only (`medo1.thinking.final_answer_text`; the thinking is never read);
2. in it, the sentences that commit: the last explicit statement ("the answer is …",
   "final answer: …", "the most likely diagnosis is …", 答案是 …) and the conclusions after it;
   without one, the conclusions ("most consistent with", "therefore", "points to", "this is …",
   因此 …); without those, every sentence;
3. those sentences cut into segments, each with a role: `main` (asserted), `rejected`
   ("not X", "X, not Y", "rather than X"), `concession` ("although X, …", "X is tempting, but …")
   or `explanation` ("…, given X", "because X");
4. in a main segment, what it names is asserted unless the words around it negate it ("no
   evidence of X", "X is absent", "I doubt it is X", "it is false that …", "X: unlikely",
   不是X, X可能性小), only make it possible ("could / may be X", "possibly X", "consider X", "X
   cannot be excluded", 可能是X — but "most likely X" and 最可能是X commit), weigh it ("X is a
   consideration"), or ask it (a sentence ending in "?", 吗).

A response does not commit to one answer — `uncommitted(final)` names why — when it
    strikes text through ("~~X~~ Y", <del>, combining strokes): "strikethrough";
    answers yes and no ("Yes. No.", "Yes and no", 是…否): "yes_no";
    states two different answers for one question, neither set aside ("The answer is A. Thus B.
    Thus C."; a later "actually …" revises, an earlier "at first …" was set aside): "chain";
    lists candidates: bare noun phrases one per line or bullet ("- MI\n- PE"), or joined by and,
    commas, semicolons, plus, "as well as", 、和与及 ("MI, PE and dissection"), or names them as
    such ("the differential includes …"): "list";
    joins them by or / vs / "/" (或, 还是), makes them possible or defers ("further workup is
    needed", "pending …"): "hedge";
    only asks ("Is it MI?"): "question"; only negates ("MI is absent"): "negation".
It is cheap (regular expressions, no model) and reference-free: the RL hacking monitor runs it
on every sample; the `match` verifier judges nothing correct that it flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medo1.thinking import final_answer_text
from medo1.verify import cues
from medo1.verify.tokens import FILLER, normalize_tokens

# A sentence ends at . ! ? 。！？ or a line end, but not at a decimal point ("2.5 mg"), after "vs." /
# "e.g." / "i.e.", nor after a single letter that abbreviates ("E. coli") or labels an option ("B. Aspirin").
_SENTENCE_END = re.compile(r"(?<!\d)(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)\.(?!\d)|[!?。！？]")
_LETTER_DOT = re.compile(r"(?:^|[\s(])[A-Za-z]$")
_MARKUP = re.compile(r"[*_`#>]+")
_BULLET = re.compile(r"^\s*(?:[-•*+]|\d{1,2}[.)]|\(\d{1,2}\))\s+")
_ASKS = re.compile(r"(?:吗|呢|么)$|^(?:is|are|was|could|might|can|may|would|should|does|do|did)\s+(?:it|this|that|he|"
                   r"she|they|the\s+(?:patient|answer|diagnosis|cause))\b|是不是|会不会|是否|能否", re.IGNORECASE)
STRUCK = re.compile(r"~~[^~\n]+~~|<(?:del|s|strike)>|[\u0335\u0336\u0338]", re.IGNORECASE)

_ANSWER_WORD = r"(?:answer|diagnosis|dx)"
_EXPLICIT = [
    re.compile(rf"\b{_ANSWER_WORD}\s*(?:is|would be|will be|remains|:|=|-)", re.IGNORECASE),
    re.compile(r"\b(?:is|are|as|makes?|making|remains?|be|being)\s+"
               r"(?:(?!confirm|establish|support|rule|exclud|reach|clinch|secur|mak|narrow|refin)\S+\s+){0,6}?the\s+"
               r"(?:(?:most|more|single)\s+)?(?:(?:likely|probable|best|correct|final|right|unifying|definitive|"
               rf"underlying|leading|working)\s+)*{_ANSWER_WORD}\b", re.IGNORECASE),
    re.compile(r"\b(?:correct|best|right)\s+(?:option|choice)\s*(?:is|:)", re.IGNORECASE),
    re.compile(r"(?:答案|诊断)(?:是|为|：|:)|最(?:有)?可能的?(?:诊断|是|为)"),
]
_CONCLUSION = re.compile(
    r"\b(?:most\s+likely|most\s+probable|most\s+consistent|consistent\s+with|compatible\s+with|in\s+keeping\s+with|"
    r"best\s+explain\w*|points?\s+(?:to|toward)|pointing\s+to|indicat(?:e|es|ing)\b|therefore|thus|hence|"
    r"in\s+conclusion|in\s+summary|overall|of\s+choice|next\s+(?:best\s+)?step|least\s+likely|"
    r"best\s+(?:initial\s+|next\s+)?(?:step|test|treatment|management)|treatment\s+is|management\s+is|"
    r"the\s+(?:likely\s+|underlying\s+|most\s+likely\s+)?cause\s+is|suggestive\s+of|characteristic\s+of|"
    r"culprit|causative|responsible)\b|因此|所以|综上|考虑为|首先考虑|符合|提示|最(?:有)?可能", re.IGNORECASE)
_WEAK_CONCLUSION = re.compile(
    r"^\s*(?:so\s+)?(?:this|it|that)\s+(?:is|was|represents|looks\s+like|sounds\s+like)\b|"
    r"\b(?:he|she|they|patient|child|baby|infant|woman|man|boy|girl)\s+(?:\w+\s+)?(?:has|have|had|is\s+suffering)\b|"
    r"^(?:这|此|该)(?:是|为)|患者(?:患有|为|是)", re.IGNORECASE)


@dataclass
class Sentence:
    text: str
    question: bool = False  # it ends in "?" (or 吗) or asks by word order ("Is it MI")
    item: bool = False  # a bullet or numbered list item
    heading: bool = False  # a markdown heading line, or a line that ends with ":"


@dataclass
class Segment:
    text: str
    role: str  # main | rejected | concession | explanation

    def stance(self, start: int, end: int) -> str | None:
        """Why the segment does not assert what it names at text[start:end] (None: it does): it rejects
        it ("rejected"), negates it ("negation"), weighs it or makes it only possible ("hedge")."""
        if self.role == "rejected":
            return "rejected"
        before, after = self.text[:start], self.text[end:]
        if cues.NEGATED_BEFORE.search(before) or cues.NEGATED_AFTER.match(after):
            return "negation"
        if cues.WEIGHED.search(self.text) or cues.POSSIBLE_BEFORE.search(before) or cues.POSSIBLE_AFTER.match(after):
            return "hedge"
        return None

    def asserts(self, start: int, end: int) -> bool:
        return self.role == "main" and self.stance(start, end) is None


def sentences(text: str) -> list[Sentence]:
    """The sentences of a text, line by line, with list markers and markdown emphasis removed."""
    out: list[Sentence] = []
    for raw in (text or "").replace("\u2019", "'").split("\n"):
        bullet = _BULLET.match(raw)
        heading = bool(re.match(r"\s*#{1,6}\s", raw)) or raw.rstrip(" *_").endswith((":", "："))
        line = _MARKUP.sub(" ", raw[bullet.end():] if bullet else raw)
        start = 0
        for m in _SENTENCE_END.finditer(line):
            if m.group() == "." and _LETTER_DOT.search(line[start:m.start()]) and (
                    not line[start:m.start() - 1].strip() or re.match(r"\s*[a-z(]", line[m.end():])):
                continue  # "B. Aspirin", "E. coli": one sentence
            _add(out, line[start:m.start()], m.group() in "?？", bool(bullet), heading)
            start = m.end()
        _add(out, line[start:], False, bool(bullet), heading)
    return out


def _add(out: list[Sentence], text: str, asked: bool, item: bool, heading: bool) -> None:
    text = text.strip()
    if text.strip(" ,;:，；："):
        out.append(Sentence(text.strip(" ,;，；"), asked or bool(_ASKS.search(text)), item, heading))


def committed_sentences(final: str) -> list[Sentence]:
    """The sentences of a final response that carry its committed answer: the last explicit answer
    statement and any conclusion after it; else every conclusion sentence ("most consistent with",
    "this is …", "she has …"); else every sentence."""
    found = sentences(final)
    explicit = [i for i, s in enumerate(found) if any(p.search(s.text) for p in _EXPLICIT)]
    if explicit:
        last = explicit[-1]
        return [found[last]] + [s for s in found[last + 1:] if _CONCLUSION.search(s.text)]
    cued = [s for s in found if _CONCLUSION.search(s.text) or _WEAK_CONCLUSION.search(s.text)]
    return cued or found


# ---------------------------------------------------------------- segments

_LEAD = re.compile(
    r"^\s*(?P<concession>although|though|even\s+though|while|whilst|whereas|despite|in\s+spite\s+of|like|unlike|"
    r"apart\s+from|besides|other\s+than|except\s+for)\b|^\s*(?P<zh_concession>虽然|尽管|即使|即便)|"
    r"^\s*(?P<rejected>rather\s+than|instead\s+of|not)\b|"
    r"^\s*(?P<explanation>given|because|since|as|after|considering|based\s+on|with)\b|^\s*(?P<zh_explanation>鉴于|由于|因为)",
    re.IGNORECASE)
_JOINT = re.compile(
    r"(?P<but>,?\s+but\s+|,\s*yet\s+|[,;]?\s*however,?\s+|[，,]?\s*(?:但是?|不过|然而)[，,]?)|"
    r"(?P<concession>,\s*(?:although|though|even\s+though|while|whilst|whereas|despite)\s+|[，,]\s*(?:虽然|尽管))|"
    r"(?P<rejected>,\s*(?:not|and\s+not|no)\s+|\s+(?:rather\s+than|instead\s+of)\s+|\s+and\s+not\s+|"
    r"[，,]?\s*(?:而非|而不是))|"
    r"(?P<than>\s+than\s+)|"
    r"(?P<explanation>,\s*(?:which|given|because|since|as|due\s+to\s+the|based\s+on)\s+|"
    r"\s+(?:given|because|since)\s+|[，,]\s*(?:因为|由于|鉴于))|"
    r"(?P<so>,\s*(?:so|therefore|thus|hence)\s+|[，,]\s*(?:所以|因此|故|而是)|而是)",
    re.IGNORECASE)
_SPLIT = re.compile(r"\s*[;:]\s+|\s+[-–—]\s+|[；：]")


def segments(sentence: str) -> list[Segment]:
    """A sentence cut into segments, each with its role (see the module docstring). A part after ":" or
    " - " that only dismisses or doubts ("MI: unlikely") stays with what it dismisses."""
    parts: list[str] = []
    pos = 0
    for m in _SPLIT.finditer(sentence):
        if cues.DISMISS.match(sentence[m.end():]):
            continue  # "MI: unlikely", "MI - possible": one segment
        parts.append(sentence[pos:m.start()])
        pos = m.end()
    parts.append(sentence[pos:])
    out: list[Segment] = []
    for part in parts:
        if part.strip():
            out.extend(_part_segments(part))
    return out


def _part_segments(part: str) -> list[Segment]:
    out: list[Segment] = []
    lead = _LEAD.match(part)
    end = re.search(r",|，|\s+but\s+", part) if lead else None
    if lead and end:  # "Although X, Y" / "Rather than X, Y" / "Not X but Y" / "Given X, Y"
        out.append(Segment(part[:end.start()], lead.lastgroup.removeprefix("zh_")))
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
            if before.role == "main" and (cues.WEIGHED.search(before.text) or _TENTATIVE.search(before.text)
                                          or _COMMITS.search(after) or cues.NEGATION.search(after)):
                before.role = "concession"
            role = "main"
        elif kind == "than":  # "X is less likely than Y": Y is the answer; "X rather/more than Y": X is
            role = "main" if re.search(r"\bless\b", out[-1].text, re.IGNORECASE) else "rejected"
        elif kind == "so":
            role = "main"
        else:
            role = kind
    out.append(Segment(part[start:], role))
    return [s for s in out if s.text.strip(" ,.，")]


# Before ", but Y": a tentative first part gives way to Y.
_TENTATIVE = re.compile(r"\b(?:could|might|may|possible|possibly|plausible|perhaps|probably\s+not|common|typical)\b|"
                        r"可能|也许", re.IGNORECASE)
_COMMITS = re.compile(
    rf"\b{_ANSWER_WORD}\b|\bmost\s+likely\b|\bmore\s+likely\b|\bbest\s+(?:explain|fit)|\bpoints?\s+to\b|"
    r"\bindicat|\bconsistent\s+with\b|\bmakes?\s+|\bmeans\s+|\bthis\s+is\b|\bit\s+is\b|"
    r"\bthe\s+(?:real|actual|true)\b|\bof\s+choice\b|\bfits?\s+better\b|\bbetter\s+(?:fit|explain)|"
    r"诊断|答案|更(?:符合|可能)|考虑为", re.IGNORECASE)


# ---------------------------------------------------------------- several candidates

_OR_INSIDE = re.compile(cues.OR, re.IGNORECASE)
_LIST_ITEM = (r"(?:(?!\b(?:with|by|for|to|from|because|which|that|who|after|before|using|via|including)\b)"
              r"[^,;:.]){1,40}")  # a short noun phrase in a list "A, B or C"
_OR_AFTER = re.compile(rf"^\W*(?:[\w'-]+\s+){{0,2}}{cues.OR}|^(?:\s*,\s*{_LIST_ITEM}){{1,6}}?\s*,?\s*{cues.OR}",
                       re.IGNORECASE)
_OR_BEFORE = re.compile(rf"{cues.OR}\s*(?:[\w'-]+\W+){{0,2}}$", re.IGNORECASE)
_NUMBER = r"(?:\d+(?:\.\d+)?|\b[IVX]{1,4}\b)"
_RANGE = re.compile(rf"{_NUMBER}\s*(?:-|–|—|to)\s*{_NUMBER}|\bbetween\s+{_NUMBER}\s*\S*\s+and\s+{_NUMBER}",
                    re.IGNORECASE)
_AND_INSIDE = re.compile(r",|;|&|\band\b|\bplus\b|、|和|与|及", re.IGNORECASE)
_ITEM_END = re.compile(r"[,.;:!?()\[\]，。；：！？、]|\s[-–—]\s")
_ADVERB = re.compile(r"^\s*(?:possibly|probably|likely|perhaps|maybe|also|even|potentially|a|an)\s+", re.IGNORECASE)
_PLURAL_VERB = re.compile(r"^(?:are|were|have|both|together|combined|coexist\w*)\b", re.IGNORECASE)


def hedged(segment: str, start: int, end: int, reference: str) -> bool:
    """Whether a segment hedges the answer it names at segment[start:end]: it lists candidates,
    joins that answer with another by or / vs / "/", or gives a range around it — unless the
    reference itself does so."""
    if cues.CANDIDATES.search(segment) and not cues.CANDIDATES.search(reference):
        return True
    joined = (_OR_INSIDE.search(segment[start:end]) or _OR_AFTER.search(segment[end:])
              or _OR_BEFORE.search(segment[:start]))
    if joined and not _OR_INSIDE.search(reference):
        return True
    if _RANGE.search(reference):
        return False
    return any(m.start() < end + 15 and m.end() > start - 15 for m in _RANGE.finditer(segment))


def listed(segment: str, start: int, end: int, reference: str) -> bool:
    """Whether the answer named at segment[start:end] is one item of a list: joined by and, a comma,
    a semicolon, plus, "as well as" (、和与及) to another short noun phrase ("MI, PE and dissection",
    "MI plus PE") — not to a clause ("MI, and it needs PCI") nor an apposition ("furosemide, a loop
    diuretic"). A reference that is itself a list is compared whole."""
    if _AND_INSIDE.search(reference):
        return False
    after = cues.JOINER_AFTER.match(segment[end:])
    if after and _item_after(segment[end + after.end():], after.group()):
        return True
    before = re.sub(r"\b(?:a|an)\s+$", "", segment[:start], flags=re.IGNORECASE)
    joiner = cues.JOINER.search(before)
    if joiner and not (joiner.group().strip() in (",", "，") and before != segment[:start]):
        return _item_before(before[:joiner.start()])
    return False


def _item_after(text: str, joiner: str) -> bool:
    """Does a list item (a short noun phrase) start the text after a joiner?"""
    if joiner.strip() in (",", "，") and re.match(r"\s*(?:a|an|the)\s", text, re.IGNORECASE):
        return False  # ", a loop diuretic,": an apposition
    if re.match(r"\s*the\s", text, re.IGNORECASE) and "plus" not in joiner:
        return False  # "and the troponin is high": a new clause
    text = _ADVERB.sub("", text)
    piece = _ITEM_END.split(text, 1)[0].strip()
    if not piece or cues.CLAUSE.match(piece):
        return False
    verb = cues.VERB.search(piece)
    head = piece[:verb.start()] if verb else piece
    if not head.strip() or len(head.split()) > 8:
        return False
    return verb is None or bool(_PLURAL_VERB.match(piece[verb.start():])) or "plus" in joiner


def _item_before(text: str) -> bool:
    """Does a list item end the text before a joiner ("dissection, PE" before ", MI")?"""
    piece = re.split(r"[,;:(（，；：、]", text)[-1]
    verbs = list(cues.VERB.finditer(piece))
    if verbs:
        piece = piece[verbs[-1].end():]
    words = [w for w in normalize_tokens(piece, expand=False) if w not in FILLER]
    return bool(words) and len(piece.split()) <= 8 and not _ANSWER_LABEL.search(piece)


_ANSWER_LABEL = re.compile(rf"\b(?:{_ANSWER_WORD}|option|choice|final|cause|treatment|step)\s*$|答案|诊断", re.IGNORECASE)


def bare(text: str) -> bool:
    """A short noun phrase and nothing else: no verb, no answer cue, not a clause."""
    text = text.strip(" .,;:!?*")
    return (0 < len(text.split()) <= 8 and len(text) <= 80 and not cues.VERB.search(text)
            and not cues.CLAUSE.match(text) and not _CONCLUSION.search(text)
            and not any(p.search(text) for p in _EXPLICIT) and ":" not in text and "：" not in text)


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in normalize_tokens(text) if w not in FILLER)


def listed_sentences(found: list[Sentence]) -> set[int]:
    """Sentences that are items of a list of candidates: two or more bare noun phrases in a row, one
    per line, bullet or sentence ("- MI\n- PE", "MI. PE."), naming different things."""
    out: set[int] = set()
    run: list[int] = []
    for i, s in enumerate(found + [Sentence("", heading=True)]):
        if not s.heading and not s.question and bare(s.text):
            run.append(i)
            continue
        if len(run) >= 2 and len({_words(found[j].text) for j in run}) >= 2:
            out.update(run)
        run = []
    return out


def inline_list(sentence: str) -> bool:
    """A sentence of several bare parts by semicolons ("MI; PE; dissection") naming different things."""
    parts = [p for p in re.split(r"[;；]", sentence) if p.strip()]
    return len(parts) >= 2 and sum(bare(p) for p in parts) >= 2 and len({_words(p) for p in parts if bare(p)}) >= 2


# ---------------------------------------------------------------- chains of answers

_NP_END = re.compile(r"\s*(?:[,;:(（，；：]|\s[-–—]\s|\b(?:given|because|since|as|due\s+to|which|that|with|in|from|"
                     r"based|secondary|caused|after|on|for|at|by|who|when|while|and\s+(?:the|it|this|he|she|they|is|"
                     r"was|should|needs?|requires?))\b)", re.IGNORECASE)
_SLOTS = {"dx": "diagnosis", "choice": "answer", "option": "answer", "aetiology": "cause", "etiology": "cause",
          "culprit": "cause", "pathogen": "organism", "therapy": "treatment", "management": "treatment",
          "drug": "treatment", "medication": "treatment", "condition": "diagnosis", "disease": "diagnosis",
          "disorder": "diagnosis", "答案": "answer", "诊断": "diagnosis", "病因": "cause", "治疗": "treatment",
          "首选": "treatment"}


@dataclass
class Statement:
    slot: str  # what the statement answers ("diagnosis", "treatment", ...); "so" for a bare "thus X"
    words: frozenset[str]
    revises: bool  # "actually, …": it sets aside what came before
    superseded: bool  # "at first …": it was set aside


def statement(sentence: Sentence) -> Statement | None:
    """The answer a sentence states, if it is an answer statement: "the diagnosis is X", "final answer:
    X", "X is the most likely diagnosis", "thus X" (X a bare noun phrase)."""
    text = sentence.text
    found = cues.STATEMENT_FIRST.match(text) or cues.STATEMENT_ZH.match(text)
    if found:
        slot, np = found.group("slot").lower(), _NP_END.split(found.group("np"), 1)[0]
    elif (found := cues.STATEMENT_LAST.match(text)) is not None:
        slot, np = found.group("slot").lower(), re.split(r"[,;:，；：]", found.group("np"))[-1]
    elif (found := cues.STATEMENT_SO.match(text)) is not None and bare(found.group("np")):
        slot, np = "so", found.group("np")
    else:
        return None
    return Statement(_SLOTS.get(slot, slot), _words(np), bool(cues.REVISION.match(text)),
                     bool(cues.SUPERSEDED.search(text)))


def chain(found: list[Sentence]) -> bool:
    """Two answer statements for one question naming different answers, neither set aside ("The answer is
    A. Thus B."). A statement that revises ("actually, …") sets aside all before it; a bare "thus X" answers
    whatever was asked; one answer may restate another in fewer words."""
    live: list[Statement] = []
    for s in found:
        said = statement(s)
        if said is None or not said.words:
            continue
        if said.revises:
            live = []
        for before in live:
            if (before.slot == said.slot or "so" in (before.slot, said.slot)) \
                    and not (before.words <= said.words or said.words <= before.words):
                return True
        if not said.superseded:
            live.append(said)
    return False


# ---------------------------------------------------------------- yes / no

_POLAR = re.compile(r"(?:^|(?<=[\s,;:(—–-])|(?<=\banswer\sis\s))(?P<word>yes|no|maybe)(?=\W*$|[\s]*[,.;:!—–)/-]|\s+(?:and|or|but)\b)"
                    r"|^\W*(?P<zh>是的?|对|否|不是|不对)(?=[，,。!！]|$)", re.IGNORECASE)


def polarity(text: str) -> set[str]:
    """The yes / no / maybe answers a text gives ("Yes.", "No, …", "the answer is no", "Yes and no"; 是 / 否)."""
    said: set[str] = set()
    for s in sentences(text):
        for m in _POLAR.finditer(s.text):
            word = (m.group("word") or "").lower()
            zh = m.group("zh")
            if zh:
                word = "yes" if zh in ("是", "是的", "对") else "no"
            if word == "no" and re.match(r"\s+(?:and|or)\s+(?:yes|maybe)\b", s.text[m.end():], re.IGNORECASE) is None \
                    and m.start() > 0 and not re.search(r"(?:^|[\s,;:(—–-])$", s.text[:m.start()]):
                continue
            said.add(word)
    return said


# ---------------------------------------------------------------- one committed answer, or why not

def struck(final: str) -> bool:
    return bool(STRUCK.search(final))


def uncommitted(final_response: str | None) -> str | None:
    """Why a final response does not commit to a single answer, or None when it does: "no_answer",
    "strikethrough", "yes_no", "chain", "list", "hedge", "question" or "negation" (see the module
    docstring). Reference-free and cheap: it runs on every RL sample."""
    final = final_answer_text(final_response or "")
    if final is None or not final.strip():
        return "no_answer"
    if struck(final):
        return "strikethrough"
    polar = polarity(final)
    if {"yes", "no"} <= polar or "maybe" in polar:
        return "yes_no" if {"yes", "no"} <= polar else "hedge"
    if polar:
        return None  # "No, …": a yes/no answer commits
    found = sentences(final)
    if chain(found):
        return "chain"
    items = listed_sentences(found)
    committed = committed_sentences(final)
    outside = [s for i, s in enumerate(found) if i not in items and any(p.search(s.text) for p in _EXPLICIT)
               and (st := statement(s)) is not None and st.words]
    if items and not outside:
        return "list"
    deferred = cues.DEFERRAL.search(final) and not any(any(p.search(s.text) for p in _EXPLICIT) for s in found)
    reasons: list[str] = []
    for s in committed:
        reason = _sentence_reason(s)
        if reason is None:
            return "hedge" if deferred else None
        reasons.append(reason)
    for reason in ("list", "hedge", "question", "negation"):
        if reason in reasons:
            return reason
    return "hedge" if deferred else None


def _sentence_reason(sentence: Sentence) -> str | None:
    """Why one committed sentence does not commit (None: one of its main segments asserts something)."""
    if sentence.question:
        return "question"
    if inline_list(sentence.text):
        return "list"
    reasons = []
    for segment in segments(sentence.text):
        text = segment.text
        if segment.role != "main" or _ANSWER_LABEL.fullmatch(text.strip()):
            continue
        np = answer_np(text)
        if _np_list(np):
            reasons.append("list")
        elif cues.CANDIDATES.search(text) or _OR_INSIDE.search(np):
            reasons.append("hedge")
        elif _negated(text, np):
            reasons.append("negation")
        elif cues.WEIGHED.search(text) or _POSSIBLE_INSIDE.search(text):
            reasons.append("hedge")
        else:
            return None
    return reasons[0] if reasons else None


def _negated(text: str, np: str) -> bool:
    """A segment that negates: a negation word, unless it states an answer that is not negated ("the absent
    cough makes X the best answer")."""
    negation = re.compile(rf"{cues.NEGATION.pattern}|\b(?:absent|negative\s+for)\b|除外", re.IGNORECASE)
    if not negation.search(text):
        return False
    return not any(p.search(text) for p in _EXPLICIT) or bool(negation.search(np))


_POSSIBLE_INSIDE = re.compile(r"\b(?:could|might|may|possibly|possible|perhaps|maybe|potentially|conceivably|"
                              r"consider(?!\s+(?:[\w'-]+\s+){0,5}?(?:as\s+|to\s+be\s+)?the\s+(?:most|answer|diagnosis|best)))\b|"
                              r"(?<![最很极更])(?<!最有)(?<!很有)(?<!极有)可能|或许|也许|疑似|不除外|(?<!首先)考虑(?!为)",
                              re.IGNORECASE)
_NP_CUE = re.compile(r"\b(?:(?:consistent|compatible)\s+with|in\s+keeping\s+with|points?\s+(?:to|toward)|pointing\s+to|"
                     r"indicat(?:es?|ing)|suggest(?:s|ive\s+of)|characteristic\s+of|diagnostic\s+of|diagnosed\s+with|"
                     r"suffering\s+from|has|have|had|is|was|are|represents)\s+|[:：]\s*|(?:考虑为|符合|提示|是|为)",
                     re.IGNORECASE)
_EXPLAIN_END = re.compile(r"[;(；（]|[,，]\s*(?:which|given|because|since|as|due|based|so|though|although|while|but|with|"
                          r"who|making|suggesting|indicating|most|likely|probably|specifically|particularly|especially|"
                          r"i\.e|e\.g|因为|由于|鉴于|所以|因此)\b|\s+(?:given|because|since|due\s+to|based\s+on|"
                          r"secondary\s+to|caused\s+by|which|that|who|from|after)\b", re.IGNORECASE)
_SPLIT_ITEMS = re.compile(r"\s*(?:,|&|、|，)\s*(?:and\s+|plus\s+|和|与)?|\s+(?:and|plus|as\s+well\s+as|along\s+with|"
                          r"together\s+with|in\s+addition\s+to|combined\s+with)\s+|和|与|及|以及", re.IGNORECASE)


def answer_np(text: str) -> str:
    """The words a sentence gives as its answer: what an answer statement states, or what follows its
    first cue ("consistent with X", "she has X", "X" alone), up to its explanation ("…, given …")."""
    said = cues.STATEMENT_FIRST.match(text) or cues.STATEMENT_ZH.match(text) or cues.STATEMENT_SO.match(text)
    if said:
        np = said.group("np")
    elif (said := cues.STATEMENT_LAST.match(text)) is not None:
        np = said.group("np")
    elif (cue := _NP_CUE.search(text)) is not None:
        np = text[cue.end():]
    else:
        np = text if bare(_EXPLAIN_END.split(text, 1)[0]) else ""
    return _EXPLAIN_END.split(np, 1)[0]


def _np_list(np: str) -> bool:
    """Several bare noun phrases joined by and / commas / plus naming different things."""
    items: set[frozenset[str]] = set()
    for part in _SPLIT_ITEMS.split(np):  # the leading run of bare parts: "MI, PE and X" but not "MI, and it …"
        part = _ADVERB.sub("", part or "")
        if not bare(part):
            break
        items.add(_words(part))
    return len(items - {frozenset()}) >= 2
