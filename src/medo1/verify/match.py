"""The `match` verifier: no model; the committed answer of a response against the reference.

Only what the response commits to is compared (see `medo1.verify.answer`): the final
response, its answer statement, the segments that assert rather than reject or weigh. The
comparison is tolerant where wording varies (case, punctuation, accents, plurals, adjective
and noun forms, abbreviations, British spellings) and exact where a small token changes the
answer: numbers, Roman numerals (II == 2, II != III), letters after type/group/hepatitis/…,
negating prefixes (non-, anti-), hypo- vs hyper-, and opposites (left/right, primary/secondary,
acute/chronic, …). A hedge (several candidates, a range for a single value) is never correct.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from medo1.verify.answer import committed_letters, committed_sentences, hedged, segments

_ARTICLES = {"a", "an", "the"}
# Words that carry no answer content; removed before comparing token bags.
_FILLER = _ARTICLES | {"of", "and", "or", "to", "in", "with", "for", "on", "by", "is", "are", "was", "be", "it",
                       "this", "that", "answer", "final", "most", "likely", "diagnosis", "correct"}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "μ": "micro"}
# Common clinical abbreviations, expanded on both sides before comparing.
ABBREVIATIONS = {
    "mi": "myocardial infarction", "copd": "chronic obstructive pulmonary disease", "dm": "diabetes mellitus",
    "htn": "hypertension", "tb": "tuberculosis", "uti": "urinary tract infection", "dvt": "deep vein thrombosis",
    "chf": "congestive heart failure", "ckd": "chronic kidney disease", "aki": "acute kidney injury",
    "ards": "acute respiratory distress syndrome", "sle": "systemic lupus erythematosus",
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
    "siadh": "syndrome of inappropriate antidiuretic hormone", "adh": "antidiuretic hormone",
    "acth": "adrenocorticotropic hormone", "tsh": "thyroid stimulating hormone", "itp": "immune thrombocytopenia",
    "ttp": "thrombotic thrombocytopenic purpura", "hus": "hemolytic uremic syndrome",
    "dic": "disseminated intravascular coagulation", "aids": "acquired immunodeficiency syndrome",
    "hbv": "hepatitis b virus", "hcv": "hepatitis c virus",
}
# The same drug or word by its British / international name.
SPELLINGS = {
    "paracetamol": "acetaminophen", "adrenaline": "epinephrine", "noradrenaline": "norepinephrine",
    "salbutamol": "albuterol", "frusemide": "furosemide", "lignocaine": "lidocaine", "pethidine": "meperidine",
    "glibenclamide": "glyburide", "ciclosporin": "cyclosporine", "cyclosporin": "cyclosporine",
    "rifampicin": "rifampin", "aciclovir": "acyclovir", "amoxycillin": "amoxicillin", "tumour": "tumor",
}
_BRITISH = [(re.compile(p), r) for p, r in [
    (r"^(h|an|isch|leuk|hyperk|hypok|hypercalc|hypocalc|hyperglyc|hypoglyc|sept|ur|bacter|vir|tox)aem", r"\1em"),
    (r"^haem", "hem"), (r"^oe(s|d|st)", r"e\1"), (r"^foet", "fet"), (r"paed", "ped"), (r"oea$", "ea"),
    (r"aetiolog", "etiolog"), (r"sulph", "sulf"),
]]
# A number or letter after these words names a subtype that must match exactly (type II, hepatitis B).
QUALIFIERS = {"type", "grade", "stage", "class", "phase", "factor", "nerve", "cn", "mobitz", "group", "hepatitis",
              "vitamin", "schedule", "level", "zone", "tier", "serotype", "subtype"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11,
          "xii": 12}
# Prefix words that reverse the answer ("non-small cell" vs "small cell").
_PREFIXES = {"non", "anti"}
# Groups of words of which an answer names one: naming another is a different answer.
_OPPOSITES_RAW = [
    {"left", "right", "bilateral"}, {"upper", "lower"}, {"anterior", "posterior"}, {"superior", "inferior"},
    {"medial", "lateral"}, {"proximal", "distal"}, {"primary", "secondary", "tertiary"},
    {"acute", "chronic", "subacute"}, {"systolic", "diastolic"}, {"central", "nephrogenic", "peripheral"},
    {"benign", "malignant"}, {"dilated", "hypertrophic", "restrictive"},
    {"myeloid", "lymphoid", "lymphoblastic", "lymphocytic"}, {"internal", "external"}, {"ascending", "descending"},
    {"afferent", "efferent"}, {"sensory", "motor"}, {"unilateral", "bilateral"}, {"positive", "negative"},
    {"increased", "decreased"}, {"high", "low"}, {"major", "minor"}, {"maternal", "paternal"},
    {"dominant", "recessive"}, {"congenital", "acquired"}, {"obstructive", "restrictive"}, {"total", "partial"},
    {"complete", "incomplete"}, {"direct", "indirect"}, {"conjugated", "unconjugated"},
]


def _stem(token: str) -> str:
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


_OPPOSITES = [{_stem(w) for w in group} for group in _OPPOSITES_RAW]
_FILLER |= {_stem(w) for w in _FILLER}  # "likely" is "likel" once stemmed


@dataclass(frozen=True)
class Token:
    word: str  # normalised
    start: int  # the source characters it came from
    end: int
    qualified: bool = False  # a number or letter right after a qualifier word ("type 2", "hepatitis B")


def tokens(text: str, *, expand: bool = True) -> list[Token]:
    """Normalised tokens with their source spans: lower case, no accents or punctuation, no
    articles or possessive 's, Roman numerals after a qualifier (or II, III, … anywhere) as
    numbers, abbreviations expanded, British names and spellings made American, stems."""
    out: list[Token] = []
    # numbers, CJK characters one by one, runs of other letters
    for m in re.finditer(r"\d+(?:\.\d+)?|[\u3400-\u9fff]|[^\W\d_\u3400-\u9fff]+", text or ""):
        raw, start, end = m.group(0), m.start(), m.end()
        if raw in ("s", "t") and start and text[start - 1] in "'\u2019":
            continue  # possessive 's, don't
        word = "".join(_GREEK.get(ch, ch) for ch in raw)
        word = "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch)).lower()
        after_qualifier = bool(out) and out[-1].word in QUALIFIERS
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
        word = SPELLINGS.get(word, word)
        for pattern, repl in _BRITISH:
            word = pattern.sub(repl, word)
        if word == "without":
            word = "non"  # "without contrast" = "non-contrast"
        if expand and word in ABBREVIATIONS:
            for w in ABBREVIATIONS[word].split():  # "hbv" -> hepatitis b virus, with "b" qualified
                qualified = len(w) == 1 and bool(out) and out[-1].word in QUALIFIERS
                out.append(Token(_stem(w), start, end, qualified=qualified))
        else:
            out.append(Token(_stem(word), start, end))
    return out


def normalize_tokens(text: str, *, expand: bool = True) -> list[str]:
    """The normalised words of a text (see `tokens`)."""
    return [t.word for t in tokens(text, expand=expand)]


_LETTER_RE = re.compile(r"^\s*[\(\[]?([A-J])[\)\]]?(?:\s*[\.\):]\s*|\s*$)(.*)$", re.DOTALL)
_LETTER_IN_TEXT = re.compile(
    r"(?:answer|option|choice)\s*(?:is|:)?\s*(?:option\s*)?[\(\[]?([A-J])[\)\]]?(?![A-Za-z])", re.IGNORECASE
)


def option_letter(text: str) -> str | None:
    """The option letter a short answer names: "C", "(C)", "C. Aspirin", "The answer is C"."""
    text = text.strip()
    match = _LETTER_RE.match(text)
    if match and (not match.group(2).strip() or text[:1] in "([" or text[1:2] in ".):"):
        return match.group(1)
    found = _LETTER_IN_TEXT.findall(text)
    return found[-1].upper() if found else None


def _strip_letter(text: str) -> str:
    """"C. Aspirin" / "(C) Aspirin" -> "Aspirin"; "C. difficile" and "B-cell" are left alone."""
    text = text.strip()
    match = _LETTER_RE.match(text)
    rest = match.group(2).strip() if match else ""
    if rest and (text[:1] in "([" or text[1:2] == ")" or rest[:1].isupper() or rest[:1].isdigit()):
        return rest
    return text


def token_f1(response: list[str], reference: list[str]) -> float:
    common = sum((Counter(response) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(response), common / len(reference)
    return 2 * precision * recall / (precision + recall)


@dataclass
class MatchVerifier:
    """No model: the reference must be what the response commits to.

    The committed sentences of the response are cut into segments (`medo1.verify.answer`).
    The response is correct when a segment that asserts its words (not rejected, negated,
    conceded or merely explanatory) names the reference — and no committed segment rejects
    the reference or hedges between it and others. A segment names the reference when
      - the reference's normalised words appear in it as a phrase, or
      - at least `min_containment` of the reference's content words appear in it, or
      - the token F1 of the content words is at least `min_f1`, or
      - it is the reference's initials ("MI" for "myocardial infarction"),
    and, around the words it matched, its numbers, qualified letters, negating prefixes,
    hypo-/hyper- and opposites (left/right, primary/secondary, …) agree with the reference.
    A reference that is an option letter ("C", "(C)") is compared with the one letter the
    response commits to.
    """

    min_containment: float = 1.0
    min_f1: float = 0.7
    name: str = "match"

    async def verify(self, response: str, reference: str) -> bool:
        return self.check(response, reference)

    def check(self, response: str, reference: str) -> bool:
        response, reference = response or "", reference or ""
        if len(reference.strip()) <= 4 and option_letter(reference):
            letters, hedge = committed_letters(response)
            return not hedge and set(letters) == {option_letter(reference)}
        ref = tokens(_strip_letter(reference))
        if not ref:
            return False
        named = False
        for sentence in committed_sentences(response):
            sentence = _strip_letter(sentence)
            for segment in segments(sentence):
                seg = tokens(segment.text)
                window = self._find(seg, ref, segment.text, reference)
                if window is None:
                    continue
                start, end = seg[window[0]].start, seg[window[1] - 1].end
                if segment.role in ("concession", "explanation"):
                    continue
                if not segment.asserts(start, end) or hedged(segment.text, start, end, reference):
                    return False  # rejected, negated, weighed or hedged: never correct
                named = True
        return named

    def _find(self, seg: list[Token], ref: list[Token], seg_text: str, reference: str) -> tuple[int, int] | None:
        """The token window of `seg` that names the reference, or None."""
        words, ref_words = [t.word for t in seg], [t.word for t in ref]
        if not words:
            return None
        n = len(ref_words)
        for i in range(len(words) - n + 1):
            if words[i:i + n] == ref_words and self._agrees(seg, i, i + n, ref):
                return i, i + n
        content_ref = [w for w in ref_words if w not in _FILLER] or ref_words
        wanted = Counter(content_ref)
        positions = [i for i, w in enumerate(words) if w in wanted]
        hits = sum((Counter(words[i] for i in positions) & wanted).values())
        if positions and hits / len(content_ref) >= self.min_containment:
            window = (min(positions), max(positions) + 1)
            if self._agrees(seg, *window, ref):
                return window
        content = [w for w in words if w not in _FILLER] or words
        if positions and token_f1(content, content_ref) >= self.min_f1 and self._agrees(seg, 0, len(seg), ref):
            return min(positions), max(positions) + 1
        if self._initials(seg_text, reference):
            return 0, len(seg)
        return None

    @staticmethod
    def _agrees(seg: list[Token], start: int, end: int, ref: list[Token]) -> bool:
        """Numbers, qualified letters, prefixes, hypo/hyper and opposites agree around seg[start:end]."""
        near = seg[max(0, start - 2): end + 2]
        core = {t.word for t in seg[max(0, start - 1): end]}
        ref_words = {t.word for t in ref}
        numbers = {t.word for t in ref if t.word[:1].isdigit()}
        if numbers and {t.word for t in near if t.word[:1].isdigit()} != numbers:
            return False
        letters = {t.word for t in ref if t.qualified and t.word.isalpha()}
        if letters and {t.word for t in near if t.qualified and t.word.isalpha()} != letters:
            return False
        if (core & _PREFIXES) != (ref_words & _PREFIXES):
            return False
        near_words = {t.word for t in near}
        for word in ref_words:
            for a, b in (("hypo", "hyper"), ("hyper", "hypo")):
                if word.startswith(a) and b + word[len(a):] in near_words:
                    return False
        for group in _OPPOSITES:  # "right" for "left"; "acute on chronic" for "chronic" is fine
            said, wanted = near_words & group, ref_words & group
            if said and wanted and not said & wanted:
                return False
        return True

    @staticmethod
    def _initials(sentence: str, reference: str) -> bool:
        words = [w for w in normalize_tokens(reference, expand=False) if w not in _FILLER]
        said = re.sub(r"[^a-z]", "", sentence.lower())
        return len(words) >= 2 and said == "".join(w[0] for w in words)
