"""Records that flow between stages, and JSONL reading/writing.

Every record has a stable `id`: a hash of its source content, so a re-run of a stage
recognises work it already did. Readers accept our own snake_case fields and the
public formats (MedQA, MedMCQA, medical-o1 problems, medical-o1 SFT); any problem in
the input is reported as one line: `file:line: field: what is wrong`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medo1.errors import InputError

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


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def from_raw(cls, raw: dict) -> "Record":
        """Build from our own fields; subclasses also accept public formats."""
        return cls.model_validate(raw)


# ---------------------------------------------------------------- helpers for converters


def _require(raw: dict, field: str, kind: type | tuple = str) -> Any:
    if field not in raw or raw[field] is None:
        raise FieldProblem(field, "missing")
    value = raw[field]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise FieldProblem(field, f"expected {want}, got {type(value).__name__} {_short(value)}")
    if isinstance(value, str) and not value.strip():
        raise FieldProblem(field, "empty")
    return value


def _short(value: Any) -> str:
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
        raise FieldProblem(field, f"expected an option letter, got {type(value).__name__} {_short(value)}")
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
    def from_raw(cls, raw: dict) -> "MCQ":
        question = _require(raw, "question")
        common = {
            "source_id": _optional_str(raw.get("source_id", raw.get("id"))),
            "split": raw.get("split"),
            "subject": raw.get("subject", raw.get("subject_name", raw.get("category"))),
        }
        if "opa" in raw or "cop" in raw:  # MedMCQA (HF shape: cop is 0-based)
            options = {}
            for i, key in enumerate(["opa", "opb", "opc", "opd", "ope"]):
                if key in raw and raw[key] is not None:
                    options[LETTERS[i]] = str(_require(raw, key, (str, int, float))).strip()
            if len(options) < 4:
                missing = [k for k in ("opa", "opb", "opc", "opd") if k not in raw]
                raise FieldProblem(missing[0] if missing else "opa", "missing")
            cop = _require(raw, "cop", int)
            if not 0 <= cop < len(options):
                raise FieldProblem("cop", f"{cop} is not a 0-based option index below {len(options)}")
            return cls(question=question, options=options, answer=LETTERS[cop], source="medmcqa", **common)
        options = _options_from(raw)
        if "answer_idx" in raw:  # MedQA
            answer = _letter("answer_idx", raw["answer_idx"], options)
            return cls(question=question, options=options, answer=answer, source="medqa", **common)
        if "answer_index" in raw:  # MMLU-Pro style
            index = _require(raw, "answer_index", int)
            if not 0 <= index < len(options):
                raise FieldProblem("answer_index", f"{index} is out of range for {len(options)} options")
            return cls(question=question, options=options, answer=LETTERS[index], source="mmlu_pro", **common)
        if "answer" not in raw:
            raise FieldProblem("answer", "missing (expected an option letter)")
        answer = _letter("answer", raw["answer"], options)
        known = set(cls.model_fields)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise FieldProblem(unknown[0], "unknown field")
        fields = {k: v for k, v in raw.items() if k in known}
        fields.update(question=question, options=options, answer=answer)
        return cls.model_validate(fields)


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
            return cls(
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
    meta: dict[str, Any] = Field(default_factory=dict)

    def successful_path(self) -> list[TraceStep]:
        """The steps of the last attempt, up to and including the correct one."""
        if not self.found or not self.steps:
            return []
        last = self.steps[-1].attempt
        return [s for s in self.steps if s.attempt == last]

    def trajectory(self) -> list[CoTStep]:
        """The successful reasoning path as the paper defines it: the initial CoT, then for each
        refinement `path[:-1] + reply` (the reply's leading Verification, which rejects the previous
        conclusion, replaces the path's last Verification). A refinement without that leading
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
            return cls(
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


# ---------------------------------------------------------------- reading

R = TypeVar("R", bound=Record)


def _first_validation_problem(err: ValidationError) -> tuple[str, str]:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "(record)"
    msg = first.get("msg", "invalid")
    if first.get("type") == "missing":
        msg = "missing"
    elif "input" in first and first.get("type") != "extra_forbidden":
        msg = f"{msg}, got {_short(first['input'])}"
    elif first.get("type") == "extra_forbidden":
        msg = "unknown field"
    return field, msg


def parse_record(model: type[R], raw: Any, path: str | os.PathLike, line: int) -> R:
    """Turn one decoded JSON value into a record, or raise a one-line InputError."""
    if not isinstance(raw, dict):
        raise InputError(path, line, "(record)", f"expected a JSON object, got {type(raw).__name__}")
    try:
        return model.from_raw(raw)
    except FieldProblem as err:
        raise InputError(path, line, err.field, err.problem) from None
    except ValidationError as err:
        field, msg = _first_validation_problem(err)
        raise InputError(path, line, field, msg) from None


def _decode_utf8(path: Path, line: int, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(path, line, "(encoding)", f"not valid UTF-8 (byte 0x{data[err.start]:02x} at column {err.start + 1})") from None


def iter_json_values(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) for each record of a .jsonl file or a .json array."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, 0, "(file)", "no such file")
    if path.is_dir():
        raise InputError(path, 0, "(file)", "is a directory, expected a .jsonl or .json file")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, 1, "(file)", "empty file, expected JSON records")
    if data.lstrip()[:1] == b"[":
        yield from _iter_json_array(path, data)
        return
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        text = _decode_utf8(path, number, raw_line).strip()
        if not text:
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(path, number, "(json)", f"{err.msg} at column {err.colno}") from None


def _iter_json_array(path: Path, data: bytes) -> Iterator[tuple[int, Any]]:
    """Walk a JSON array element by element so errors can name the element's line."""
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        _decode_utf8(path, number, raw_line)
    text = data.decode("utf-8")
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    def skip_ws(p: int) -> int:
        while p < len(text) and text[p] in " \t\r\n":
            p += 1
        return p

    pos = skip_ws(pos)
    if pos < len(text) and text[pos] == "]":
        raise InputError(path, line_of(pos), "(file)", "empty JSON array, expected records")
    while True:
        pos = skip_ws(pos)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise InputError(path, err.lineno, "(json)", f"{err.msg} at column {err.colno}") from None
        yield line_of(pos), value
        pos = skip_ws(end)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        if pos < len(text) and text[pos] == "]":
            return
        raise InputError(path, line_of(pos), "(json)", "expected ',' or ']' after an array element")


def read_jsonl(path: str | os.PathLike, model: type[R]) -> list[R]:
    """Read every record of `path` (JSONL or a JSON array) as `model`; errors are one line."""
    records = [parse_record(model, raw, path, line) for line, raw in iter_json_values(path)]
    return records


def read_many(paths: Iterable[str | os.PathLike], model: type[R]) -> list[R]:
    out: list[R] = []
    for path in paths:
        out.extend(read_jsonl(path, model))
    return out


# ---------------------------------------------------------------- writing (resumable)


def _repair_tail(path: Path) -> None:
    """Cut a half-written last line (a killed process) so appends start on a fresh line."""
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # Walk back to the last newline; everything after it is a partial record.
        block = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            idx = chunk.rfind(b"\n")
            if idx >= 0:
                f.truncate(start + idx + 1)
                return
            pos = start
        f.truncate(0)


def _ids_in(path: Path) -> set[str]:
    ids: set[str] = set()
    with open(path, "rb") as f:
        for raw_line in f:
            try:
                value = json.loads(raw_line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(value, dict) and isinstance(value.get("id"), str):
                ids.add(value["id"])
    return ids


class JsonlWriter:
    """Append-only JSONL output that survives kills: one flushed line per record.

    Opening an existing file repairs a half-written last line and remembers the ids
    already there, so a re-run can skip them (`id in writer`).
    """

    def __init__(self, path: str | os.PathLike, *, fsync: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            _repair_tail(self.path)
            self.ids = _ids_in(self.path)
        else:
            self.ids = set()
        self._fsync = fsync
        self._file = open(self.path, "a", encoding="utf-8")

    def __contains__(self, record_id: str) -> bool:
        return record_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def write(self, record: BaseModel | dict) -> None:
        value = record.model_dump(mode="json", exclude_none=False) if isinstance(record, BaseModel) else record
        self._file.write(json.dumps(value, ensure_ascii=False) + "\n")
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        if isinstance(value.get("id"), str):
            self.ids.add(value["id"])

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def failed_path(out: str | os.PathLike, kind: str = "failed") -> Path:
    """`problems.jsonl` -> `problems.failed.jsonl` (or `.rejected.jsonl`)."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.stem
    return out.with_name(f"{stem}.{kind}.jsonl")


class StageOutput:
    """A stage's outputs: the main file and the file of items that did not make it.

    Every input id ends up in exactly one of them. `done(id)` tells a re-run what to
    skip; `retry_failed=True` drops earlier failures so they are attempted again.
    """

    def __init__(self, out: str | os.PathLike, *, failed_kind: str = "failed", retry_failed: bool = False):
        self.ok = JsonlWriter(out)
        fpath = failed_path(out, failed_kind)
        if retry_failed and fpath.exists():
            fpath.unlink()
        self.failed = JsonlWriter(fpath)

    def done(self, record_id: str) -> bool:
        return record_id in self.ok or record_id in self.failed

    def write(self, record: BaseModel | dict) -> None:
        self.ok.write(record)

    def fail(self, record_id: str, reason: str, **extra: Any) -> None:
        self.failed.write({"id": record_id, "reason": reason, **extra})

    def close(self) -> None:
        self.ok.close()
        self.failed.close()

    def __enter__(self) -> "StageOutput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

