"""The `match` verifier: no model, the normalised reference against the response."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_ARTICLES = {"a", "an", "the"}
# Words that carry no answer content; removed before comparing token bags.
_FILLER = _ARTICLES | {"of", "and", "or", "to", "in", "with", "for", "on", "by", "is", "are", "was", "be", "it",
                       "this", "that", "answer", "final", "most", "likely", "diagnosis", "correct"}
_NEGATIONS = {"not", "no", "never", "without", "nor", "unlikely", "exclude", "excluded", "excludes", "rather",
              "instead", "neither", "absence", "absent", "isnt", "arent", "doesnt", "dont", "cannot", "cant"}
_AFTER_NEGATIONS = {"excluded", "unlikely", "ruled"}
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
}
_LETTER_RE = re.compile(r"^\s*[\(\[]?([A-J])[\)\]]?(?:\s*[\.\):]\s*|\s*$)(.*)$", re.DOTALL)
_LETTER_IN_TEXT = re.compile(
    r"(?:answer|option|choice)\s*(?:is|:)?\s*(?:option\s*)?[\(\[]?([A-J])[\)\]]?(?![A-Za-z])", re.IGNORECASE
)


def _stem(token: str) -> str:
    """A tiny plural stemmer, applied the same way to both sides."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("ches", "shes", "sses", "xes", "zes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def normalize_tokens(text: str, *, expand: bool = True) -> list[str]:
    """Lower case, no accents or punctuation, no articles, plurals stemmed, abbreviations expanded."""
    text = "".join(_GREEK.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['\u2019](?=t\b)", "", text)  # don't -> dont
    tokens = re.findall(r"\d+(?:\.\d+)?|[a-z]+", text)
    out: list[str] = []
    for token in tokens:
        if token in _ARTICLES:
            continue
        if expand and token in ABBREVIATIONS:
            out.extend(ABBREVIATIONS[token].split())
        else:
            out.append(_stem(token))
    return [_stem(t) for t in out]


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


def _negated(tokens: list[str], start: int, end: int) -> bool:
    """A negation among the 2 content words before tokens[start:end] ("no evidence of X"), or a
    dismissal right after it ("X was ruled out")."""
    before = [t for t in tokens[max(0, start - 5): start] if t not in _FILLER or t in _NEGATIONS][-2:]
    after = tokens[end: end + 2]
    return any(t in _NEGATIONS for t in before) or any(t in _AFTER_NEGATIONS for t in after)


def token_f1(response: list[str], reference: list[str]) -> float:
    common = sum((Counter(response) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(response), common / len(reference)
    return 2 * precision * recall / (precision + recall)


# Sentence breaks, but not the point of a decimal number ("2.5 mg").
_SENTENCE_BREAK = re.compile(r"(?<!\d)[.;!?](?!\d)|\n+")


@dataclass
class MatchVerifier:
    """No model: the normalised reference must appear in the response (or overlap enough).

    Each sentence of the response is compared with the reference; it is correct when, in
    one sentence whose matching words are not negated ("not X", "no X", "X was ruled out"):
      - the reference words appear as a contiguous phrase, or
      - at least `min_containment` of the reference's content words appear, or
      - the token F1 of the content words is at least `min_f1`, or
      - the sentence is the reference's initials ("MI" for "myocardial infarction").
    A reference that is an option letter ("C", "(C)") is compared by letter.
    """

    min_containment: float = 1.0
    min_f1: float = 0.7
    name: str = "match"

    async def verify(self, response: str, reference: str) -> bool:
        return self.check(response, reference)

    def check(self, response: str, reference: str) -> bool:
        response, reference = response or "", reference or ""
        if len(reference.strip()) <= 4 and option_letter(reference):
            return option_letter(response) == option_letter(reference)
        ref = normalize_tokens(_strip_letter(reference))
        if not ref:
            return False
        response = _strip_letter(response)
        if normalize_tokens(response) == ref:
            return True
        return any(self._sentence_matches(s, ref, reference) for s in _SENTENCE_BREAK.split(response) if s.strip())

    def _sentence_matches(self, sentence: str, ref: list[str], reference: str) -> bool:
        resp = normalize_tokens(sentence)
        if not resp:
            return False
        n = len(ref)
        for start in range(len(resp) - n + 1):
            if resp[start:start + n] == ref and not _negated(resp, start, start + n):
                return True
        content_ref = [t for t in ref if t not in _FILLER] or ref
        wanted = set(content_ref)
        if any(_negated(resp, i, i + 1) for i, t in enumerate(resp) if t in wanted):
            return False
        content_resp = [t for t in resp if t not in _FILLER] or resp
        hits = sum((Counter(content_resp) & Counter(content_ref)).values())
        if hits / len(content_ref) >= self.min_containment:
            return True
        if token_f1(content_resp, content_ref) >= self.min_f1:
            return True
        return self._initials(sentence, reference)

    @staticmethod
    def _initials(sentence: str, reference: str) -> bool:
        words = [w for w in normalize_tokens(reference, expand=False) if w not in _FILLER]
        said = re.sub(r"[^a-z]", "", sentence.lower())
        return len(words) >= 2 and said == "".join(w[0] for w in words)
