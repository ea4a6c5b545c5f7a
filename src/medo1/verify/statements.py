"""The statements of the answer anywhere in a final response, not only in its committed sentences.

A policy that learned the verifier reads the answer line writes the reference there and its real answer
somewhere else. `match` reads every statement of the answer (`stated_answers`) and requires all of them to
name the reference; this module finds them:

    "the answer / diagnosis is Y", "Final: Y", "Final interpretation: Y", "the answer to that is Y", "the answer I
        would give is Y", "— final answer Y",
        "Y is what this ECG shows", 答案是Y, 诊断归结为Y, 本例应为Y;
    a summing-up that names the case: "Overall this is Y", "In other words, this is Y", "Overall, the picture is
        best labelled as Y", or after a clause, "On reflection, the QT is short, so this is Y" (what the case is,
        said before the answer names the reference, is a step to it: "…, so this is eclampsia. … So the answer is
        magnesium sulfate");
    the answer pointed back to: "… makes the cause Y — that is the final diagnosis", "…, which is my final
        answer": the noun phrase that ends the clause before the pointer;
    a restatement after the answer: a sentence that opens with "Specifically", "More precisely:", "To be
        accurate,", "In other words,", "Put plainly:", "i.e.", "Summing up:", "On a second look," (换言之, 也就是说)
        restates the answer, and what follows must name the reference and commit to it. Responses that commit
        seldom restate their answer this way: of the 1,631 correct responses in the labelled set, one does, and
        it refines the reference itself ("this is sarcoidosis — specifically Löfgren syndrome");
    a revision after the answer: a sentence that opens with "On second thought", "On reflection", "On review",
        "On second reading", "On checking the bloods again", "Having reconsidered", "Wait", "Actually" (转念一想), or a
        clause "…, so strictly / in fact / actually …", keeps the answer only when it names the reference and says it
        stands or states it ("On reflection, warfarin remains right", "Actually, the answer is X"); anything else it
        says is another answer (of the 2,131 correct responses of the tuned rows, none opens a sentence after its
        answer with "Actually", against 13 wrong ones);
    a conclusion by another noun after the answer: "So the most likely organism in this child is Y".

A statement of a diagnosis ("the diagnosis is …", 诊断为 …, "this is …") is told apart from one of the answer, so
that "The diagnosis is A. The treatment of choice is B." can answer two questions (`medo1.verify.match`); a "final
diagnosis" (最终诊断) is the answer.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from medo1.verify.sentences import ANSWER_GIVEN, sentences

__all__ = ["NOT_NAMING", "REFINED_INSIDE", "Stated", "stated_answers"]

# Words that open a restatement of the answer just given
RESTATE = (r"(?:more\s+)?specifically|more\s+precisely|more\s+exactly|to\s+be\s+(?:precise|accurate|exact)|"
           r"strictly(?:\s+speaking)?|"
           r"in\s+other\s+words|put\s+(?:plainly|simply|another\s+way|more\s+precisely)|to\s+put\s+it\s+(?:more\s+)?"
           r"(?:precisely|plainly|simply|exactly|another\s+way)|that\s+is\s+to\s+say|i\.e\.?|that\s+is(?=\s*,)|"
           r"summing\s+up|to\s+sum\s+up|in\s+sum|on\s+(?:a\s+)?second\s+look|looking\s+again|on\s+closer\s+"
           r"(?:look|inspection)|确切地说|更准确地说|换言之|换句话说|也就是说")
_SAID_BEFORE = (
    # a label that gives the final word: "Final: septic shock", "Final interpretation: a mixed disorder"
    r"^\W*(?:final(?:\s+(?:interpretation|impression|verdict|conclusion|call|read(?:ing)?|assessment|word|pick|ruling))?|"
    r"tl;?dr|in\s+short|net|(?:in\s+)?summary|bottom\s+line)\s*[:：]\s*(?!\W*an?\s+\d)(?P<lnp>[^.;,:]+)|"  # "TL;DR: Y"
    # what a report or a handover assesses the case as: "Assessment: Y", "Impression: Y" (a short name, not reasoning)
    r"^\W*(?:assessment|impression)\s*[:：]\s*(?![\s*_])(?!(?:i|we|it|this|there|the\s+triad|an?\s)\b)"
    r"(?P<anp>[^.;,:]+)(?![^.]*;)|"
    # "So the direct cause of her weakness, which is what's asked, is Y"
    # … and "what we are actually treating is Y", "the lesion asked about is Y"
    r"(?:\bwhat(?:(?:'s|\s+is|\s+was)\s+(?:being\s+)?asked(?:\s+for)?|\s+(?:we|you|i)(?:'re|\s+are|\s+am)\s+(?:actually\s+|"
    r"really\s+|now\s+)?(?:treating|dealing\s+with|looking\s+at|managing)(?:\s+(?:here|now))?)|"
    r"\bthe\s+(?:[\w–-]+\s+){0,2}[\w–-]+\s+(?:asked\s+(?:about|for)|in\s+question|being\s+asked\s+about|"
    r"to\s+name(?:\s+here)?)|"  # "the laboratory abnormality asked for is Y", "the disturbance to name here is Y"
    r"\bthat\s+is\s+what\s+(?:this|the)\s+[\w-]+\s+(?:actually\s+|really\s+)?has)\s*(?:,?\s*(?:is|are)\s+|[:：]\s*)"
    r"(?P<qnp>[^.;,:]+)|"
    # "… the diagnosis is X", "answer: X", "the answer I would give is X", 诊断为X — anywhere in a sentence
    r"\b(?P<slot>answer|diagnosis|dx)"
    r"(?:\s+to\s+(?:that|this|it|the\s+question|what\s[^.;:]{1,60}?)|\s+to\s+(?:report|give|record|write|submit)|"
    r"\s+(?:being\s+|that\s+is\s+)?(?:asked\s+for|sought|wanted)|"  # "the underlying diagnosis being asked for is Y"
    rf"{ANSWER_GIVEN})?(?:\s+(?:at\s+this\s+(?:stage|point)|here|for\s+now|in\s+this\s+(?:case|patient))|"
    r"\s+for\s+[^.;:]{1,60}?(?=\s*[:：]))?"
    r"\s*(?:[—–]\s*)?(?:is|would\s+be|must\s+be|remains|[:：])\s*(?P<np>(?:[^.;,:]|,(?=\S)|(?<=\d)\.(?=\d))+)|"
    # "— final answer ulcerative colitis"
    r"\bfinal\s+(?P<fslot>answer|diagnosis)\s+(?!(?:is|was|would|will|must|remains|to|of|for|here|that|and|in|i|we|"
    r"stands|line)\b)(?P<fnp>[A-Za-z][^.;,:]*)|"
    # "— atrial fibrillation is what this ECG shows"
    r"(?:^\W*|[—–:]\s*)(?P<wnp>[^.;:—–,]+?)\s+is\s+what\s+(?:this|the|it|we|i)\b(?:\s+[\w-]+)?\s+(?:shows?|is|has|have|"
    r"see|am\s+left\s+with)\b|"
    r"^\W*(?:this|it)\s+is\s+(?P<tnp>[^.;,:]+)(?=[^.;]*\bthat\s+is\s+my\s+(?:final\s+)?answer)|"
    # a summing-up that names the case: "Overall this is prerenal AKI", "Taken together, it is Y"
    r"^\W*(?:overall|in\s+summary|in\s+short|all\s+told|taken\s+together|putting\s+(?:this|it)\s+"
    r"(?:all\s+)?together|so|therefore|thus|hence|in\s+other\s+words|on\s+balance)\s*,?\s*"
    r"(?:this|it|the\s+(?:overall\s+)?(?:picture|presentation|case))\s+(?:is|represents)\s+"
    r"(?:best\s+(?:labell?ed|described|called|termed|explained|classified)\s+as\s+)?"
    r"(?!an?\s|not\b|likely\b|probably\b|possibly\b)(?P<snp>[^.;,:]+)|"
    # … or after a clause: "On reflection, she has a short QT, so this is hypercalcaemia"
    r"(?:[,;—–]\s*|\band\s+)(?:so|therefore|thus|hence)\s*,?\s*this\s+is\s+"
    r"(?!an?\s|not\b|likely\b|probably\b|possibly\b|\w+ed\b)(?P<cnp>[^.;,:]+)|"
    # a conclusion by another noun: "So the most likely organism in this child is Y"
    r"\b(?:so|therefore|thus|hence)\s*,?\s*the\s+(?:most\s+likely|likeliest|most\s+probable|best|correct|right|"
    r"most\s+appropriate)\s+(?:(?!diagnos|answer|dx\b)[\w-]+\s+){1,5}?(?:is|would\s+be)\s+"
    r"(?!not\b|likely\b|probably\b|possibly\b)(?P<gnp>[^.;,:]+)|")
# Words that open a revision of the answer just given: "On second thought, …", "Having reconsidered, …"
REVISE = (r"on\s+(?:further\s+)?(?:second\s+thoughts?|reflection|reconsideration|review|re-?reading|re-?checking)|"
          r"on\s+checking\s+(?:[\w-]+\s+){0,3}?again|re-?checking|checking\s+again|"
          r"on\s+(?:a\s+)?second\s+(?:reading|read|glance|pass)|"
          r"having\s+reconsidered|"
          r"wait|hold\s+on|correction|actually|in\s+(?:real\s+life|practice|reality)|clinically,?\s+though|realistically|"
          r"in\s+truth|truth\s+be\s+told|really,?\s+though|to\s+be\s+honest|hmm+|"
          r"thinking\s+(?:about\s+it\s+)?again|come\s+to\s+think\s+of\s+it|scratch\s+that|转念一想|再三考虑|"
          # a report revised: "Addendum (after the IHC): …", "Revised impression: Y", "Comment (amended): …"
          r"addendum(?:\s*\([^()]*\))?|revised\s+(?:\w+\s+)?(?:impression|comment|conclusion|diagnosis|answer|report|"
          r"opinion)|(?:impression|comment|conclusion|diagnosis|report)\s*\((?:amended|revised|corrected|updated)\)")
# a revision that keeps the answer says so: "On reflection, warfarin remains right"
AFFIRMS = re.compile(r"\b(?:remains?|still|stands?|holds?|stick|keep|stays?|confirm\w*|indeed)\b|仍然|仍是|不变",
                     re.IGNORECASE)
# the answer pointed back to: "… makes the cause Y — that is the final diagnosis", "…, which is my final answer"
_POINTER = (r"\s*(?:,|[—–])\s*(?:so\s+|and\s+)?(?:which|that|this)(?:\s+is|'s)\s+(?:my|the)\s+"
            r"(?:final\s+|definitive\s+|one\s+)?"
            r"(?:answer|diagnosis|cause\s+of\s+\w+)\b")
_SAID_AFTER = (
    # an answer restated: "Specifically portal hypertension", "In other words, load with ticagrelor"
    rf"^\W*(?:{RESTATE})(?![\w-])[,，:：\s]*(?:(?:by\s+definition|in\s+effect|essentially)[,\s]+)?"
    r"(?P<rnp>(?:[^.;,:]|,(?=\S)|(?<=\d)\.(?=\d))+)|"
    # … or revised: the whole sentence after it ("On second thought, …, so … — methotrexate is the drug to blame")
    rf"^\W*(?:{REVISE})(?![\w-])[,，:：\s]*(?P<vnp>.+)|"
    r"[,;—–]\s*so\s+(?:strictly|actually|in\s+fact|really)\b[,\s]*(?P<vnp2>.+)|"
    r"(?:(?P<zslot>答案|诊断)[^。；;，,不非]{0,4}?(?:应?是|应?为|归结为|写为?|改为|[：:])|(?:本例|此例|该患者)应(?:为|是)|最终(?:为|是))"
    r"\s*(?P<zh>[^。；;，,：:]+)")
_ANSWER_SAID = re.compile(_SAID_BEFORE + rf"(?P<bnp>[^.;:—–]+?){_POINTER}|" + _SAID_AFTER, re.IGNORECASE)
# The pointed-back form tries every start in a sentence (slow on long text); a sentence without the pointer is read
# without it, which finds the same statements.
_ANSWER_SAID_UNPOINTED = re.compile(_SAID_BEFORE + _SAID_AFTER, re.IGNORECASE)
_HAS_POINTER = re.compile(_POINTER, re.IGNORECASE)
# the noun phrase that ends a clause: what follows its last verb or preposition ("… is due to Y", "… mean Y")
_POINTED = re.compile(r"\b(?:is|are|was|were|means?|makes?|made|to|as|of|by|from|call|calls|called)\s+(?:the\s+\w+\s+"
                      r"(?=an?\s))?|^\W*(?:so|thus|therefore|hence)\s*,?\s*", re.IGNORECASE)
# a refinement inside a sentence: "…, specifically bisoprolol"
REFINED_INSIDE = re.compile(r"[,—–]\s*(?:specifically|more\s+precisely|to\s+be\s+precise)\b[,\s]*(?P<np>[^.;,:—–]+)",
                            re.IGNORECASE)
# what follows "the diagnosis is" without naming one: "… is not A", "… is clinical", 答案不是X
NOT_NAMING = re.compile(r"(?:not|no|clinical|confirmed|made|established|straightforward|clear|uncertain|unclear|"
                        r"difficult|based|supported|secure|likely|probably|then|that|this|it)\b|"
                        r"不是|并非|并不是|明确|成立|依据", re.IGNORECASE)
# a revision that states the answer itself: "Actually, the answer is vitamin B12 deficiency"
_ANSWER_IS = re.compile(r"^\W*(?:the|my)\s+(?:final\s+|correct\s+|right\s+)?(?:answer|diagnosis)\s+(?:is|would\s+be|:)",
                        re.IGNORECASE)
_FINAL_BEFORE = re.compile(r"(?:\bfinal|最终)\s*$", re.IGNORECASE)
_POINTER_IS = re.compile(r"^(?:this|it|that)\s+(?:is|was|would\s+be)\s+", re.IGNORECASE)
# an aside in brackets that ends what a statement names (not "extradural (epidural) haematoma")
_ASIDE = re.compile(r"\s[(（][^()（）]*(?:[)）](?=\s*(?:[—–,;:]|$))|$)")
_ADVERB = re.compile(r"^(?:therefore|thus|hence|so|clearly|certainly|definitely)\b[,\s]*", re.IGNORECASE)


class Stated(NamedTuple):
    slot: str  # "answer" or "diagnosis"
    np: str  # what it names
    restated: bool  # a restatement after the answer ("More precisely: …"): it must commit to what it names
    case: bool = False  # what the case is ("Overall this is Y", "…, so this is Y"): a diagnosis, maybe a step
    revised: bool = False  # a revision after the answer ("On second thought, …"): it names the answer only to keep it

    @property
    def kept(self) -> bool:
        """Whether what it names can be the answer: a revision keeps an answer only by saying it stands or stating it
        ("On reflection, warfarin remains right", "Actually, the answer is X")."""
        return not self.revised or bool(AFFIRMS.search(self.np) or _ANSWER_IS.match(self.np))


def stated_answers(final: str) -> list[Stated]:
    """Each statement of the answer in a final response's sentences (not its questions), anywhere in a sentence
    (see the module docstring). "The answer is X", "Specifically X", "This is X, and that is my final answer" and
    答案是X state the answer; "the diagnosis is X", 诊断为X and 本例应为X a diagnosis."""
    out = []
    for sentence in sentences(final):
        if sentence.question:
            continue
        said = _ANSWER_SAID if _HAS_POINTER.search(sentence.text) else _ANSWER_SAID_UNPOINTED
        before = len(out)
        for m in said.finditer(sentence.text):
            g = m.groupdict()
            if g["cnp"] is not None and len(out) > before:
                continue  # "Answer: clozapine — two trials failed, so this is resistant schizophrenia": the reason
            diagnosis = ((g["slot"] or g["fslot"] or "").lower() in ("diagnosis", "dx") or (
                g["zh"] is not None and g["zslot"] != "答案")) and not (
                (g["slot"] or g["zslot"]) and _FINAL_BEFORE.search(sentence.text, 0, m.start()))  # "final diagnosis: Y"
            g["vnp"] = g["vnp"] or g["vnp2"]
            if g["anp"] is not None and len(g["anp"].split()) > 8:
                continue  # "Assessment: appendicitis tends to build gradually with …": reasoning
            np = (g["np"] or g["lnp"] or g["anp"] or g["qnp"] or g["rnp"] or g["vnp"] or g["tnp"] or g["snp"]
                  or g["cnp"] or g["gnp"] or g["zh"] or g["fnp"] or g["wnp"]
                  or _POINTED.split(g.get("bnp") or "")[-1])
            np = _ADVERB.sub("", np.strip(" *_`"))  # "the diagnosis is therefore Y"
            np = _ASIDE.split(np, 1)[0] or np  # "Answer: Y (the steroid-resistant cousin of X)": Y is what it names
            restated = g["rnp"] is not None or g["vnp"] is not None
            if restated:  # "Summing up: this is Y"
                np = _POINTER_IS.sub("", np)
            case = g["snp"] is not None or g["cnp"] is not None or g["anp"] is not None  # "Overall this is Y": the case
            slot = "diagnosis" if (diagnosis or case) and g["anp"] is None else "answer"  # "Assessment: Y" answers
            out.append(Stated(slot, np, restated, case, g["vnp"] is not None))
    return out
