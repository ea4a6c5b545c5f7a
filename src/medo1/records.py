"""Records that flow between stages (MCQ, Problem, SearchTrace, SFTExample, EvalItem).

Every record has a stable `id`: a hash of its source content, so a re-run of a stage
recognises work it already did. `Record.from_raw` accepts our own snake_case fields and
the public formats (MedQA, MedMCQA, medical-o1 problems, medical-o1 SFT); a problem
with a row is raised as `FieldProblem(field, what is wrong)`, which the JSONL reader
(medo1.jsonl) turns into one line: `file:line: field: what is wrong`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def content_id(prefix: str, *parts: Any) -> str:
    """A short stable id: `prefix-` + 16 hex digits of the sha256 of the parts."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return f"{prefix}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


class FieldProblem(ValueError):
    """Raised by record converters; carries the name of the offending input field."""

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


# Validation context of a row read from a file: its extra columns go to `meta` (see Record).
ROW = {"extra_to_meta": True}


class Record(BaseModel):
    """A record read from or written to JSONL.

    Built in code (`Problem(question=..., answr=...)`), an unknown field is an error, so
    a typo never passes. Read from a file (`from_raw`), a row's extra columns are kept:
    a record with a `meta` field stores each unknown column under its own name in
    `meta` (lineage), at any depth (a trace's nested `problem` too). A column whose
    name is already a key of the row's own `meta` object must carry the same value;
    if it differs the row is an error (`difficulty: column and meta.difficulty
    differ`), so neither value is dropped silently. Records without `meta` still
    reject unknown fields.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def from_raw(cls, raw: dict) -> "Record":
        """Build from our own fields; subclasses also accept public formats."""
        return cls.model_validate(raw, context=ROW)

    @classmethod
    def _public(cls, raw: dict, read: set[str], **fields: Any):
        """A record from a public-format row: `fields` come from the columns in `read`; every other
        column is kept in `meta` under its own name, next to our own notes (`fields["meta"]`)."""
        notes = fields.pop("meta", {})
        return cls(**fields, meta={**{k: v for k, v in raw.items() if k not in read}, **notes})

    @model_validator(mode="before")
    @classmethod
    def _extra_columns_to_meta(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not (info.context or {}).get("extra_to_meta"):
            return data
        fields = cls.model_fields
        extra = {key: value for key, value in data.items() if key not in fields}
        if not extra or "meta" not in fields or not isinstance(data.get("meta", {}), dict):
            return data  # nothing to keep, nowhere to keep it, or a `meta` that validation rejects
        meta = dict(data.get("meta") or {})
        for key, value in extra.items():
            if key in meta and meta[key] != value:
                raise PydanticCustomError(
                    "meta_conflict", "column and meta.{column} differ ({value} vs {meta_value}); rename the column",
                    {"column": key, "value": short_value(value), "meta_value": short_value(meta[key])})
            meta[key] = value
        return {**{k: v for k, v in data.items() if k not in extra}, "meta": meta}


# ---------------------------------------------------------------- helpers for converters


def _require(raw: dict, field: str, kind: type | tuple = str) -> Any:
    if field not in raw or raw[field] is None:
        raise FieldProblem(field, "missing")
    value = raw[field]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise FieldProblem(field, f"expected {want}, got {type(value).__name__} {short_value(value)}")
    if isinstance(value, str) and not value.strip():
        raise FieldProblem(field, "empty")
    return value


def short_value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _options_from(raw: dict, field: str = "options") -> dict[str, str]:
    """Options as {letter: text}, from a dict (MedQA, ours) or a list (MMLU-Pro)."""
    value = raw.get(field)
    if value is None:
        raise FieldProblem(field, "missing")
    if isinstance(value, list):
        value = {LETTERS[i]: v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise FieldProblem(field, f"expected an object of letter -> text, got {type(value).__name__}")
    if len(value) < 2:
        raise FieldProblem(field, f"needs at least 2 options, got {len(value)}")
    options = {}
    for key, text in value.items():
        letter = str(key).strip().upper()
        if len(letter) != 1 or letter not in LETTERS:
            raise FieldProblem(f"{field}.{key}", "option keys must be single letters A-Z")
        if not isinstance(text, (str, int, float)) or isinstance(text, bool):
            raise FieldProblem(f"{field}.{key}", f"expected text, got {type(text).__name__}")
        options[letter] = str(text).strip()
    return dict(sorted(options.items()))


def _letter(field: str, value: Any, options: dict[str, str]) -> str:
    if not isinstance(value, str):
        raise FieldProblem(field, f"expected an option letter, got {type(value).__name__} {short_value(value)}")
    letter = value.strip().upper()
    if letter not in options:
        raise FieldProblem(field, f"{value!r} is not one of the options {''.join(options)}")
    return letter


# ---------------------------------------------------------------- records


class MCQ(Record):
    """A multiple-choice question: the raw material of the recipe."""

    id: str = ""
    question: str
    options: dict[str, str]
    answer: str  # the correct option letter
    source: str = "local"
    source_id: str | None = None
    split: str | None = None  # e.g. "train" / "eval"
    subject: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        if not self.id:
            self.id = content_id("mcq", self.question, self.options, self.answer)

    @property
    def answer_text(self) -> str:
        return self.options[self.answer]

    @classmethod
    def from_raw(cls, raw: dict, *, cop_base: int = 0) -> "MCQ":
        """One row: ours, MedQA, MedMCQA or MMLU-Pro fields. A public row's other columns go to `meta`.

        MedMCQA's `cop` counts from `cop_base`: 0 in the hub release, 1 in the original
        one. A row cannot tell which; `medmcqa_cop_base` decides it for a whole file.
        """
        question = _require(raw, "question")
        lineage, read = _lineage(raw)
        if is_medmcqa(raw):
            options = {}
            for i, key in enumerate(MEDMCQA_OPTIONS):
                if raw.get(key) is not None:
                    options[LETTERS[i]] = str(_require(raw, key, (str, int, float))).strip()
            if len(options) < 4:
                missing = [k for k in MEDMCQA_OPTIONS[:4] if k not in raw]
                raise FieldProblem(missing[0] if missing else "opa", "missing")
            cop = _require(raw, "cop", int)
            if not 0 <= cop - cop_base < len(options):
                raise FieldProblem("cop", f"{cop} is not a {cop_base}-based option index "
                                          f"({cop_base}..{cop_base + len(options) - 1})")
            return cls._public(raw, {"question", "cop", *MEDMCQA_OPTIONS, *read}, question=question,
                               options=options, answer=LETTERS[cop - cop_base], source="medmcqa",
                               **lineage, meta={"cop_base": cop_base})
        options = _options_from(raw)
        if "answer_idx" in raw:  # MedQA ("answer" is the correct option's text)
            answer = _letter("answer_idx", raw["answer_idx"], options)
            return cls._public(raw, {"question", "options", "answer_idx", "answer", *read}, question=question,
                               options=options, answer=answer, source="medqa", **lineage)
        if "answer_index" in raw:  # MMLU-Pro style ("answer" is the letter again)
            index = _require(raw, "answer_index", int)
            if not 0 <= index < len(options):
                raise FieldProblem("answer_index", f"{index} is out of range for {len(options)} options")
            return cls._public(raw, {"question", "options", "answer_index", "answer", *read}, question=question,
                               options=options, answer=LETTERS[index], source="mmlu_pro", **lineage)
        if "answer" not in raw:
            raise FieldProblem("answer", "missing (expected an option letter)")
        answer = _letter("answer", raw["answer"], options)
        return cls.model_validate({**raw, "question": question, "options": options, "answer": answer}, context=ROW)


MEDMCQA_OPTIONS = ("opa", "opb", "opc", "opd", "ope")


def is_medmcqa(raw: dict) -> bool:
    return "opa" in raw or "cop" in raw


def _lineage(raw: dict) -> tuple[dict[str, Any], set[str]]:
    """source_id / split / subject of a public row, and the columns they were read from."""
    out: dict[str, Any] = {}
    read: set[str] = set()
    for field, keys in (("source_id", ("source_id", "id")), ("split", ("split",)),
                        ("subject", ("subject", "subject_name", "category"))):
        for key in keys:
            if key in raw and raw[key] is None:
                read.add(key)
            elif key in raw and field not in out:
                out[field] = str(raw[key]) if field == "source_id" else raw[key]
                read.add(key)
    return out, read


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


class Problem(Record):
    """An open-ended verifiable problem `x` with its short ground-truth answer `y*`."""

    id: str = ""
    question: str
    answer: str
    source: str = "local"
    source_id: str | None = None  # id in the source dataset
    mcq_id: str | None = None  # the MCQ it was rewritten from
    options: dict[str, str] | None = None  # the original MCQ options (lineage)
    original_answer: str | None = None  # the original correct option letter
    meta: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        if not self.id:
            self.id = content_id("prob", self.question, self.answer)

    @classmethod
    def from_raw(cls, raw: dict) -> "Problem":
        if "Open-ended Verifiable Question" in raw:  # medical-o1 verifiable problems
            return cls._public(
                raw, {"Open-ended Verifiable Question", "Ground-True Answer", "id"},
                question=_require(raw, "Open-ended Verifiable Question"),
                answer=_require(raw, "Ground-True Answer"),
                source="medical-o1",
                source_id=_optional_str(raw.get("id")),
            )
        return super().from_raw(raw)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class CoTStep(BaseModel):
    """One step of a structured chain of thought (the teacher's JSON)."""

    action: str  # "Inner Thinking" | "Final Conclusion" | "Verification"
    title: str | None = None
    content: str


class TraceStep(BaseModel):
    """One teacher call in the search: which strategy, what it wrote, what the verifier said."""

    attempt: int  # 0-based restart number
    depth: int  # 0 = initial CoT, 1.. = refinements
    strategy: str  # init | explore_new_paths | backtracking | verification | correction | label_hint
    tag: str  # the prompt tag used for the call
    cot: list[CoTStep]
    conclusion: str
    verdict: bool | None = None
    usage: Usage = Field(default_factory=Usage)


class SearchTrace(Record):
    """The result of searching one problem: every step, and whether a correct path was found."""

    id: str  # the problem id
    question: str
    answer: str
    found: bool
    label_hint: bool = False  # the final round was told the reference answer
    steps: list[TraceStep] = Field(default_factory=list)
    seed: int | None = None
    problem: Problem | None = None  # lineage
    # the successful path as the paper defines it (`rebuild_trajectory`), written out with the trace so
    # a reader of traces.jsonl sees what synthesis rewrites; empty when nothing was found. Traces
    # written without it (earlier versions) get it rebuilt from `steps` when read.
    trajectory: list[CoTStep] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    def successful_path(self) -> list[TraceStep]:
        """The steps of the last attempt, up to and including the correct one."""
        if not self.found or not self.steps:
            return []
        last = self.steps[-1].attempt
        return [s for s in self.steps if s.attempt == last]

    @model_validator(mode="after")
    def _fill_trajectory(self) -> "SearchTrace":
        if not self.trajectory:
            self.trajectory = self.rebuild_trajectory()
        return self

    def rebuild_trajectory(self) -> list[CoTStep]:
        """The successful reasoning path as the paper defines it, from the replies in `steps`: the initial
        CoT, then for each refinement `path[:-1] + reply` (the reply's leading Verification, which rejects
        the previous conclusion, replaces the path's last Verification). A refinement without that leading
        Verification (traces written by earlier versions) is appended after the path, as it was then."""
        path: list[CoTStep] = []
        for step in self.successful_path():
            reply = step.cot
            replaces = path and reply and reply[0].action == "Verification" and path[-1].action == "Verification"
            path = path[:-1] + reply if replaces else path + reply
        return path


class SFTExample(Record):
    """A training example: question, reasoning, and the final response."""

    id: str = ""
    question: str
    complex_cot: str = ""  # empty for the "direct" variant
    response: str
    variant: str = "complex"  # complex | simple | direct | mcq
    problem_id: str | None = None
    answer: str | None = None  # reference answer, kept for evaluation and RL
    source: str = "local"
    meta: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        if not self.id:
            self.id = content_id("sft", self.question, self.complex_cot, self.response, self.variant)

    @classmethod
    def from_raw(cls, raw: dict) -> "SFTExample":
        if "Question" in raw or "Complex_CoT" in raw:  # medical-o1 SFT
            return cls._public(
                raw, {"Question", "Complex_CoT", "Response"},
                question=_require(raw, "Question"),
                complex_cot=_require(raw, "Complex_CoT"),
                response=_require(raw, "Response"),
                source="medical-o1",
            )
        return super().from_raw(raw)


class EvalItem(Record):
    """One benchmark question, in our canonical MCQ shape."""

    id: str = ""
    bench: str
    question: str
    options: dict[str, str]
    answer: str  # correct option letter
    context: str | None = None  # e.g. PubMedQA abstract
    source_id: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        if not self.id:
            self.id = content_id("eval", self.bench, self.question, self.options, self.answer)
