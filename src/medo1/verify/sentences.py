"""The sentences of a final response, which of them commit to an answer, and the role of each part.

A response names many things: the answer, the candidates it weighed, the ones it rejected, the
findings that explain it. Only what it commits to may be compared with a reference:

1. the final response only (`medo1.thinking.final_answer_text`; the thinking is never read);
2. in it, the sentences that commit: the last explicit statement ("the answer is …", "final
   answer: …", "the most likely diagnosis is …", 答案是 …) and the conclusions after it; without
   one, a last line in bold as a whole ("…\n\n**X**"), a bare first sentence before its explanation
   ("X. The murmur …"), or a closing last sentence that names what the case is ("… This delayed
   pericarditis is X."); else
   the conclusions ("most consistent with", "therefore", "points to", "this is …", "the
   first-line therapy is …", 因此 …); without those, every sentence;
3. those sentences cut into segments, each with a role: `main` (asserted), `rejected` ("not X",
   "X, not Y", "rather than X", 而非), `concession` ("although X, …", "X is tempting, but …", 虽然)
   or `explanation` ("…, given X", "because X", 由于);
4. in a main segment, what it names is asserted unless the words around it (`medo1.verify.cues`)
   negate it ("no evidence of X", "X is absent", "I doubt it is X", "it is false that …", "X:
   unlikely", 不是X, X可能性小), make it only possible ("could / may be X", "possibly X", "consider
   X", "X cannot be excluded", 可能是X — but "most likely X" and 最可能是X commit) or weigh it
   ("X is a consideration"); a sentence that asks ("…?", "Is it X", 吗) asserts nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medo1.verify import cues

_SENTENCE_END = re.compile(r"(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)\.(?!\d)|[!。！？]|\?(?!\w)")  # "?acute X": a query mark
_LETTER_DOT = re.compile(r"(?:^|[\s(])[A-Za-z]$")
_MARKUP = re.compile(r"[*_`#>]+")
# markup inside a word: "**Vitamin D**-resistant", "*pseudo*hypoparathyroidism"
_GLUED = re.compile(r"(?<=\w)[*_`]+(?=-\w)|(?<=\w-)[*_`]+(?=\w)|(?<=[A-Za-z])\*+(?=[a-z])")
# a copula written short: "It's X" reads as "It is X"
_SHORT_IS = re.compile(r"\b(it|that|this|what|here|there)'s\b|(?<![\w'])(?<!the\s)(answer|diagnosis|dx)'s\b(?=\s+\w)",
                       re.IGNORECASE)
_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
# a short line in bold as a whole, a label when bullets follow it: "**Key findings**\n- Glucose 28 mmol/L"
_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)[^*_\n]{1,40}(?:\*\*|__)\s*$")
_BULLET = re.compile(r"^\s*(?:[-•*+]|\d{1,2}[.)]|\(\d{1,2}\))\s+")
# a line that runs on into the next: it ends without a stop and the next goes on in lower case, as a clause
# ("Answer: thyroid-stimulating hormone\nreceptor antibodies (TRAb), because …"), not as a short item of a list
_RUNS_ON = re.compile(r"(?<=[\w)*_])[ \t]*\n(?=[a-z][\w'-]*(?:[ \t]+[\w'(),-]+){3}|(?:is|are|was|were|has|have|had|"
                      r"remains|seems|appears|would|could|may|might|must|should|can|cannot|does|did)\s)")
# "Answer: Insulin\n-like growth factor 1": one word
_HYPHEN_RUNS_ON = re.compile(r"(?<=\w)[ \t]*\n(?:[ \t]*\n)*(?=-[a-z])")
_ASKS = re.compile(r"(?:吗|呢|么)$|^(?:is|are|was|could|might|can|may|would|should|does|do|did)\s+(?:it|this|that|he|"
                   r"she|they|the\s+(?:patient|answer|diagnosis|cause))\b|是不是|会不会|(?<![按据看视])是否|能否",
                   re.IGNORECASE)

ANSWER_WORD = r"(?:answer|diagnosis|dx)"
# between the answer word and its verb: "the answer I would give is X"
ANSWER_GIVEN = r"\s+(?:i|we)\s+(?:would|'d|will|'ll)\s+(?:give|choose|pick|put\s+down|write)"
# "the answer is X", "final answer: X", "X is the most likely diagnosis", "the correct option is", 答案是
EXPLICIT = re.compile(
    rf"\b{ANSWER_WORD}(?:\s+(?:on|at)\s+discharge)?(?:{ANSWER_GIVEN})?\s*"
    r"(?:is|would be|will be|remains|:|=|-)(?!\s+(?:made|established|confirmed|reached|"
    r"clear|unclear|uncertain|pending|unknown|not|yet|still|open)\b)|"
    r"\b(?!mak(?:e|es|ing)\s+the\s+diagnosis\b)(?:is|are|as|makes?|making|remains?|be|being)\s+"
    r"(?:(?!confirm|establish|support|rule|exclud|reach|clinch|secur|mak|narrow|refin|trigger|prompt|suggest|rais|"
    r"lead|help|guid|that\b|which\b|should\b|would\b|could\b|might\b|may\b|not\b)\S+\s+){0,6}?(?<!\bnot\s)the\s+"
    r"(?:(?:most|more|single)\s+)?(?:(?:likely|probable|best|better|correct|final|right|unifying|definitive|"
    rf"underlying|leading|working)\s+)*{ANSWER_WORD}\b(?!\s+(?:here\s+)?(?:rests|depends|relies|hinges|turns)\b)|"
    r"\b(?:correct|best|right|better|preferred|safest|safer)\s+(?:option|choice)\s*(?:is|:)|"
    r"^\W*(?:final\s+)?(?:conclusion|impression|verdict|bottom\s+line)\s*[:：]\s*\S|"  # "Conclusion: X."
    r"^\W*final\s+a\s*[:：]\s*\S|"  # "Final A: X" (a SOAP note's assessment, a flashcard's answer)
    r"^[^\w∴]*∴\s*\S|^\W*go\s+with\b|\bfinal\s+answer\s*,\s*\S|"  # "∴ X"; "Go with X"; "…: final answer, X"
    # "Consensus (majority): X", "M&M consensus on the cause of death: X"
    r"^\W*(?:m&m\s+)?consensus(?:\s*\([^)]{1,20}\))?(?:\s+(?:on|about)\s+[^:：]{1,40})?\s*[:：]\s*\S|"
    r"\bwhat\s+the\s+question\s+is\s+(?:really\s+)?(?:asking(?:\s+(?:about|for))?|after|getting\s+at)\s+is\b|"
    r"\b(?:i'd|i\s+would|i'll|i\s+will|we'd|we'll)\s+(?:go\s+with|choose|pick|opt\s+for|settle\s+on)\b|"
    r"\bis\s+what\s+(?:i|we)(?:'d|\s+would|'ll|\s+will)\s+(?:put\s+down|go\s+with|choose|pick|answer)\b|"
    r"\b(?:i'm|i\s+am)\s+calling\s+(?:this|it)\b|\b(?:i'd|i\s+would|we'd|we\s+would)\s+call\s+(?:this|it)\b|"
    # "Y is where I land", "I settle on Y", "…, which is my answer"
    r"\bis\s+where\s+(?:i|we)\s+(?:land|come\s+down|end\s+up|settle)\b|\b(?:i|we)\s+(?:land|settle|come\s+down)\s+on\b|"
    r"\b(?:is|as)\s+my\s+(?:final\s+|definitive\s+|one\s+|only\s+|working\s+)?(?:answer|diagnosis)\b(?!\s+(?:is|of))|"
    r"(?:答案|诊断|结论|致病菌|病原体|病原菌)(?:应|可)?(?:是|为|：|:)|(?:主要|根本|直接)?(?:病因|原因)(?:是|为)|最(?:有)?可能的?(?:诊断|是|为)|首选(?:的?治疗)?(?:药物|药|方法|"
    r"措施|检查)?(?:是|为)|^\W*(?:本例|此例)(?:应)?(?:为|是)(?!否)",
    re.IGNORECASE)
# "…, so I'd rule it out", "…, so it doesn't fit here": a conclusion about another candidate, not the answer
_DISMISSED = (r"(?:i'd|i\s+would|we'd|we\s+would|i\s+can|we\s+can)\s+(?:rule|cross)\s+(?:it|that|this)\s+out\b|"
              r"(?:it|that|this)\s+(?:does\s+not|doesn't|is\s+not|isn't)\s+(?:fit|it)\b|(?:that|it|this)\s+is\s+(?:excluded|out)\b")
CONCLUSION = re.compile(
    r"^[^\w→⟶⇒]*(?:→|⟶|⇒)|"  # "→ **X**": a line that an arrow leads to
    r"\b(?:most\s+likely|most\s+probable|most\s+consistent|consistent\s+with|compatible\s+with|in\s+keeping\s+with|"
    r"best\s+explain\w*|points?\s+(?:\w+\s+)?(?:to|toward)|pointing\s+(?:\w+\s+)?to|indicat(?:e|es|ing)\b|"
    r"confirms|seals\s+it|clinch(?:es)?|settles?\s+it\s+as|makes?\s+this|for\s+what\s+is|"
    r"putting\s+(?:it|this|that|these|them|everything|the\s+\w+)\s+(?:all\s+)?together|"
    r"taken\s+together|all\s+told|"
    r"therefore|thus|hence|"
    r"in\s+conclusion|in\s+summary|overall|of\s+choice|next\s+(?:best\s+)?step|least\s+likely|"
    r"best\s+(?:initial\s+|next\s+)?(?:step|test|treatment|management)|treatment\s+is|management\s+is|"
    r"the\s+(?:likely\s+|underlying\s+|most\s+likely\s+)?cause\s+is|suggestive\s+of|characteristic\s+of|"
    r"culprit|causative|responsible|criteria\s+for|classic\s+for|typical\s+of|diagnostic\s+of|hallmark\s+of|"
    r"confident|suggests?|is\s+that\s+of|(?:together\s+)?identif(?:y|ies))\b|"
    r",\s*so\s+(?!(?:no|not)\b|" + _DISMISSED + ")|"
    r"\bmeets?\s+(?:the\s+)?(?:[\w'-]+\s+){0,2}criteria\b|^\W*so\b(?!\s+(?:far|much|many|that|long|is|are|does)\b)|"
    r"因此|所以|综上|考虑为|首先考虑|(?<!不)符合|提示|最(?:有)?可能|诊断", re.IGNORECASE)
# A line in bold as a whole: "**Fragile X syndrome**"
BOLD_LINE = re.compile(r"^[ \t]*(?:\*\*|__)(?P<np>[^*_\n]+)(?:\*\*|__)[ \t]*[.。]?\s*$")
_ANSWER_HEADING = re.compile(r"^\W*(?:(?:the\s+)?(?:final|short|my|most\s+likely|likely|probable|best|correct)\s+)?"
                             rf"(?:answer|diagnosis|conclusion|{cues.SLOT})s?\W*$|"
                             r"^\W*(?:最终)?(?:答案|诊断|结论)\W*$", re.IGNORECASE)
# The last sentence of a reasoned answer that names what the case is: "Taken together, this is X", "This
# delayed pericarditis is X", "The agent … is X".
CLOSING = re.compile(
    r"^(?!\W*the\s+next\s+steps\s+are\b)"  # "The next steps are a CT and …": the plan after the answer
    r"(?!\W*in\s+(?:simple|plain|lay)\s+(?:terms|language|english|words)\b)"  # an explanation for a patient
    r"(?!\W*the\s+(?:good|bad|reassuring)\s+(?:news|thing|part)\b)"  # "The good news is it's very treatable"
    r"\W*(?:(?:with|given|in|after|considering|based\s+on)\b[^,;:]{0,120},\s*)?"  # "With a ferritin of 6, this is X"
    r"(?:(?:taken\s+together|altogether|all\s+told|in\s+short|put\s+together|collectively|overall)\s*,?\s*)?"
    r"(?:this|these|that|the|such|her|his|their|its)\b[^;:]*?(?<!\bthere)\s(?:is|are|represents?|constitutes?)\s+"
    r"(?!not\b|no\b|un\w+\b|less\b|also\b|still\b|needed\b|required\b|(?:likely|possibly|probably)\b|"
    r"(?:spared|normal|intact|preserved|unremarkable|what\s+rules)\b)\S", re.IGNORECASE)
WEAK_CONCLUSION = re.compile(
    r"^\s*(?:so\s+)?(?:this|it|that)\s+(?:is|was|represents|looks\s+like|sounds\s+like)\b(?!\s+not\b)|"
    r"[,:]\s*(?:so\s+)?(?:this|it)\s+(?:is|represents)\s+(?!not\b|no\b|un\w+\b|less\b|also\b|why\b|what\b|how\b|"
    r"out\b|excluded\b)|"  # "Praevia is painless, so it's out" dismisses
    r"\b(?:he|she|they|patient|child|baby|infant|woman|man|boy|girl)\s+(?:\w+\s+)?(?:has|have|had|is\s+suffering)\b|"
    r"^(?:这|此|该)(?:是|为)|患者(?:患有|为|是)", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    text: str
    question: bool = False  # it ends in "?" (or 吗) or asks by word order ("Is it MI")
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


@lru_cache(maxsize=8192)
def explicit(text: str) -> bool:
    """An explicit answer statement: "the answer is …", "final answer: …", "… is the most likely diagnosis"."""
    return EXPLICIT.search(text) is not None


@lru_cache(maxsize=4096)
def sentences(text: str) -> tuple[Sentence, ...]:
    """The sentences of a text, line by line, with list markers and markdown emphasis removed ("It's" read as
    "It is")."""
    out: list[Sentence] = []
    text = (text or "").replace("\u2019", "'").replace("👉", " — ").replace("➡️", "→").replace("➡", "→")  # "X 👉 …"
    text = _SHORT_IS.sub(lambda m: f"{m.group(1) or m.group(2)} is", text)
    text = _COMMENT.sub(r"\n\1\n", text)  # a hidden comment is read as text: "**X** <!-- provisional … -->"
    text = _HYPHEN_RUNS_ON.sub("", _RUNS_ON.sub(" ", text))
    lines = text.split("\n")
    for k, raw in enumerate(lines):
        bullet = _BULLET.match(raw)
        heading = bool(re.match(r"\s*#{1,6}\s", raw)) or raw.rstrip(" *_").endswith((":", "：")) or bool(
            _BOLD_LABEL.match(raw) and _BULLET.match(next((line for line in lines[k + 1:] if line.strip()), "")))
        line = _GLUED.sub("", raw[bullet.end():] if bullet else raw)  # "**Vitamin D**-resistant" is one word
        line = _MARKUP.sub(" ", line)
        start = 0
        for m in _SENTENCE_END.finditer(line):
            if m.group() == "." and _LETTER_DOT.search(line[start:m.start()]) and (
                    not line[start:m.start() - 1].strip() or re.match(r"\s*[a-z(]", line[m.end():])):
                continue  # "B. Aspirin", "E. coli": one sentence
            _add(out, line[start:m.start()], m.group() in "?？", heading)
            start = m.end()
        _add(out, line[start:], False, heading)
    return tuple(out)


def _add(out: list[Sentence], text: str, asked: bool, heading: bool) -> None:
    text = text.strip()
    if text.strip(" ,;:，；：()（）[]\"'*_"):  # not a bracket left over: "(And no digital VE!)"
        out.append(Sentence(text.strip(" ,;，；"), asked or bool(_ASKS.search(text)), heading))


@lru_cache(maxsize=4096)
def committed_sentences(final: str) -> tuple[Sentence, ...]:
    """The sentences of a final response that carry its committed answer: the last explicit answer
    statement and any conclusion after it (or the lines under a "Final Answer" heading); else a last
    line in bold as a whole ("…\n\n**X**"); else a first sentence that is a bare noun phrase before its
    explanation ("X, rather than Y. The pericardium is …"); else a closing last sentence that names what the case is ("…
    This triad of X, Y and Z is W."); else every conclusion sentence ("most consistent with",
    "this is …", "she has …"); else every sentence."""
    found = sentences(final)
    labelled = [i for i, s in enumerate(found) if s.heading and _ANSWER_HEADING.match(s.text)]
    if labelled and labelled[-1] + 1 < len(found):  # "### Final Answer" and the lines under it
        under = found[labelled[-1] + 1:]
        end = next((i for i, s in enumerate(under) if s.heading), len(under))
        return under[:end] or under[:1]
    stated = [i for i, s in enumerate(found) if explicit(s.text) and not s.question]  # "… — what is the diagnosis?"
    asked = next((i for i, s in enumerate(found) if _Q_LABEL.match(s.text)), len(found))
    stated = sorted({*stated, *(i for i in range(asked + 1, len(found)) if _a_labelled(found[i].text))})  # "Q: … A: X"
    if stated:
        last = stated[-1]
        first = last - 1 if last and _POINTS_BACK.match(found[last].text) else last  # "X. That is my answer."
        return found[first:last + 1] + tuple(s for s in found[last + 1:] if CONCLUSION.search(s.text))
    asked = [i + 1 for i, s in enumerate(found[:-1])
             if s.question and not s.heading and _bare_answer(found[i + 1]) and (_WH.search(s.text) or (
                 not _ASKS.search(s.text) and s.text.isascii() and len(s.text.split()) > 3))]  # "…, plus X? Y."
    if asked:  # "… who's the usual suspect? *Streptococcus pneumoniae*. Klebsiella? …": the last question's answer
        return (found[asked[-1]],) + tuple(s for s in found[asked[-1] + 1:] if CONCLUSION.search(s.text))
    bold = BOLD_LINE.match(final.rstrip().rsplit("\n", 1)[-1])
    if bold and len(found) > (closing := len(sentences(bold.group("np")))) > 0:
        # "…reasoning…\n\n**Fragile X syndrome**": a closing line in bold as a whole answers
        return found[len(found) - closing:]
    if len(found) > 1 and _bare_answer(found[0]) and not _bare_answer(found[1]):
        # "Constrictive pericarditis, rather than restrictive cardiomyopathy. The pericardium …" (and a later "Therefore, Y")
        return found[:1] + tuple(s for s in found[2:] if cues.STATEMENT_SO.match(s.text))
    if len(found) > 1 and (states(found[0].text) or _THIS_IS.match(found[0].text)) and not found[0].question:
        # "The drug is vancomycin.\n\n…reasons…": the answer stated first, then its explanation (and any later
        # statement: "The picture is a tricyclic overdose … The antidote is sodium bicarbonate")
        return (found[0],) + tuple(s for s in found[1:] if CONCLUSION.search(s.text) or states(s.text))
    if len(found) > 1 and _ORDERED.match(found[0].text) and not found[0].question:
        # "Give fomepizole. …reasons…": the treatment ordered first, then its explanation
        return (found[0],) + tuple(s for s in found[1:] if CONCLUSION.search(s.text))
    if len(found) > 1 and CLOSING.match(found[-1].text):
        return (found[-1],)  # "… This triad of X, Y and Z is Plummer-Vinson syndrome."
    late = [i for i in range(max(1, len(found) - 3), len(found)) if _bare_answer(found[i])
            and len(found[i].text.split()) <= 5 and not _NOT_LATE_ANSWER.search(found[i].text)]
    # "… PE doesn't explain the arm differential. Mitral stenosis, severe. Anticoagulate and refer.": a bare noun phrase
    # near the end of the reasoning, before the plan, concludes it
    late = late if len(late) == 1 and len(found) > 3 else []
    cued = tuple(s for i, s in enumerate(found)
                 if CONCLUSION.search(s.text) or WEAK_CONCLUSION.search(s.text) or states(s.text) or i in late)
    return cued or found


_Q_LABEL = re.compile(r"^\W*(?:q|question|问)\s*[:：]", re.IGNORECASE)  # a flashcard: "Q: … A: X", 问：…答：X
_A_LABEL = re.compile(r"^\W*(?:a|ans|答)\s*[:：]\s*\S", re.IGNORECASE)
def _a_labelled(text: str) -> bool:
    """"A: MgSO4 (magnesium sulphate), 4 g IV": a short answer after an answer label, not "A: Rule out the mimics …"."""
    found = _A_LABEL.match(text)
    head = re.split(r"[,(（—–:：;；]|\s-\s|→", text[found.end() - 1:] if found else "", maxsplit=1)[0].split()
    return (bool(found) and 0 < len(head) <= 6 and not cues.VERB.search(" ".join(head))
            and not _REASONING.match(head[0]) and not re.search(r"['‘\"“]", " ".join(head)))  # "A: The '5 Ps' — …"


_REASONING = re.compile(r"(?:rule|let|let's|consider|think|first|start|look|weigh|run|check|work|go)\b", re.IGNORECASE)
_WH = re.compile(rf"(?:^|[—–,;:]\s*)(?:so\s+|and\s+|then\s+)?{cues.WH_WORDS}\b|那么是什么|是什么",
                 re.IGNORECASE)


# an answer statement that names nothing but the sentence before it: "That is the answer, and …"
_POINTS_BACK = re.compile(r"^\W*(?:and\s+)?(?:that|this|it)\s+is\s+(?:the|my|our)\s+(?:final\s+|correct\s+)?"
                          r"(?:answer|diagnosis)\s*(?:$|[,;—–]\s*(?:and|so|which|but)\b)", re.IGNORECASE)
# a first sentence that says what the case is and no more: "This is lithium toxicity."
_THIS_IS = re.compile(r"^\W*(?:this|it)\s+is\s+(?!not\b|no\b|un\w+\b|less\b|also\b|(?:likely|possibly|probably)\b)"
                      r"[\w'()-]+(?:\s+[\w'()-]+){0,5}$", re.IGNORECASE)


# a first sentence that orders one treatment: "Give fomepizole.", "Start NAC now", 应立即静脉注射阿托品
_ORDERED = re.compile(r"^\W*(?:give|start|administer|begin|prescribe|initiate|load\s+with|"
                      r"treat\s+(?:her|him|them|it)?\s*with)\s+(?!(?:either|both|one|a\s+trial)\b)[\w-]+(?:\s+[\w-]+){0,3}?"
                      r"(?:\s+(?:now|immediately|urgently|at\s+once|first))?\s*[:.]?$|"
                      r"^(?:应|需)?(?:立即|立刻|尽快|首先)(?:静脉|肌内|口服)?(?:注射|给予|使用|应用|予)[^，,。；;、和或]{2,12}$",
                      re.IGNORECASE)


# not a late bare answer: a negation, another item, a plan ("Correct the hyperkalaemia alongside induction"), Chinese
_NOT_LATE_ANSWER = re.compile(r"^\W*(?:not|no|never|nor|except|unlikely|also|either|both|then|correct|"
                              r"give|start|stop|check|refer|offer|treat|admit|arrange|consider|avoid|continue|repeat|order|send|begin|"
                              r"add|switch|keep|watch|monitor)\b|\b(?:and|plus|with|alongside|or|vs)\b|[+/]|"
                              r"[\u4e00-\u9fff]", re.IGNORECASE)


def _bare_answer(sentence: Sentence) -> bool:
    """A first sentence that is a short noun phrase, no verb: the answer given before its explanation."""
    words = sentence.text.split()
    return (not sentence.heading and not sentence.question and 0 < len(words) <= 8
            and not _CASE_LABEL.match(sentence.text) and not cues.VERB.search(sentence.text)
            and not any(w.endswith("ed") for w in words[1:]))


# a line that gives the case, not the answer ("Findings: a target lesion", a SOAP note's "S: 46M, bipolar"), speaks
# of the one asking ("Your daughter's message worries me.") or greets ("Thanks for sending your diary.", "Dear Dr O,")
_CASE_LABEL = re.compile(r"^\W*(?:(?:situation|background|history|findings|presentation|examination|exam|obs|vitals|"
                         r"labs|bloods|ecg|cxr|ct|mri|us|stem|case|patient|pt|s|o|subjective|objective)\s*[:：]|"
                         r"(?:many\s+)?thanks\b|your\b|you\b|we\b|our\b|"
                         r"thank\s+you\b|hi\b|hello\b|dear\b|good\s+(?:morning|afternoon|evening)\b)",
                         re.IGNORECASE)


def states(text: str) -> bool:
    """An answer statement that names what it answers: "the first-line therapy is X", "X is the culprit"."""
    return bool(cues.STATEMENT_FIRST.match(text) or cues.STATEMENT_LAST.match(text) or cues.STATEMENT_ZH.match(text)
                or cues.STATEMENT_DUE.match(text))


# ---------------------------------------------------------------- segments

_LEAD = re.compile(
    r"^\s*(?P<concession>although|though|even\s+though|while|whilst|whereas|despite|in\s+spite\s+of|like|unlike|"
    r"apart\s+from|besides|other\s+than|except\s+for)\b|^\s*(?P<zh_concession>虽然|尽管|即使|即便)|"
    r"^\s*(?P<rejected>rather\s+than|instead\s+of|not)\b|"
    r"^\s*(?P<explanation>given|because|since|as|after|considering|based\s+on|with|in\s+(?:an?|the|this|that|"
    r"such)\s(?=[^,]{1,80}\b(?:with|without|who|whose|of)\b))\b|^\s*(?P<zh_explanation>鉴于|由于|因为)",
    re.IGNORECASE)
_JOINT = re.compile(
    r"(?P<but>,?\s+but\s+|,\s*yet\s+|[,;]?\s*however,?\s+|[，,]?\s*(?:但是?|不过(?!敏)|然而)[，,]?)|"
    r"(?P<concession>,\s*(?:although|though|even\s+though|while|whilst|whereas|despite)\s+|[，,]\s*(?:虽然|尽管))|"
    r"(?P<rejected>,\s*(?:not|and\s+not|no)\s+|\s*[(（]\s*not\s+|\s+(?:rather\s+than|instead\s+of)\s+|\s+and\s+not\s+|"
    r"[，,]?\s*(?:而非|而不是)|[，,](?=[^，,。；;]{1,30}?(?:不符合|不支持|不考虑|可以?排除|已排除|不像)))|"
    r"(?P<than>\s+than\s+)|"
    r"(?P<explanation>,\s*and\s+(?=(?:in\s+the\s+absence|if|once|unless|provided)\b)|"
    r",\s*(?:which(?!\s+(?:clinches|confirms|establishes|seals|settles)\b)|given|because|since|as|due\s+to\s+the|"
    r"based\s+on|(?:to\s+be\s+|"
    r"as\s+)?confirmed\s+by)\s+|"
    r"\s+(?:given|because|since)\s+|[，,]\s*(?:因为|由于|鉴于))|"
    r"(?P<so>,\s*(?:so|therefore|thus|hence)\s+|[，,]\s*(?:所以|因此|故|而是)|而是)",
    re.IGNORECASE)
_SPLIT = re.compile(r"\s*[;:]\s+|\s+[-–—=]\s+|[；：]")  # "NNT = 1/ARR = 1/0.04 = 25": each side apart


@lru_cache(maxsize=8192)
def segments(sentence: str) -> tuple[Segment, ...]:
    """A sentence cut into segments, each with its role (see the module docstring). A part after ":" or
    " - " that only dismisses or doubts ("MI: unlikely") stays with what it dismisses; a part after a label
    that rejects ("Ruled out: X") is rejected."""
    parts: list[str] = []
    pos = 0
    for m in _SPLIT.finditer(sentence):
        if cues.DISMISS.match(sentence[m.end():]):
            continue  # "MI: unlikely", "MI - possible": one segment
        if sentence.count("(", 0, m.start()) > sentence.count(")", 0, m.start()):
            continue  # "finasteride (5-alpha-reductase inhibitor; shrinks the gland)": inside brackets
        parts.append(sentence[pos:m.start()])
        pos = m.end()
    parts.append(sentence[pos:])
    out: list[Segment] = []
    for i, part in enumerate(parts):
        if part.strip():
            if i and _REJECTING_LABEL.match(parts[i - 1]):  # "Ruled out: X"
                out.append(Segment(part, "rejected"))
            else:
                out.extend(_part_segments(part))
    return tuple(out)


# A label that rejects what follows its colon: "Ruled out: X", "Excluded: X", 排除：X
_REJECTING_LABEL = re.compile(r"^\W*(?:ruled\s+out|rule\s+out|excluded|exclude|not|unlikely|less\s+likely|rejected|"
                              r"wrong|incorrect|not\s+the\s+answer|已?排除|不考虑|除外|不是)\W*$", re.IGNORECASE)


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
_TENTATIVE = re.compile(r"\b(?:could|might|may|would|possible|possibly|plausible|perhaps|probably\s+not|common|"
                        r"typical)\b|"
                        r"可能|也许", re.IGNORECASE)
_COMMITS = re.compile(
    rf"\b{ANSWER_WORD}\b|\bmost\s+likely\b|\bmore\s+likely\b|\bbest\s+(?:explain|fit)|\bpoints?\s+to\b|"
    r"\bindicat|\bconsistent\s+with\b|\bmakes?\s+|\bmeans\s+|\bthis\s+is\b|\bit\s+is\b|"
    r"\bthe\s+(?:real|actual|true)\b|\bof\s+choice\b|\bfits?\s+better\b|\bbetter\s+(?:fit|explain)|"
    r"\binstead\b(?!\s+of)|\b(?:i'll|i\s+will|i'd|i\s+would|we'll)\s+(?:go|choose|pick|opt|settle)\b|"
    r"诊断|答案|更(?:符合|可能)|考虑为", re.IGNORECASE)
