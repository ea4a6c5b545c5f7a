"""Answer shapes that name more than one answer, or none: lists, hedges, ranges, yes-and-no, struck-through text —
and the words a segment gives as its answer (chains of answers: `medo1.verify.chains`).

Reference-aware (`hedged`, `listed`: does this segment hedge or list the answer it names here?) and
reference-free (`listed_sentences`, `inline_list`, `polarity`, `struck`, `answer_np`, `np_list`), for
`medo1.verify.match` and `medo1.verify.answer.uncommitted`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from medo1.verify import cues
from medo1.verify.entities import MODIFIERS
from medo1.verify.sentences import ANSWER_WORD, CONCLUSION, WEAK_CONCLUSION, Sentence, explicit, sentences
from medo1.verify.tokens import FILLER, initials, is_cjk, normalize_tokens

OR_INSIDE = re.compile(cues.OR, re.IGNORECASE)
_LIST_ITEM = (r"(?:(?!\b(?:with|by|for|to|from|because|which|that|who|after|before|using|via|including)\b)"
              r"[^,;:.]){1,40}")  # a short noun phrase in a list "A, B or C"
# (not its cause after it: "acute pericarditis, most likely viral/idiopathic")
_OR_AFTER = re.compile(rf"^\W*(?:[\w'-]+\s+){{0,2}}{cues.OR}|^(?:\s*,\s*(?!\s*(?:most\s+)?(?:likely|probably|usually|"
                       rf"typically|often|commonly|mostly)\b){_LIST_ITEM}){{1,6}}?\s*,?\s*{cues.OR}", re.IGNORECASE)
_OR_BEFORE = re.compile(rf"{cues.OR}\s*(?:[\w'-]+\W+){{0,2}}$", re.IGNORECASE)
_ASIDE_AFTER = re.compile(r"\s*[(（](?!\s*(?:or|and/or|vs\.?|versus)\b)[^()（）]*(?:[)）]|$)", re.IGNORECASE)
_NUMBER = r"(?:\d+(?:\.\d+)?|\b[IVX]{1,4}\b)"
_RANGE = re.compile(rf"{_NUMBER}\s*(?:-|–|—|to)\s*{_NUMBER}|\bbetween\s+{_NUMBER}\s*\S*\s+and\s+{_NUMBER}",
                    re.IGNORECASE)
AND_INSIDE = re.compile(r",|;|&|\s\+\s|\band\b|\bplus\b|、|和|与|及", re.IGNORECASE)
_ITEM_END = re.compile(r"[,.;:!?()\[\]，。；：！？、]|\s[-–—]\s")
ADVERB = re.compile(r"^\s*(?:possibly|probably|likely|perhaps|maybe|also|even|potentially|a|an)\s+", re.IGNORECASE)
# a sentence adverb between commas, not an item: "… is, by definition, incidence"
_ASIDE = re.compile(r"^\s*(?:by\s+definition|in\s+(?:short|effect|essence|practice|fact|other\s+words|this\s+case|"
                    r"this\s+setting|summary)|of\s+course|at\s+heart|therefore|thus|hence|clearly|essentially|"
                    r"ultimately|simply|again|here|then|so|classically|typically|usually|most\s+likely)\s*$",
                    re.IGNORECASE)
_CLAUSE_AFTER = re.compile(r"\s+(?:(?:also|then|still|only|usually|often|typically)\s+[a-z]+|(?:is|was|has|does|can|"
                           r"will|would|should|must|may|might)\b|[a-z]{2,}[^s\W]s\s+[a-z])")  # "… blocks alcohol …"
_PASSIVE = re.compile(r"(?:\w+ed|driven|seen|shown|known|taken|brought|made)\s+by\b", re.IGNORECASE)  # ", driven by …"
# a step of care after the answer, not a second answer: "一氧化碳中毒，立即高流量吸氧"
_ZH_PLAN = re.compile(r"^\s*(?:应当?|宜|需)?(?:立即|立刻|尽快|马上|及时|给予|予以|需要?|必要时|急诊|收入|转诊|"
                      r"停用|停药|完善)")
_GIVEN_HOW = re.compile(r"推注|滴注|静滴|静推|注射|服用|给药")  # how a drug is given: "地西泮，静脉缓慢推注"
_IN_BRACKETS = re.compile(r"\([^()]*\)")  # an aside in brackets
_PLURAL_VERB = re.compile(r"^(?:are|were|have|both|together|combined|coexist\w*)\b", re.IGNORECASE)


def hedged(segment: str, start: int, end: int, reference: str) -> bool:
    """Whether a segment hedges the answer it names at segment[start:end]: it lists candidates,
    joins that answer with another by or / vs / "/", or gives a range around it — unless the
    reference itself does so."""
    if cues.CANDIDATES.search(segment) and not cues.CANDIDATES.search(reference):
        return True
    after = segment[end:]
    aside = _ASIDE_AFTER.match(after)  # "benzylpenicillin (IM or IV)": the route in an aside, not a second answer
    joined = (OR_INSIDE.search(segment[start:end]) or _OR_AFTER.search(after[aside.end():] if aside else after)
              or _OR_BEFORE.search(segment[:start]))
    if joined and not OR_INSIDE.search(reference):
        return True
    if _RANGE.search(reference) or not re.search(rf"\d|{_NUMBER}", reference):
        return False  # a dose range beside a drug ("naloxone, 0.04–0.4 mg IV") does not hedge which drug
    return any(m.start() < end + 15 and m.end() > start - 15 for m in _RANGE.finditer(segment))


def listed(segment: str, start: int, end: int, reference: str) -> bool:
    """Whether the answer named at segment[start:end] is one item of a list: joined by and, a comma,
    a semicolon, plus, " + ", "as well as" (、和与及) to another short noun phrase ("MI, PE and dissection",
    "MI plus PE") — not to a clause ("MI, and it needs PCI") nor an apposition ("furosemide, a loop
    diuretic"). A reference that is itself a list is compared whole."""
    if AND_INSIDE.search(reference):
        return False
    after = cues.JOINER_AFTER.match(segment[end:])
    if after and _initials(segment[end + after.end():], reference):
        return False  # "心房颤动（atrial fibrillation, AF）": its abbreviation, not another item
    if after and _item_after(segment[end + after.end():], after.group()):
        return True
    before = re.sub(r"\b(?:a|an)\s+$", "", segment[:start], flags=re.IGNORECASE)
    joiner = cues.JOINER.search(before)
    if joiner and not (joiner.group().strip() in (",", "，") and before != segment[:start]):
        if _comma_and(joiner.group()) and _CLAUSE_AFTER.match(segment[end:]):
            return False  # "…, and doxycycline also covers Anaplasma": the subject of a clause
        return _item_before(before[:joiner.start()])
    return False


def _initials(text: str, reference: str) -> bool:
    """Whether the text opens with the reference's initials in capitals and nothing more ("AF" for "atrial
    fibrillation")."""
    word = re.match(r"\s*([A-Z]{2,6})\b(?!\s+\w)", text)
    return bool(word) and initials(word.group(1), reference)


def _comma_and(joiner: str) -> bool:
    """", and" joins two clauses more often than two items ("X, and Y are indicated")."""
    return "," in joiner and "and" in joiner.lower()


# a result, not a candidate: "CBG 2.3 mmol/L", "pH 7.11", "Na⁺ 123"
_RESULT = re.compile(r"[A-Za-z][\w⁺⁻+-]{0,8}\s*[:=]?\s*[<>≤≥≈~]?\s*\d")


def _item_after(text: str, joiner: str) -> bool:
    """Does a list item (a short noun phrase) start the text after a joiner?"""
    if joiner.strip() in (",", "，") and (re.match(r"\s*(?:a|an|the|of|on|at|involving|affecting)\s", text,
                                                 re.IGNORECASE)
                                        or cues.REFINES.search(_ITEM_END.split(text, 1)[0])):
        return False  # ", a loop diuretic,": an apposition; ", of the tricuspid valve", ", Mobitz type II": refinements
    if re.match(r"\s*the\s", text, re.IGNORECASE) and "plus" not in joiner:
        return False  # "and the troponin is high": a new clause
    text = ADVERB.sub("", text)
    if _comma_and(joiner) and cues.VERB.search(re.split(r"[,;.]", _IN_BRACKETS.sub("", text), 1)[0]):
        return False  # "HELLP syndrome, and delivery after stabilisation (magnesium, …) is the treatment": a clause
    piece = _ITEM_END.split(text, 1)[0].strip()
    if _WHEN.fullmatch(piece.rstrip(" .!")) or _HOW_MUCH.fullmatch(piece) or _RESULT.match(piece):
        return False  # "non-contrast CT head, now", "Mitral stenosis, severe", "…, CBG 2.3 mmol/L": not a second item
    if (not piece or cues.CLAUSE.match(piece) or _FROM.match(piece) or _GIVEN_HOW.search(piece)
            or _PASSIVE.match(piece)):
        return False
    verb = cues.VERB.search(piece)
    head = piece[:verb.start()] if verb else piece
    if not head.strip() or len(head.split()) > 8:
        return False
    if verb is not None and _comma_and(joiner):
        return False  # "digoxin toxicity, and digoxin-specific antibody fragments are indicated": a clause
    return verb is None or bool(_PLURAL_VERB.match(piece[verb.start():])) or "plus" in joiner


# words that only say how much or by which route: "severe", "IV", "orally" (not how sure: "MI, likely")
_CERTAINTY = {"likely", "probable", "presumed", "presumptive", "possible", "potential", "definite", "definitive",
              "true", "correct", "best", "most", "more", "final", "working", "real", "actual", "causal", "causative",
              "responsible", "leading", "underlying", "specific", "particular", "several"}
_HOW_MUCH = re.compile(r"(?:(?:" + "|".join(sorted((MODIFIERS - _CERTAINTY) | {"very", "iv", "im", "po", "sc", "sl",
                                                                 "orally", "intravenously", "intramuscularly",
                                                                 "subcutaneously"},
                                                                key=len, reverse=True)) + r")\b\s*)+", re.IGNORECASE)
_WHEN = re.compile(r"(?:right\s+)?now|immediately|urgently|stat|today|tonight|asap|at\s+once|right\s+away|promptly|"
                   r"without\s+delay|first|within\s+\d+\s*(?:hours?|h|minutes?|min|days?)", re.IGNORECASE)


def _item_before(text: str) -> bool:
    """Does a list item end the text before a joiner ("dissection, PE" before ", MI")?"""
    piece = re.split(r"[,;:(（，；：、]", text)[-1]
    if re.search(r"\b(?:type|grade|class|stage|group)\s+(?:[0-9]{1,2}|[ivx]{1,4}|[a-d])\s*$", piece, re.IGNORECASE):
        return False  # "points to type 1, distal renal tubular acidosis": the subtype, then its name
    verbs = list(cues.VERB.finditer(piece))
    if verbs:
        piece = piece[verbs[-1].end():]
    words = [w for w in normalize_tokens(piece, expand=False) if w not in FILLER]
    return bool(words) and len(piece.split()) <= 8 and not ANSWER_LABEL.search(piece) and not _ASIDE.match(piece)


# a label's words before its noun: an article, a grade, "drug of choice" ("McNemar's test" and "Vancomycin is the right
# choice" are answers, not labels)
_LABEL_WORD = (rf"(?:the|my|our|a|an|this|its|of|for|in|to|choice|{cues.GRADE_WORDS}|diagnostic|confirmatory|screening|"
               r"gold|key|drug|treatment|answer|therapy|management|investigation|imaging|empiric|antibiotic|agent)")
ANSWER_LABEL = re.compile(rf"^\W*(?:{_LABEL_WORD}\s+){{0,4}}?(?:{ANSWER_WORD}|option|choice|cause|treatment|step|"
                          r"management|organism|drug|test|impression|assessment|verdict|conclusion)s?\W*$|"
                          r"^\W*(?:最终)?(?:答案|诊断)\W*$", re.IGNORECASE)


@lru_cache(maxsize=8192)
def bare(text: str) -> bool:
    """A short noun phrase and nothing else: no verb, no answer cue, not a clause."""
    text = text.strip(" .,;:!?*")
    if sum(map(is_cjk, text)) > 20:
        return False  # a Chinese sentence of findings, not a name (the longest names run to about 12 characters)
    return (0 < len(text.split()) <= 8 and len(text) <= 80 and not cues.VERB.search(text)
            and not _ZH_FINDING.search(text) and not cues.CLAUSE.match(text) and not CONCLUSION.search(text)
            and not explicit(text) and ":" not in text and "：" not in text)


def words_of(text: str) -> frozenset[str]:
    return frozenset(w for w in normalize_tokens(text) if w not in FILLER)


def listed_sentences(found: tuple[Sentence, ...]) -> set[int]:
    """Sentences that are items of a list of candidates: two or more bare noun phrases in a row, one
    per line, bullet or sentence ("- MI\n- PE", "MI. PE."), naming different things; not the findings under a
    heading that names them ("Key findings:", "## Why")."""
    out: set[int] = set()
    run: list[int] = []
    ranked = False  # in a table of candidates
    findings = False  # the items under a heading of findings or reasons ("Key findings:", "## Why") are not candidates
    for i, s in enumerate((*found, Sentence("", heading=True))):
        if s.text.count("|") >= 2 and _CANDIDATES_HEADER.search(s.text):
            ranked = True  # "| Candidate | Likelihood |": its rows are candidates
        elif s.text.count("|") < 2:
            ranked = ranked and not s.text.strip()
        if (not s.heading and not s.question and bare(s.text) and not _PLAN_OR_RESULT.search(s.text)
                and (s.text.count("|") < 2 or ranked)):  # a row of another table ("| Fasting | 5.9 |") is no item
            run.append(i)
            continue
        if len(run) >= 2 and len({words_of(found[j].text) for j in run}) >= 2 and not findings:
            out.update(run)
        run = []
        if s.heading:  # a section of findings runs to the next heading
            findings = bool(_FINDINGS.match(s.text))
    return out


_CANDIDATES_HEADER = re.compile(r"\b(?:candidates?|differentials?|likelihood|probability|diagnos[ie]s|options?)\b",
                                re.IGNORECASE)
# a line of a plan or a result, not a candidate: "Stage with CT chest/abdo/pelvis", "Induction with steroids and
# rituximab", "c-ANCA positive, PR3 high"
_PLAN_OR_RESULT = re.compile(r"^\W*(?:stage|induction|anticoagulate|stabili[sz]e|resuscitate|refer|admit|arrange|"
                             r"start|give|stop|treat|offer|check|repeat|send|book|continue|escalate|call|monitor|"
                             r"prepare|target|aim|keep|catheteri[sz]e|two\s+large-bore|iv|im)\b|"
                             # an order on a bullet of an emergency plan: "- CT aortogram now", "- 立即吸氧", "- 停药"
                             r"\b(?:now|stat|immediately|urgently|asap)\W*$|^\W*(?:立即|停药|停用|呼叫|评估|复查|禁食|给予|"
                             r"吸氧|补液|准备|监测|平卧|建立|查)|"
                             r"\b(?:positive|negative|high|low|raised|elevated|normal|reduced)\s*(?:[,;]|$)",
                             re.IGNORECASE)
# a step of care after the answer, not a second answer: "surgical referral for pyloromyotomy", "gynaecology informed"
_ACTED = re.compile(r"\b(?:referral|referred|informed|notified|aware|contacted|discussed|advised|recommended|"
                    r"follow-?up|review\s+in)\b", re.IGNORECASE)
_FINDINGS_WORDS = (r"^\W*(?:(?:key|main|clinical|supporting|relevant|pertinent|salient|positive)\s+)?"
                   r"(?:findings|features|"
                   r"clues|evidence|history|examination|exam|labs?|results|observations|data|why|reasoning|rationale|"
                   r"red\s+flags|presentation|symptoms|signs|(?:other\s+)?causes?\s+(?:to\s+)?(?:exclude|excluded|rule\s+out|"
                   r"ruled\s+out)|excluded|ruled\s+out)|^\W*(?:要点|依据|诊断依据|临床表现|理由)")
_FINDINGS = re.compile(_FINDINGS_WORDS + r"\W*$", re.IGNORECASE)
# a sentence that opens with such a label gives the findings, not the answer: "Findings: a 9-year-old with …"
FINDINGS_LABEL = re.compile(rf"(?:{_FINDINGS_WORDS})\s*[:：]", re.IGNORECASE)
# a cause or circumstance after the answer, not a second item: "X, almost certainly from the A plus B"
_FROM = re.compile(r"(?:(?:almost|most|very|quite|nearly|probably|likely)\s+)?(?:[a-z]+ly\s+)*"
                   r"(?:from|due\s+to|secondary\s+to|caused\s+by|because|after|in|on|at|for|by|with|during)\b",
                   re.IGNORECASE)


def inline_list(sentence: str) -> bool:
    """A sentence of several bare parts by semicolons ("MI; PE; dissection") naming different things."""
    sentence = _IN_BRACKETS.sub("", sentence)  # "finasteride (5-ARI; shrinks the gland)": an aside, no list
    parts = [re.split(r"[:：]", p)[-1] for p in re.split(r"[;；]", sentence) if p.strip()]
    parts = [p for p in parts if not (_PLAN_OR_RESULT.search(p) or _ACTED.search(p))]  # "X; surgical referral"
    return len(parts) >= 2 and sum(bare(p) for p in parts) >= 2 and len({words_of(p) for p in parts if bare(p)}) >= 2


def paired(text: str, given: list[frozenset[str]]) -> bool:
    """An answer (its words among `given`) joined to another by "plus": "… initial therapy — prednisolone plus
    methotrexate"."""
    return any(words and words <= words_of(text[max(0, m.start() - 60):m.start()]) and bare(text[m.end():].split(",")[0])
               for m in _PLUS.finditer(text) for words in given)


_PLUS = re.compile(r"\s(?:plus|\+|combined\s+with|together\s+with)\s", re.IGNORECASE)


# ---------------------------------------------------------------- yes / no

_POLAR = re.compile(r"(?:^|(?<=[\s,;:(—–/-]))(?P<word>no|maybe)"
                    r"(?=\W*$|[\s]*[,.;:!—–)/-]|\s+(?:and|or|but|if|when|unless|for|in|otherwise|except|depending|"
                    r"according)\b)|"
                    r"(?<!\bsaid\s)(?<!\bsays\s)(?<!\bsay\s)\b(?P<yes>yes)\b|"
                    r"^\W*(?P<zh>是的?|对|否|不是|不对)(?=[，,。!！]|$)", re.IGNORECASE)
_POLAR_ANY = re.compile(r"\b(?:yes|no|maybe)\b|是|否|对|不", re.IGNORECASE)


@lru_cache(maxsize=4096)
def polarity(text: str) -> frozenset[str]:
    """The yes / no / maybe answers a text gives ("Yes.", "No, …", "the answer is no", "Yes and no"; 是 / 否)."""
    said: set[str] = set()
    if not _POLAR_ANY.search(text):
        return frozenset()
    for s in sentences(text):
        for m in _POLAR.finditer(s.text):
            word = (m.group("word") or m.group("yes") or "").lower()
            zh = m.group("zh")
            if zh:
                word = "yes" if zh in ("是", "是的", "对") else "no"
            said.add(word)
    return frozenset(said)


STRUCK = re.compile(r"~~[^~\n]+~~|<(?:del|s|strike)>|[\u0335\u0336\u0338]", re.IGNORECASE)


def struck(final: str) -> bool:
    """Struck-through text: markdown ~~…~~, <del> / <s> / <strike>, or combining strokes (M̶I̶)."""
    return bool(STRUCK.search(final))


# ---------------------------------------------------------------- the answer a segment gives

_NP_STRONG = re.compile(
    r"\b(?:(?:consistent|compatible)\s+with|in\s+keeping\s+with|points?\s+(?:\w+\s+)?(?:to|toward)|pointing\s+to|"
    r"indicat(?:es?|ing)|suggest(?:s|ed|ive\s+of)?|characteristic\s+of|diagnostic\s+of|diagnosed\s+with|confirms|"
    r"seals\s+it|makes?\s+this|for\s+what\s+is|(?<!\bthe\s)(?<!\ba\s)means?(?!\s+(?:of|arterial|age|value|score|"
    r"difference|that|it|this))|spells?|add(?:s)?\s+up\s+to|(?:i'd|i\s+would)\s+call\s+(?:this|it)|"
    r"suffering\s+from|criteria\s+for|classic\s+for|typical\s+of|(?:best|better|most\s+likely)\s+explained\s+by|"
    r"(?:i'd|i\s+would|i'll|i\s+will|we'd)\s+go\s+with|(?:i'd|i\s+would)\s+attribute\s+[^;]{1,150}?\s+to|lines?\s+up\s+with|clinch(?:es|ing)?|settles?\s+it\s+as|"
    r"(?:is|are)\s+(?:most\s+likely\s+|probably\s+)?(?:due\s+to|caused\s+by)|is\s+(?:most\s+)?(?:likely|probably))\s+|"
    r"(?:考虑为|符合|提示|诊断为)", re.IGNORECASE)
# a Chinese finding, not a name: 小细胞低色素，血清铁蛋白降低
_ZH_FINDING = re.compile(r"(?:升高|降低|增高|减低|减少|增多)(?![症性])|阳性|阴性|提示|可见")  # not 红细胞增多症
_EQUALS = re.compile(r"\s[=＝]\s(?=[^\W\d_])")  # not a sum: "d/(c+d) = 380/400 = 95%"
_NP_DO = re.compile(r"^\W*(?:(?:I\s+would|I'd|I\s+will|I'll|we\s+would|we'd)\s+)?"  # "I would reverse with X"
                    r"(?:give|start|begin|administer|use|prescribe|(?:treat|reverse|manage)\s+(?:\w+\s+)?with|"
                    r"perform|order|obtain|refer|increase|admit)\s+(?!(?:both|either|all|neither|them)\b)",
                    re.IGNORECASE)
_NP_WEAK = re.compile(r"\b(?:has|have|had|is|was|are|represents)\s+|(?:患有|为|是)", re.IGNORECASE)
# where the answer ends and its explanation starts: "…, which / given / treated …", "; …", " (…"
_COMMA = (r"[;(；（]|——|[,，]\s*(?:which|given|because|since|as|due|based|so|though|although|while|but|with|who|making|"
          r"suggesting|indicating|most|likely|probably|specifically|particularly|especially|i\.e|e\.g|driven|seen|"
          r"shown|known|taken|brought|因为|由于|鉴于|"
          r"所以|因此|\w+ed|\w+ing)\b")
_COMMA_END = re.compile(_COMMA, re.IGNORECASE)
# a name that opens with a participle: "synchronized cardioversion", "disseminated intravascular coagulation" (not
# "treated with steroids")
_PARTICIPLE_NP = re.compile(r"^(?!(?:pending|awaiting|following|including|regarding|during|according|concerning|"
                            r"excluding|considering|assuming|depending|using|having|being|giving|based|compared|"
                            r"related|caused|induced|treated|followed|associated|confirmed|suggested|noted|needed|"
                            r"required|started|stopped|planned|repeated|checked|measured)\b)"
                            r"[A-Za-z]+(?:ed|ing)(?:\s+(?!(?:with|by|for|to|from|in|on|at|as|into|after|the|a|an|"
                            r"it|this|that|them|him|her)\b)[\w'-]+){1,4}$", re.IGNORECASE)
_EXPLAIN_END = re.compile(_COMMA + r"|,?\s+(?:such\s+as|e\.g\.|for\s+example|for\s+instance)\s|"
                          r",\s+and\s+(?=(?:a|an|the|this|that|it|he|she|they|we|i|his|her|"
                          r"their|there|in|if|with|without|once|after|when|while|unless|since|because|given)\s|"
                          r"(?:[\w-]+\s+){1,3}(?:will|would|can|should|must|may|might)\s|"
                          r"(?:[\w-]+\s+){1,5}(?:are|is)\s+(?:indicated|needed|required|warranted|recommended)\b)"
                          r"|\s+(?:given|because|since|due\s+to|based\s+on|secondary\s+to|caused\s+by|which|"
                          r"that|who|from|after)\b", re.IGNORECASE)
_SPLIT_ITEMS = re.compile(r"\s*(?:,|&|、|，)\s*(?:and\s+|plus\s+|和|与)?|\s+\+\s+|\s+(?:and|plus|as\s+well\s+as|along\s+with|"
                          r"together\s+with|in\s+addition\s+to|combined\s+with)\s+|和|与|及|以及", re.IGNORECASE)
_ELLIPTIC = re.compile(r"^(.+?)\s+(?:is|was|does)(?:\s+(?:correct|right|true|it|the\s+one))?\W*$", re.IGNORECASE)
_LIKELY = re.compile(r"^\W*(?:(?:most\s+)?likely|probably|definitely|clearly)\s+", re.IGNORECASE)


@lru_cache(maxsize=8192)
def answer_np(text: str, concluded: bool = False) -> str:
    """The words a segment gives as its answer, up to its explanation ("…, given …"): what an answer
    statement states, what follows "consistent with" / "points to" / "give", what "she has" (what "X is"
    in a concluding sentence), a noun phrase alone, or what "X is." asserts; "" when it gives none. What findings add
    up to is what follows "=" ("Beck's triad plus pulsus paradoxus = cardiac tamponade")."""
    text = _EQUALS.split(text)[-1]
    before, dash, after = text.rpartition("——")
    if dash and re.search(r"[，、]", before) and len(first := after.split("，")[0]) <= 12 and bare(first):
        text = text.rsplit("——", 1)[1]  # "低热、盗汗，右上肺空洞——肺结核，而不是肺脓肿": the findings, then the answer
    if len(steps := cues.ARROW.split(text)) == 2 and bare(re.sub(r"\s*\([^()]*\)\s*$", "", steps[1])):
        text = steps[1]  # "rebound at McBurney's point and WCC 15.2 → acute appendicitis": what the findings add up to
    said = (cues.STATEMENT_FIRST.match(text) or cues.STATEMENT_ZH.match(text) or cues.STATEMENT_LAST.match(text)
            or cues.STATEMENT_MAKES.search(text))
    if said:
        np = said.group("np")
    elif (cue := _NP_STRONG.search(text) or _NP_DO.search(text)) is not None:
        np = text[cue.end():]
    elif (said := cues.STATEMENT_SO.match(text)) is not None:
        np = said.group("np")
    elif (concluded or WEAK_CONCLUSION.search(text)) and (cue := _NP_WEAK.search(text)) is not None:
        np = text[cue.end():] if bare(_EXPLAIN_END.split(text[cue.end():], 1)[0]) else ""
    elif (said := _ELLIPTIC.match(text)) is not None:  # "…; hypokalemia is.", "C is correct"
        np = said.group(1) if bare(said.group(1)) else ""
    else:
        np = _LIKELY.sub("", text)
        head = _COMMA_END.split(np, 1)[0]  # "an ectopic pregnancy, treated with …": the verb explains it
        np = np if len(head.split()) <= 25 and not cues.VERB.search(head) and (
            not cues.CLAUSE.match(np.strip()) or _PARTICIPLE_NP.match(head.strip())) else ""
    return _EXPLAIN_END.split(np, 1)[0]


_APPOSITION = re.compile(r"\s*(?:即|也就是|亦即|又称|又名|也称|i\.e\.?|namely|a\.?k\.?a\.?|also\s+(?:known\s+as|called|termed))",
                         re.IGNORECASE)


_OF_BOTH = re.compile(r"(\bof\s+(?:the\s+)?[a-z][\w-]*)\s+and\s+(?=[a-z][\w-]*\s*(?:[(,;]|$))")


def np_list(np: str) -> bool:
    """Several bare noun phrases joined by and / commas / plus naming different things."""
    items: set[frozenset[str]] = set()
    np = _OF_BOTH.sub(r"\1-and-", np)  # "CT of the abdomen and pelvis": one answer
    parts = [p for p in _SPLIT_ITEMS.split(np) if not _APPOSITION.match(p or "")]  # "X, i.e. Y" renames X
    if len(parts) == 2 and (cues.REFINES.search(parts[1]) or re.fullmatch(r"\W*[A-J]\W*", parts[0])
                            or _HOW_MUCH.fullmatch((parts[1] or "").strip())
                            or re.match(r"\s*(?:an?|of|on|at|involving|affecting)\s", parts[1] or "", re.IGNORECASE)):
        return False  # "Mobitz type II", "D, amiodarone", "Boerhaave syndrome, a full-thickness rupture", "IE, of the
        # tricuspid valve": one answer
    for part in parts:  # the leading run of bare parts: "MI, PE and X" but not "MI, and it …"
        part = ADVERB.sub("", part or "")
        if _HOW_MUCH.fullmatch(part.strip()) or _WHEN.fullmatch(part.strip(" .!")):
            continue  # "Vitamin B1, IV, before any glucose", "Mitral stenosis, severe", "…, now": not another item
        # "地西泮，静脉缓慢推注": how it is given, not a second drug; "…，立即高流量吸氧": a step of care
        if not bare(part) or _GIVEN_HOW.search(part) or _ZH_PLAN.match(part):
            break
        items.add(words_of(part))
    return len(items - {frozenset()}) >= 2
