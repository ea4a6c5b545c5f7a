"""Whether the words around a match of the reference make it another entity, for the `match` verifier: the rules
(Chinese ones, 心源性哮喘 is not 哮喘, in `medo1.verify.match`), their vocabulary and `extends`.

The reference inside a longer entity is not the reference. Extra words that only qualify it are
allowed, and only these:
  - before it, a named qualifier: severity, course and certainty (acute, severe, massive, recurrent,
    likely, classic, …), route and setting (oral, intravenous, urgent, surgical, …), a compound of side,
    onset, duration, grade or number (right-sided, late-onset, long-standing, high-grade, life-threatening,
    four-factor), or a
    word of an opposite group the reference leaves open (inferior MI for MI; right-sided heart failure);
    any other adjective (by its ending: -al, -ar, -ary, -ic, -ous, -oid, -ive, -ile), also past named
    qualifiers ("pulmonary arterial hypertension"), makes another entity: "portal hypertension" is not
    "hypertension", "aplastic anemia" not "anemia"; so does any other hyphenated compound ("white-coat
    hypertension", "T-cell lymphoma"), "acquired", "autoimmune" or "cell" ("autoimmune hepatitis" is not
    "hepatitis", "sickle cell anaemia" not "anaemia"), a possessive name ("Ludwig's angina" is not "angina"), a
    prefix joined to its first word or to the word before it ("pre-eclampsia", "post-treatment Lyme
    disease"; pre-, post-, pseudo-, para-, peri-, neo-) and a
    head that arises in it or sits on it ("adenocarcinoma arising in Barrett esophagus", "…
    complicating / superimposed on / in the setting of X"), and "malignant" / "benign" before a reference
    that is not a tumour ("malignant otitis externa", "malignant hyperthermia"; but "malignant melanoma");
  - after it, anything but a head that acts on it, carries it, only resembles it or names its kind ("-like",
    "-class", antagonist, inhibitor, receptor, antibody, transporter, precursor, an enzyme (-ase) …: "vitamin K
    antagonist" is not "vitamin K", "dopamine beta-hydroxylase deficiency" not "dopamine"), or a
    compound that makes it a cause ("-related peptide", "-binding globulin", "-associated nephropathy",
    "-secreting tumour", "-resistant rickets"), or a participle joined to it ("prolactin-inhibiting factor",
    "steroid-sparing agent"), or a disease named for its lack or excess ("vitamin K deficiency bleeding", "iron
    deficiency anaemia" for "iron"): it still names the reference as the thing a head noun is about ("right
    coronary artery occlusion" names the artery, "vitamin B12 deficiency" the vitamin), as questions
    are often answered;
  - inside it, at most two words, no "and" / comma between its words, and its words in order (with no
    "with", "plus", "versus", "after", … joining two things between them) or turned around a preposition ("deficiency of vitamin B12"): "anemia of chronic disease with folate
    deficiency and iron overload" does not name "iron deficiency anemia";
  - read from an adjective made from it (by the same endings) that qualifies another noun: "neutropenic sepsis"
    does not name "neutropenia", nor "hypoxic(-ischaemic) encephalopathy" "hypoxia" (`adjective_of`); a head that
    is the thing itself (episode, attack, state, reaction, …: "a hypoglycaemic episode") still names it.
A noun before it is not caught ("gallstone pancreatitis" names "pancreatitis"): rules cannot tell a
subtype from another disease without a vocabulary; but the reference named again right after it with such words before
it is a kind of it, another answer (`subtype`: "Answer: hydrocephalus — normal pressure hydrocephalus").
"""

from __future__ import annotations

import re

from medo1.verify.confusables import confused
from medo1.verify.tokens import OPPOSITE_OF, OPPOSITE_WORDS, normalize_tokens, stem

__all__ = ["MODIFIERS", "ZH_MODIFIERS", "another_entity", "extends", "other_name", "subtype"]

_ADJECTIVE = re.compile(r"(?:al|ar|ary|ic|ac|ous|oid|ive|ile|ory)$")
MODIFIERS = set("""
acute subacute hyperacute chronic mild moderate severe massive early late recurrent classic classical typical
likely probable presumed presumptive definite definitive true simple uncomplicated complicated isolated
diffuse focal generalized localized small large minor major advanced fulminant overt clinical
symptomatic asymptomatic idiopathic essential significant critical impending ongoing active new recent persistent
transient intermittent progressive final correct underlying actual real overall unifying specific particular
oral intravenous intramuscular topical inhaled sublingual rectal intranasal nebulized parenteral
enteral transdermal local systemic medical surgical conservative supportive emergent emergency urgent immediate
elective prompt aggressive empiric empirical prophylactic therapeutic diagnostic regular standard usual normal
continuous daily single additional appropriate initial total partial complete incomplete primary general
several potential possible causal causative responsible leading working best most more very
laparoscopic endoscopic percutaneous robotic open arthroscopic thoracoscopic bedside invasive minimally
hereditary familial genetic inherited sporadic exertional nonexertional
staphylococcal streptococcal pneumococcal meningococcal gonococcal bacterial viral fungal
tubal ampullary isthmic ileocolic ileoileal
""".split())
# Chinese qualifiers of course, severity and extent (the Chinese of MODIFIERS): 急性心肌梗死 names 心肌梗死
ZH_MODIFIERS = set("""
急性 慢性 亚急性 超急性 原发性 继发性 复发性 反复性 进行性 特发性 遗传性 家族性 先天性 获得性 症状性 无症状性 弥漫性
局灶性 全身性 系统性 局限性 持续性 一过性 间歇性 散发性 复杂性 单纯性 暴发性 双侧性 单侧性 多发性 典型性 急进性
""".split())
_ZH_BEFORE = re.compile(r"(?:无症状|[\u4e00-\u9fff]{1,2})性$|(?:先兆|假|类|抗|非)$")
# Chinese heads after the reference that make it the cause of another entity: 糖尿病肾病 is not 糖尿病
_ZH_AFTER = re.compile(r"^(?:(?:(?![伴并合及和与或的])[\u4e00-\u9fff]){0,4}病变|肾病|肾损害|足|酮症|"
                       r"(?:(?![伴并合及和与或的])[\u4e00-\u9fff]){0,2}综合征|性(?=[\u4e00-\u9fff])|样|相关|"
                       r"所致的?[\u4e00-\u9fff]|后(?=[\u4e00-\u9fff]))")  # 链球菌感染后肾小球肾炎 is not 链球菌感染
# -ing words before the reference that act (a verb) rather than name a kind: "suggesting MI", "a bleeding ulcer"
_VERB_ING = re.compile(r"(?:suggest|indicat|confirm|caus|explain|show|represent|includ|follow|dur|hav|be|mak|leav|mean|"
                       r"reflect|favou?r|support|point|consider|exclud|rul|requir|need|treat|giv|us|start|"
                       r"develop|present|mimick|resembl|match|fitt|bleed|exist|preexist|pre-exist|coexist|evolv|"
                       r"worsen|resolv|remain|underly|ongo|reach|produc|trigger|driv|sign|not|noth|someth|everyth|"
                       r"morn|even|accord|regard|concern|pend)ing$")
# A compound before the reference that names its cause or mechanism: "drug-induced", "complement-mediated"
_COMPOUND = re.compile(r"-(?:induced|mediated|associated|related|type)$")
# A second name joined to one of the reference's words by a hyphen or dash: "Sjögren–Larsson"
_JOINED_NAME = re.compile(r"\w[–—-]([A-Z][a-zà-ÿ]+)")
# References that name a tumour, which "malignant" / "benign" only qualify ("malignant melanoma")
_TUMOUR = re.compile(r"(?:oma|omas|tumou?rs?|cancers?|neoplasms?|neoplasia)\b|\bcarcinom", re.IGNORECASE)
# A prefix joined to the reference's first word, or to a word right before it, makes another entity:
# "pre-eclampsia", "post-polio", "post-treatment Lyme disease syndrome"
_JOINED_PREFIX = re.compile(r"(?<![\w-])\(?(?:pre|post|pseudo|para|peri|neo)-\)?[ \t]*(?:[A-Za-z]+[ \t]+)?$",
                            re.IGNORECASE)
# A head before the reference that arises in it or sits on it: "adenocarcinoma arising in Barrett esophagus"
_ARISES_IN = re.compile(r"\b[A-Za-z][\w'-]*,?\s+(?:arising\s+(?:in|from|within)|complicating|superimposed\s+on|"
                        r"presenting\s+(?:as|with)|manifesting\s+as|"
                        r"in\s+the\s+setting\s+of|on\s+(?:a\s+)?(?:background|top)\s+of|developing\s+(?:in|from)|"
                        r"transformed\s+from|progressing\s+from)\s+(?:(?:an?|the|pre-?existing|long-?standing|known|"
                        r"underlying)\s+)*$", re.IGNORECASE)
# Compounds before the reference that only qualify it: side, onset, duration, grade, severity
_QUALIFYING_COMPOUND = re.compile(r"(?:right|left|one|two|three|four|five|six|\d+|bi|tri|dual|triple|new|late|early|"
                                  r"adult|childhood|juvenile|long|short|high|"
                                  r"low|well|poorly|moderately|life|first|second|third|full|end|mid|non|anti|sub|self|"
                                  r"medium|small|large|multi|single|double)-|(?:relapsing|primary|secondary)-"
                                  r"(?:remitting|progressive)$|\w+-(?:sided|onset|standing|grade|term|"
                                  r"threatening|stage|limiting|dose|line)$")
# A possessive name before the reference makes an eponymous entity of it: "Ludwig's angina"
_EPONYM = re.compile(r"[A-Z][a-zà-ÿ]+(?:[-–][A-Z][a-zà-ÿ]+)?'s")
# names written without a possessive, and places, that make another entity of the word after them ("Ludwig angina",
# "German measles", "Japanese encephalitis")
_BARE_EPONYMS = {"ludwig", "vincent", "prinzmetal", "german", "spanish", "japanese", "mediterranean", "african",
                 "egyptian", "brazilian", "russian"}
_NOT_EPONYMS = {"it's", "that's", "what's", "there's", "here's", "he's", "she's", "let's", "who's", "today's",
                "one's", "everyone's", "nobody's"}
# Words that may follow a reference turned around a preposition and still close it: function words, and generic
# heads its words qualify ("stenosis of the mitral valve", "fracture of the scaphoid bone").
_NOT_ADJECTIVES = {"reveal", "mimic", "receive", "involve", "deal", "appeal", "heal", "conceal", "arrive", "derive",
                   "achieve", "perceive", "give", "have", "believe", "solve", "resolve", "prove", "improve", "move",
                   "remove", "approve", "observe", "serve", "deserve", "preserve", "reserve", "as", "similar", "our",
                   "their", "your", "clear", "unclear", "familiar", "particular", "peculiar", "regular", "popular",
                   "history", "memory", "theory", "category", "territory", "laboratory", "story", "trajectory"}
# Head nouns after the reference that make it what acts on it, not it: "vitamin K antagonist" is not "vitamin K";
# so does a participle joined to it ("prolactin-inhibiting factor", "steroid-sparing agent")
_ACTS_ON = re.compile(r"[\s–—-]*(?:like|antagonists?|agonists?|inhibitors?|blockers?|antibod(?:y|ies)|analogu?es?|"
                      r"mimetics?|mimics?|look-?alikes?|toxoids?|antitoxins?|boosters?|unawareness|carriage|vaccines?|vaccination|immunoglobulins?|"
                      r"antiser(?:um|a)|antivenoms?|variants?|spectrum|-type|receptors?|analys[ie]s|anticoagulants?|transporters?|carriers?|precursors?|metabolites?|resistance|-class|-family|"
                      r"\s+(?:[a-z]+-)?[a-z]*(?:kinase|ylase|tase|rase|nase|dase|pase|xase|synthase|lyase)|[\s–—-]*releasing|-[a-z]{3,}ing|\s+by\s+proxy|[\s-]+gene[\s-]related|"
                      r"[-–](?:related|associated|induced|mediated|dependent|secreting|producing|binding|resistant|sensitive|"
                      r"responsive|refractory|deficient|exacerbated|provoked|triggered|intolerant)[\s-]+"
                      r"(?!(?:is|are|was|were|and|or|in|to|with|of|for|as|by|that|which)\b)[a-z]+)\b|"
                      r"\s+(?:[a-z]+(?:ans|ens|osum|osa|osus|iforme|formis|aris|oides)|pernio)\b|"  # "… obliterans"
                      # the disease named for its lack or excess: "vitamin K deficiency bleeding" is not "vitamin K"
                      r"\s+(?:deficiency|excess|overload|toxicity)\s+(?!(?:is|are|was|were|and|or|in|to|with|of|for|as|by|"
                      r"that|which|due|from|because|since|so|but|at|on|after|before)\b)[a-z]{3,}\b",
                      re.IGNORECASE)


def subtype(lead: str) -> bool:
    """Whether the words before the reference, named again right after it, make a kind of it ("Answer: hydrocephalus —
    normal pressure hydrocephalus"): any word that is not a named qualifier ("syphilis — secondary syphilis" is
    still syphilis)."""
    if lead.count("(") > lead.count(")"):
        return False  # "thiamine — Pabrinex 2 pairs (≈500 mg thiamine)": the reference in an aside, a dose of it
    words = re.findall(r"[A-Za-z][\w'-]*", _RESTATING.sub("", lead))
    return 0 < len(words) <= 3 and any(w.lower() not in MODIFIERS and stem(w.lower()) not in OPPOSITE_OF for w in words)


_RESTATING = re.compile(r"^\W*(?:(?:i\.e\.?|namely|specifically|more\s+precisely|that\s+is|the|a|an|this\s+is|it\s+is)"
                        r"\W+)*", re.IGNORECASE)


def other_name(text: str, wanted: set[str]) -> bool:
    """A second name joined by a hyphen or dash to a word ("Sjögren–Larsson") that the reference does not have."""
    return any(not set(normalize_tokens(name, expand=False)) <= wanted for name in _JOINED_NAME.findall(text))


def another_entity(text: str, start: int, end: int, ref_words: set[str], reference: str, cjk: bool) -> bool:
    """The reference at text[start:end] is part of another entity: a longer one (`extends`) or a confusable name
    (`confusables.confused`)."""
    return (extends(text, start, end, ref_words, cjk=cjk) or confused(text, start, end, reference)
            or (not cjk and adjective_of(text, start, end, reference)))


# an adjective made from a noun: "neutropenic" (neutropenia), "hypoxic" (hypoxia), "diabetic" (diabetes)
_ADJECTIVE_FORM = re.compile(r"(?:ic|ous|al|ive|oid)$")
# heads that make the adjective mean the noun itself ("a hypoglycaemic episode" is hypoglycaemia), and words that
# are no head at all
_SAME_THING = frozenset("""episode episodes attack attacks event events state picture presentation process reaction
    reactions condition pattern phase features changes component form type origin cause""".split())
_NO_HEAD = frozenset("""and or but nor with without within in on of is are was were be been being due secondary from to
    at by as for which that who the a an not vs versus than so then if when while because since here there this
    it its he she they we you i""".split())


def adjective_of(text: str, start: int, end: int, reference: str) -> bool:
    """The reference read from an adjective made from it that qualifies another noun: "neutropenic sepsis" for
    "Neutropenia", "hypoxic(-ischaemic) encephalopathy" for "Hypoxia" (another entity), but not "a hypoglycaemic
    episode"."""
    said = re.findall(r"[A-Za-z]+", text[start:end])
    words = re.findall(r"[A-Za-z]+", reference)
    if not said or said[-1].lower() in {w.lower() for w in words} or not _ADJECTIVE_FORM.search(said[-1].lower()):
        return False
    head = re.match(r"(?:[ \t]+|[-–])([A-Za-z][\w-]*)", text[end:])  # "hypoxic encephalopathy", "hypoxic-ischaemic …"
    return bool(head) and head.group(1).lower() not in _SAME_THING | _NO_HEAD


def extends(text: str, start: int, end: int, ref_words: set[str], cjk: bool = False) -> bool:
    """Whether an adjective right before text[start:end] that is not a named qualifier makes it a longer,
    different entity ("portal hypertension" for "hypertension"; see the module docstring), a prefix joined to
    it makes another word ("pre-eclampsia" for "eclampsia"), the head before it names what arises in it
    ("adenocarcinoma arising in Barrett esophagus"), or a head after it makes it what acts on it or resembles
    it ("vitamin K antagonist", "insulin-like growth factor"). In Chinese: a "…性" word before it that is not a
    named qualifier, or a prefix (心源性哮喘 for 哮喘, 先兆子痫 for 子痫)."""
    if cjk:
        before = text[:start]
        if _ZH_AFTER.match(text[end:]):
            return True
        return bool(_ZH_BEFORE.search(before)) and not any(before[-k:] in ZH_MODIFIERS for k in (2, 3, 4))
    acting = _ACTS_ON.match(text[end:])
    if acting and not {stem(w) for w in normalize_tokens(acting.group(), expand=False)} & ref_words:
        return True  # what acts on it, unless the reference is that ("ACE inhibitor" names "ACE inhibitor")
    if _JOINED_PREFIX.search(text[:start]) or _ARISES_IN.search(text[:start]):
        return True
    head = text[:start]
    for _ in range(3):  # the word before, and past named qualifiers the words before it: "pulmonary arterial X"
        before = re.search(r"([A-Za-z][\w'-]*)[ \t]+(?:\([^()]*\)[ \t]*)?$", head)  # "atypical (…) HUS"
        if not before:
            return False
        word, head = before.group(1).lower(), head[:before.start()]
        if _another_kind(word, before.group(1), ref_words):
            return True
        if word not in MODIFIERS and stem(word) not in OPPOSITE_OF:
            return False
    return False


def _another_kind(word: str, raw: str, ref_words: set[str]) -> bool:
    """Whether a word before the reference (`raw`, `word` its lower case) makes it another entity (see `extends`)."""
    if word in ("malignant", "benign") and not _TUMOUR.search(" ".join(ref_words)):
        return True  # "malignant otitis externa", "malignant hyperthermia": another entity, unless a tumour's
    root = stem(word)
    if word in ("acquired", "autoimmune", "cell") and root not in ref_words:
        return True  # "acquired haemophilia A", "autoimmune hepatitis", "sickle cell anaemia": another disease
    if (_ADJECTIVE.search(word) and word not in MODIFIERS and word not in _NOT_ADJECTIVES
            and root not in ref_words and word not in OPPOSITE_WORDS and "-" not in word):
        return True  # ("constrictive pericarditis": not "constriction", a word of an opposite group)
    if (word.endswith("ing") and not _VERB_ING.match(word) and word not in MODIFIERS and root not in ref_words
            and not _QUALIFYING_COMPOUND.match(word)):
        return True  # "sclerosing cholangitis", "smouldering myeloma"; not "long-standing", "life-threatening"
    if _COMPOUND.search(word) and root not in ref_words:
        return True  # "drug-induced immune thrombocytopenia", "complement-mediated HUS"
    if (re.fullmatch(r"[a-z]+-[a-z]+", word) and not _QUALIFYING_COMPOUND.match(word)
            and not set(word.split("-")) & ref_words):
        return True  # "white-coat hypertension", "T-cell lymphoma"; not "right-sided", "long-standing"
    # a possessive name: "Ludwig's angina" is not "angina", "Hashimoto's thyroiditis" not "thyroiditis"
    return bool(_EPONYM.fullmatch(raw) and word not in _NOT_EPONYMS and stem(word[:-2]) not in ref_words
                or word in _BARE_EPONYMS and word not in ref_words)
