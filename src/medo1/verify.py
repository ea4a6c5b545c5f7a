"""Verifiers: is a response's answer the reference answer? And the RL reward rule.

The reward rule (paper): 1.0 when the output is well formed (thinking + final response)
and verified correct, 0.1 when well formed but wrong, 0.0 when the format is missing.

Verifier specs (`load_verifier(spec)`):
    match               no model: normalised containment / token-F1, option letters (offline default)
    judge:<model spec>  an LLM judge that answers exactly True or False (the paper: GPT-4o)
    classifier:<path>   a Hugging Face sequence-classification checkpoint: P(correct) > threshold
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Protocol, runtime_checkable

from pydantic import Field, field_validator

from medo1.errors import Medo1Error, ModelError
from medo1.prompts import load_prompt, render
from medo1.records import Record
from medo1.thinking import parse_output

REWARD_CORRECT = 1.0
REWARD_WRONG = 0.1
REWARD_NO_FORMAT = 0.0


@runtime_checkable
class Verifier(Protocol):
    name: str

    async def verify(self, response: str, reference: str) -> bool: ...


async def reward(output: str, reference: str, verifier: Verifier) -> float:
    """1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format."""
    parsed = parse_output(output)
    if not parsed.well_formed:
        return REWARD_NO_FORMAT
    return REWARD_CORRECT if await verifier.verify(parsed.final, reference) else REWARD_WRONG


class VerifierError(ModelError):
    """The verifier could not reach a verdict (e.g. the judge never answered True or False)."""


# ---------------------------------------------------------------- match: no model

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


# ---------------------------------------------------------------- judge: an LLM says True or False

_VERDICT_DECORATION = " \t\r\n.!*`'\"“”‘’_#:()[]"


def parse_verdict(text: str) -> bool:
    """True / False from a judge reply; anything not clearly one of them is an error.

    Accepts the bare word with markdown or punctuation around it ("**True**", "False.").
    "not true", "True or False", "Yes", or a sentence are errors, never guesses.
    """
    word = (text or "").strip().strip(_VERDICT_DECORATION).strip().lower()
    if word == "true":
        return True
    if word == "false":
        return False
    shown = (text or "").strip()
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise VerifierError(f"judge reply is not exactly True or False: {shown!r}")


@dataclass
class JudgeVerifier:
    """An LLM judge; its verdict is parsed strictly and an unclear reply is asked again."""

    model: Any  # a ChatModel
    lang: str = "en"
    prompts: str | None = None
    retries: int = 2  # re-asks after an unclear verdict
    max_tokens: int = 8
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.name = self.name or f"judge:{self.model.name}"
        self._template = load_prompt("verify/judge", lang=self.lang, override=self.prompts)
        self._fix = load_prompt("verify/fix_verdict", lang=self.lang, override=self.prompts)

    def with_model(self, model: Any) -> "JudgeVerifier":
        return JudgeVerifier(model, self.lang, self.prompts, self.retries, self.max_tokens, self.name)

    async def verify(self, response: str, reference: str) -> bool:
        messages = [{"role": "user", "content": render(self._template, response=response, reference=reference)}]
        asked = messages
        error: VerifierError | None = None
        for _ in range(self.retries + 1):
            completion = await self.model.chat(asked, max_tokens=self.max_tokens, temperature=0.0, tag="verify")
            try:
                return parse_verdict(completion.text)
            except VerifierError as err:
                error = err
            asked = [*messages, {"role": "assistant", "content": completion.text},
                     {"role": "user", "content": self._fix}]
        raise VerifierError(f"{error} (after {self.retries + 1} tries)")


# ---------------------------------------------------------------- classifier: a trained verifier


class ClassifierVerifier:
    """A sequence-classification checkpoint scoring (reference, response) pairs.

    The pair is encoded as text = reference, text_pair = response. P(correct) is the
    sigmoid of a single logit, or the softmax of the label named correct/true/yes
    (else label 1). Concurrent `verify` calls are gathered into batches of up to
    `batch_size` and scored in a worker thread, so the event loop never blocks.
    """

    def __init__(self, path: str | os.PathLike, *, threshold: float = 0.5, batch_size: int = 16,
                 max_length: int = 512, device: str | None = None):
        self.path, self.threshold, self.batch_size, self.max_length = str(path), threshold, batch_size, max_length
        self.name = f"classifier:{self.path}"
        if not os.path.isdir(self.path):
            raise Medo1Error(f"classifier verifier: {self.path} is not a checkpoint directory")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForSequenceClassification.from_pretrained(self.path)
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        labels = {str(v).lower(): int(k) for k, v in (self.model.config.id2label or {}).items()}
        self.correct_index = next((labels[n] for n in ("correct", "true", "yes") if n in labels), 1)
        self._pending: list[tuple[str, str, asyncio.Future]] = []
        self._batcher: asyncio.Task | None = None
        self.batches: list[int] = []  # sizes of the batches scored (for inspection)

    def probabilities(self, pairs: list[tuple[str, str]]) -> list[float]:
        """P(correct) for (response, reference) pairs, in batches; synchronous."""
        import torch

        out: list[float] = []
        for i in range(0, len(pairs), self.batch_size):
            chunk = pairs[i:i + self.batch_size]
            self.batches.append(len(chunk))
            encoded = self.tokenizer(
                [ref for _, ref in chunk], [resp for resp, _ in chunk], padding=True, truncation=True,
                max_length=self.max_length, return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                logits = self.model(**encoded).logits.float()
            if logits.shape[-1] == 1:
                probs = torch.sigmoid(logits[:, 0])
            else:
                probs = torch.softmax(logits, dim=-1)[:, self.correct_index]
            out.extend(probs.tolist())
        return out

    async def probability(self, response: str, reference: str) -> float:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((response, reference, future))
        if self._batcher is None or self._batcher.done():
            self._batcher = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the callers of this tick queue their pairs
        while self._pending:
            batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
            try:
                probs = await asyncio.to_thread(self.probabilities, [(r, ref) for r, ref, _ in batch])
            except Exception as err:  # noqa: BLE001 - handed to every waiting caller
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(VerifierError(f"classifier verifier failed: {err}"))
                continue
            for (*_, future), p in zip(batch, probs):
                if not future.done():
                    future.set_result(p)

    async def verify(self, response: str, reference: str) -> bool:
        return await self.probability(response, reference) > self.threshold


# ---------------------------------------------------------------- specs


def load_verifier(
    spec: str = "match",
    *,
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    lang: str = "en",
    prompts: str | os.PathLike | None = None,
    threshold: float = 0.5,
) -> Verifier:
    """A Verifier from its spec: `match`, `judge:<model spec>` or `classifier:<path>`."""
    spec = (spec or "match").strip()
    kind, _, rest = spec.partition(":")
    if kind == "match" and not rest:
        return MatchVerifier()
    if kind == "judge" and rest:
        from medo1.llm import load_model

        return JudgeVerifier(load_model(rest, concurrency=concurrency, cache=cache), lang=lang,
                             prompts=str(prompts) if prompts else None)
    if kind == "classifier" and rest:
        return ClassifierVerifier(rest, threshold=threshold)
    raise Medo1Error(f"verifier spec {spec!r}: expected 'match', 'judge:<model spec>' or 'classifier:<path>'")


def verifier_model(verifier: Verifier) -> Any | None:
    """The ChatModel a verifier calls, if any (for usage accounting and the call pool)."""
    return verifier.model if isinstance(verifier, JudgeVerifier) else None


# ---------------------------------------------------------------- verifier-eval: agreement with people


_TRUE = {"true", "1", "yes", "correct", "y", "t"}
_FALSE = {"false", "0", "no", "incorrect", "wrong", "n", "f"}


class LabeledVerdict(Record):
    """A human judgement: is `response` a correct answer given `reference`?"""

    id: str | None = None
    response: str
    reference: str
    label: bool
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("expected true/false (or 1/0, correct/incorrect)")


@dataclass
class VerifierReport:
    verifier: str
    n: int = 0
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    errors: int = 0  # items where the verifier reached no verdict
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        judged = self.tp + self.fp + self.tn + self.fn
        return (self.tp + self.tn) / judged if judged else math.nan

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else math.nan

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(accuracy=self.accuracy, precision=self.precision, recall=self.recall, f1=self.f1)
        return out


async def evaluate_verifier(verifier: Verifier, items: Iterable[LabeledVerdict], *,
                            concurrency: int = 32) -> VerifierReport:
    """Agreement of a verifier with human labels: accuracy, precision, recall, confusion matrix."""
    items = list(items)
    report = VerifierReport(verifier=verifier.name, n=len(items))
    slots = asyncio.Semaphore(concurrency)

    async def judge(index: int, item: LabeledVerdict) -> None:
        async with slots:
            try:
                said = await verifier.verify(item.response, item.reference)
            except ModelError as err:
                report.errors += 1
                report.mistakes.append({"index": index, "id": item.id, "label": item.label, "error": str(err)})
                return
        if said and item.label:
            report.tp += 1
        elif said:
            report.fp += 1
        elif item.label:
            report.fn += 1
        else:
            report.tn += 1
        if said != item.label:
            report.mistakes.append({"index": index, "id": item.id, "label": item.label, "verdict": said,
                                    "response": item.response, "reference": item.reference})

    await asyncio.gather(*(judge(i, item) for i, item in enumerate(items)))
    report.mistakes.sort(key=lambda m: m["index"])
    return report


def evaluate_verifier_file(
    labeled: str | os.PathLike,
    spec: str = "match",
    *,
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    threshold: float = 0.5,
    lang: str = "en",
    prompts: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> VerifierReport:
    """`medo1 verifier-eval`: read labelled verdicts, run the verifier, optionally write the report as JSON."""
    import json
    from pathlib import Path

    from medo1.jsonl import read_jsonl

    items = read_jsonl(labeled, LabeledVerdict)
    verifier = load_verifier(spec, concurrency=concurrency, cache=cache, lang=lang, prompts=prompts,
                             threshold=threshold)

    async def main() -> VerifierReport:
        try:
            return await evaluate_verifier(verifier, items, concurrency=concurrency)
        finally:
            model = verifier_model(verifier)
            if model is not None:
                await model.aclose()

    report = asyncio.run(main())
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    return report
