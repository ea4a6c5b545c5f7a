"""Normalised tokens for the `match` verifier: the same answer in other words reads the same.

Lower case, no accents or punctuation, no articles or possessive 's; Greek letters spelled out;
Roman numerals after a qualifier (or II, III, … anywhere) as numbers; common clinical
abbreviations expanded; British names and spellings made American; plurals and adjective /
noun endings stemmed alike (myocardial = myocardium). Chinese characters are tokens one by one.
Words that must not be confused are kept apart: numbers, letters after a qualifier (type B,
hepatitis C) or right after a name (haemophilia A, protein C; a capital, or a letter that ends the phrase),
negating prefixes (non-, anti-) and the groups of `OPPOSITES`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

_ARTICLES = {"a", "an", "the"}
# Words that carry no answer content; removed before comparing token bags.
FILLER = _ARTICLES | {"of", "and", "or", "to", "in", "with", "for", "on", "by", "is", "are", "was", "be", "it",
                       "this", "that", "answer", "final", "most", "likely", "diagnosis", "correct"}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "μ": "micro"}
# Common clinical abbreviations, expanded on both sides before comparing.
ABBREVIATIONS = {
    "mi": "myocardial infarction", "stemi": "st elevation myocardial infarction",
    "nstemi": "non st elevation myocardial infarction", "copd": "chronic obstructive pulmonary disease",
    "dm": "diabetes mellitus",
    "htn": "hypertension", "tb": "tuberculosis", "uti": "urinary tract infection", "dvt": "deep vein thrombosis",
    "chf": "congestive heart failure", "ckd": "chronic kidney disease", "aki": "acute kidney injury",
    "ards": "acute respiratory distress syndrome", "hcm": "hypertrophic cardiomyopathy",
    "scfe": "slipped capital femoral epiphysis", "sle": "systemic lupus erythematosus",
    "ra": "rheumatoid arthritis", "ms": "multiple sclerosis", "gerd": "gastroesophageal reflux disease",
    "ibd": "inflammatory bowel disease", "cad": "coronary artery disease", "dka": "diabetic ketoacidosis",
    "pe": "pulmonary embolism", "af": "atrial fibrillation", "afib": "atrial fibrillation",
    "hiv": "human immunodeficiency virus", "ecg": "electrocardiogram", "ekg": "electrocardiogram",
    "mri": "magnetic resonance imaging", "ct": "computed tomography", "ace": "angiotensin converting enzyme",
    "nsaid": "nonsteroidal anti inflammatory drug", "ssri": "selective serotonin reuptake inhibitor",
    "ppi": "proton pump inhibitor", "bph": "benign prostatic hyperplasia", "sah": "subarachnoid hemorrhage",
    "tia": "transient ischemic attack", "cva": "cerebrovascular accident", "hcc": "hepatocellular carcinoma",
    "aml": "acute myeloid leukemia", "cml": "chronic myeloid leukemia", "cll": "chronic lymphocytic leukemia",
    "nsclc": "non small cell lung cancer", "sclc": "small cell lung cancer",
    "esrd": "end stage renal disease", "av": "atrioventricular", "iv": "intravenous", "im": "intramuscular",
    "gi": "gastrointestinal", "hsv": "herpes simplex virus",
    "ebv": "epstein barr virus", "cmv": "cytomegalovirus", "rsv": "respiratory syncytial virus",
    "vsd": "ventricular septal defect", "asd": "atrial septal defect", "pda": "patent ductus arteriosus",
    "siadh": "syndrome of inappropriate antidiuretic hormone secretion", "adh": "antidiuretic hormone",
    "acth": "adrenocorticotropic hormone", "tsh": "thyroid stimulating hormone", "itp": "immune thrombocytopenia",
    "ttp": "thrombotic thrombocytopenic purpura", "hus": "hemolytic uremic syndrome",
    "dic": "disseminated intravascular coagulation", "aids": "acquired immunodeficiency syndrome",
    "hbv": "hepatitis b virus", "hcv": "hepatitis c virus", "strep": "streptococcus", "staph": "staphylococcus",
    "g6pd": "glucose 6 phosphate dehydrogenase", "lad": "left anterior descending artery",
    "rca": "right coronary artery", "lcx": "left circumflex artery",
}
# The same drug or word by its British / international name.
SPELLINGS = {
    "paracetamol": "acetaminophen", "adrenaline": "epinephrine", "noradrenaline": "norepinephrine",
    "salbutamol": "albuterol", "frusemide": "furosemide", "lignocaine": "lidocaine", "pethidine": "meperidine",
    "glibenclamide": "glyburide", "ciclosporin": "cyclosporine", "cyclosporin": "cyclosporine",
    "rifampicin": "rifampin", "aciclovir": "acyclovir", "amoxycillin": "amoxicillin", "tumour": "tumor",
    "suxamethonium": "succinylcholine",
}
_BRITISH = [(re.compile(p), r) for p, r in [
    # -aemia anywhere (anaemia, hyperkalaemia, hyponatraemia, septicaemia), haem-, oe- (oedema, oesophagus, oestrogen)
    (r"(?<=[^\Wae])aem", "em"), (r"^oe(s|d|st)", r"e\1"), (r"^foet", "fet"), (r"paed", "ped"),
    (r"oea$", "ea"), (r"aetiolog", "etiolog"), (r"sulph", "sulf"), (r"^coel", "cel"), (r"^caes", "ces"),
    (r"^faec", "fec"), (r"anaesth", "anesth"), (r"gynaec", "gynec"), (r"amoeb", "ameb"),
    (r"^phaeo", "pheo"), (r"^manoeuvre", "maneuver"), (r"^praevia$", "previa"),
    (r"(?<=\w)tumour", "tumor"), (r"(?<=\w)oedem", "edem"),  # pseudotumour cerebri, papilloedema, lymphoedema
    (r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations)$", r"iz\1"),  # necrotising, immunisation, hospitalised
]]
# A number or letter after these words names a subtype that must match exactly (type II, hepatitis B).
QUALIFIERS = {"type", "grade", "stage", "class", "phase", "factor", "nerve", "cn", "mobitz", "group", "hepatitis",
              "vitamin", "schedule", "level", "zone", "tier", "serotype", "subtype"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11,
          "xii": 12}
_WORD_NEXT = re.compile(r"\s+\w")  # a word follows: an article, not a letter ("a drug" vs "haemophilia a.")
# Prefix words that reverse the answer ("non-small cell" vs "small cell").
PREFIXES = {"non", "anti"}
# Groups of words of which an answer names one: naming another is a different answer. A group is
# a set of words, or a list of classes of synonyms (elevated = increased, but not decreased).
_OPPOSITES_RAW = [
    {"left", "right", "bilateral"}, {"upper", "lower"}, {"anterior", "posterior"}, {"superior", "inferior"},
    {"medial", "lateral"}, {"proximal", "distal"}, {"primary", "secondary", "tertiary"},
    {"acute", "chronic", "subacute"}, {"systolic", "diastolic"}, {"central", "nephrogenic", "peripheral"},
    {"central", "branch"},
    {"benign", "malignant"}, {"dilated", "hypertrophic", "restrictive"},
    {"myeloid", "lymphoid", "lymphoblastic", "lymphocytic"}, {"internal", "external"}, {"ascending", "descending"},
    {"afferent", "efferent"}, {"sensory", "motor"}, {"unilateral", "bilateral"}, {"positive", "negative"},
    [{"increased", "elevated", "raised", "high", "higher", "increase", "elevation", "rise", "hyperactive"},
     {"decreased", "reduced", "low", "lowered", "depressed", "diminished", "decrease", "reduction", "fall",
      "hypoactive"}],
    [{"above", "over"}, {"below", "under", "beneath", "underneath"}], {"major", "minor"}, {"maternal", "paternal"},
    {"dominant", "recessive"}, {"congenital", "acquired"}, {"obstructive", "restrictive"}, {"total", "partial"},
    {"complete", "incomplete"}, {"direct", "indirect"}, {"conjugated", "unconjugated"}, {"agonist", "antagonist"},
    [{"inhibitor", "inhibition", "inhibits", "blocker", "blockade"}, {"inducer", "induction", "activator", "activation",
                                                                          "stimulation", "agonism"}],
    {"flexion", "extension"}, {"abduction", "adduction"}, {"pronation", "supination"}, {"inversion", "eversion"},
    {"ipsilateral", "contralateral"}, {"sympathetic", "parasympathetic"}, {"excitatory", "inhibitory"},
    {"vasodilation", "vasoconstriction"}, {"dilation", "constriction"}, {"acidosis", "alkalosis"},
    {"intracellular", "extracellular"}, {"homozygous", "heterozygous"}, [{"arterial", "artery"}, {"venous", "vein"}],
    {"before", "after"}, {"inspiration", "expiration"}, {"early", "late"}, {"deep", "superficial"}, {"limited", "diffuse"},
]


def stem(token: str) -> str:
    """Plurals and adjective/noun endings, the same way on both sides (myocardial = myocardium)."""
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith(("ches", "shes", "sses", "xes", "zes")):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    for ending, root in (("ularly", "ular"), ("ously", "ous"), ("ically", "ic"), ("ally", "al")):
        if token.endswith(ending):
            token = token[:-len(ending)] + root
            break
    for suffix in ("ious", "ium", "ial", "ism", "ive", "ion", "ous", "ic", "al", "um", "us", "ia", "ae", "ed", "y"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 5:
            return token[:-len(suffix)]
    return token


# stemmed word -> {(group, class)}: two words of one group and different classes contradict each other
OPPOSITE_OF: dict[str, set[tuple[int, int]]] = {}
OPPOSITE_WORDS: set[str] = set()  # the words themselves ("constriction", not "constrictive", which shares its stem)
for _g, _group in enumerate(_OPPOSITES_RAW):
    for _c, _words in enumerate(_group if isinstance(_group, list) else [{w} for w in sorted(_group)]):
        for _w in _words:
            OPPOSITE_OF.setdefault(stem(_w), set()).add((_g, _c))
            OPPOSITE_WORDS.add(_w)


def contradicts(said: set[str], wanted: set[str]) -> bool:
    """Whether words said name another member of a group than the words wanted ("right" for "left",
    "decreased" for "elevated"); "acute on chronic" for "chronic" does not (one of them agrees)."""
    for group in {g for w in wanted for g, _ in OPPOSITE_OF.get(w, ())}:
        want = {c for w in wanted for g, c in OPPOSITE_OF.get(w, ()) if g == group}
        have = {c for w in said for g, c in OPPOSITE_OF.get(w, ()) if g == group}
        if have and not have & want:
            return True
    return False


FILLER |= {stem(w) for w in FILLER}  # "likely" is "likel" once stemmed


@dataclass(frozen=True)
class Token:
    word: str  # normalised
    start: int  # the source characters it came from
    end: int
    qualified: bool = False  # a number or letter right after a qualifier word ("type 2", "hepatitis B")


# numbers, CJK characters one by one, words (G6PD is one word)
_TOKEN = re.compile(r"(?i:g6pd)(?![^\W_])|\d+(?:\.\d+)?|[\u3400-\u9fff]|[^\W\d_\u3400-\u9fff]+")


@lru_cache(maxsize=4096)
def flipped(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The words with one of them turned to its opposite: hypo- for hyper- ("hypokalaemia" for "hyperkalaemia"), or
    another member of its group of opposites ("distal" for "proximal", "decreased" for "elevated") that the words do
    not hold already ("acute on chronic" turns neither)."""
    out = []
    for i, word in enumerate(words):
        for a, b in (("hypo", "hyper"), ("hyper", "hypo")):
            if word.startswith(a):
                out.append((*words[:i], b + word[len(a):], *words[i + 1:]))
        for group, member in OPPOSITE_OF.get(word, ()):
            out += [(*words[:i], other, *words[i + 1:]) for other, places in OPPOSITE_OF.items()
                    if other not in words and any(g == group and c != member for g, c in places)]
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=8192)
def tokens(text: str, *, expand: bool = True) -> tuple[Token, ...]:
    """Normalised tokens with their source spans: lower case, no accents or punctuation, no
    articles or possessive 's, Roman numerals after a qualifier (or II, III, … anywhere) as
    numbers, abbreviations expanded, British names and spellings made American, stems."""
    out: list[Token] = []
    joined = None  # "pre-" / "post-" read with the word after it: "pre-eclampsia" = "preeclampsia"
    # numbers, CJK characters one by one, runs of other letters
    for m in _TOKEN.finditer(text or ""):
        raw, start, end = m.group(0), m.start(), m.end()
        if raw in ("s", "t") and start and text[start - 1] in "'\u2019":
            continue  # possessive 's, don't
        if raw.lower() in ("pre", "post") and re.match(r"-[A-Za-z]", text[end:end + 2]):
            joined = (raw, start)
            continue
        if joined and start == joined[1] + len(joined[0]) + 1:
            raw, start = joined[0] + raw, joined[1]
        joined = None
        word = _fold(raw)
        after_qualifier = bool(out) and (out[-1].word in QUALIFIERS or (
            # a capital letter right after a name: "haemophilia A", "protein C", "influenza B" (not the article "A")
            len(raw) == 1 and (raw.isupper() or not _WORD_NEXT.match(text, end))  # "haemophilia a." too
            and out[-1].end == start - 1 and text[start - 1] == " " and text[out[-1].start].isalpha()
            and not is_cjk(out[-1].word)))
        if word in _ROMAN and (after_qualifier and (raw.isupper() or len(word) > 1)
                               or raw.isupper() and len(raw) > 1 and raw != "IV"):
            out.append(Token(str(_ROMAN[word]), start, end, qualified=after_qualifier))
            continue
        if word.isdigit() or re.fullmatch(r"\d+\.\d+", word) or len(word) == 1:
            if word in _ARTICLES and not after_qualifier:
                continue
            out.append(Token(word, start, end, qualified=after_qualifier))
            continue
        if word in _ARTICLES:
            continue
        if expand and word in ABBREVIATIONS:
            for w in ABBREVIATIONS[word].split():  # "hbv" -> hepatitis b virus, with "b" qualified
                qualified = len(w) == 1 and bool(out) and out[-1].word in QUALIFIERS
                out.append(Token(stem(w), start, end, qualified=qualified))
        else:
            out.append(Token(_word(word), start, end))
    return tuple(out)


@lru_cache(maxsize=65536)
def _fold(raw: str) -> str:
    """Lower case, Greek letters spelled out, accents removed."""
    word = "".join(_GREEK.get(ch, ch) for ch in raw)
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=65536)
def _word(word: str) -> str:
    """A lower-case word, American-spelled and stemmed ("without" reads as "non": non-contrast)."""
    word = SPELLINGS.get(word, word)
    for pattern, repl in _BRITISH:
        word = pattern.sub(repl, word)
    return "non" if word == "without" else stem(word)


def is_cjk(word: str) -> bool:
    return "\u3400" <= word[:1] <= "\u9fff"


def initials(text: str, reference: str) -> bool:
    """Whether a text is the reference's initials and nothing more ("MI", "MIs" for "myocardial infarction")."""
    words = [w for w in normalize_tokens(reference, expand=False) if w not in FILLER]
    said = re.sub(r"[^a-z]", "", text.lower())
    said = said[:-1] if said.endswith("s") and len(said) == len(words) + 1 else said  # "MIs"
    return len(words) >= 2 and said == "".join(w[0] for w in words)


def normalize_tokens(text: str, *, expand: bool = True) -> list[str]:
    """The normalised words of a text (see `tokens`)."""
    return [t.word for t in tokens(text, expand=expand)]


def token_f1(response: list[str], reference: list[str]) -> float:
    common = sum((Counter(response) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(response), common / len(reference)
    return 2 * precision * recall / (precision + recall)


def smallest_window(words: list[str], wanted: Counter) -> tuple[int, int] | None:
    """The shortest run of `words` that holds every wanted word as often as wanted, or None."""
    best: tuple[int, int] | None = None
    need, have, left = sum(wanted.values()), Counter(), 0
    covered = 0
    for right, word in enumerate(words):
        if word in wanted:
            have[word] += 1
            if have[word] <= wanted[word]:
                covered += 1
        while covered == need:
            if best is None or right + 1 - left < best[1] - best[0]:
                best = (left, right + 1)
            gone = words[left]
            if gone in wanted:
                have[gone] -= 1
                if have[gone] < wanted[gone]:
                    covered -= 1
            left += 1
    return best
