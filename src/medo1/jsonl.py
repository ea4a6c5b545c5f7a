"""JSONL in and out: records read with one-line errors, outputs appended so a kill loses nothing.

    read_jsonl("problems.jsonl", Problem)      # JSONL or a JSON array; `file:line: field: ...`
    read_jsonl("medmcqa.jsonl", MCQ)           # MedMCQA `cop`: 0- or 1-based, decided per file
    with StageOutput("traces.jsonl") as out:   # + traces.failed.jsonl; re-runs skip done ids
        out.write(trace) / out.fail(id, reason)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from medo1.errors import InputError, Medo1Error
from medo1.records import MCQ, MEDMCQA_OPTIONS, FieldProblem, Record, is_medmcqa, short_value

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- reading

R = TypeVar("R", bound=Record)


def _first_validation_problem(err: ValidationError) -> tuple[str, str]:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "(record)"
    msg = first.get("msg", "invalid")
    if first.get("type") == "meta_conflict":  # an extra column that contradicts the row's meta
        column = first["ctx"]["column"]
        field = f"{field}.{column}" if first.get("loc") else column
    elif first.get("type") == "missing":
        msg = "missing"
    elif "input" in first and first.get("type") != "extra_forbidden":
        msg = f"{msg}, got {short_value(first['input'])}"
    elif first.get("type") == "extra_forbidden":
        msg = "unknown field"
    return field, msg


def parse_record(model: type[R], raw: Any, path: str | os.PathLike, line: int, **options: Any) -> R:
    """Turn one decoded JSON value into a record, or raise a one-line InputError."""
    if not isinstance(raw, dict):
        raise InputError(path, line, "(record)", f"expected a JSON object, got {type(raw).__name__}")
    try:
        return model.from_raw(raw, **options)
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


def read_jsonl(path: str | os.PathLike, model: type[R], *, cop_base: int | None = None) -> list[R]:
    """Read every record of `path` (JSONL or a JSON array) as `model`; errors are one line.

    MCQ files: the base of MedMCQA `cop` is decided for the whole file (`medmcqa_cop_base`);
    `cop_base` (0 or 1) states it instead.
    """
    if not issubclass(model, MCQ):
        return [parse_record(model, raw, path, line) for line, raw in iter_json_values(path)]
    rows = list(iter_json_values(path))  # MCQs: the whole file decides the base of MedMCQA `cop`
    base = medmcqa_cop_base(rows, path, cop_base)
    return [parse_record(model, raw, path, line, cop_base=base) for line, raw in rows]


def medmcqa_cop_base(rows: Iterable[tuple[int, Any]], path: str | os.PathLike, stated: int | None = None, *,
                     recipe_key: str = "data.cop_base") -> int:
    """The base of MedMCQA `cop` in one file: 0 (the hub release) or 1 (the original release).

    Decided per file, never per row: a row with cop 0 means 0-based, a row whose cop
    equals its number of options (4 of 4) means 1-based; a file with both is an error.
    A file with neither (every cop in 1..3) is refused: guessing would shift every answer
    of a wrong guess by one option. `stated` (0 or 1) overrides the detection. A
    1-based file is reported with a warning naming it. Rows outside either range are an
    error naming their line. `recipe_key` is the recipe setting the refusal points to.
    """
    if stated not in (None, 0, 1):
        raise Medo1Error(f"cop_base must be 0 (hub release) or 1 (original release), got {stated!r}")
    zero = top = first = None
    count = 0
    for line, raw in rows:
        if not isinstance(raw, dict) or not is_medmcqa(raw):
            continue
        cop = raw.get("cop")
        if not isinstance(cop, int) or isinstance(cop, bool):
            continue  # reading the row names the problem
        n = sum(raw.get(key) is not None for key in MEDMCQA_OPTIONS)
        if not 0 <= cop <= n:
            raise InputError(path, line, "cop", f"{cop} is out of range for {n} options (0..{n - 1} counted "
                                                f"from 0, 1..{n} counted from 1)")
        count += 1
        first = line if first is None else first
        if cop == 0 and zero is None:
            zero = line
        if cop == n and top is None:
            top, top_n = line, n
    if stated is not None or not count:
        return 0 if stated is None else stated
    if zero is not None and top is not None:
        raise InputError(path, top, "cop", f"{top_n} of {top_n} options here but 0 on line {zero}: the file mixes "
                                           "0-based and 1-based answers")
    if top is not None:
        log.warning("%s: MedMCQA cop is read as 1-based (the original release): line %d has cop %d of %d options "
                    "and no row has cop 0; the hub release is 0-based", path, top, top_n, top_n)
        return 1
    if zero is None:
        raise InputError(path, first, "cop", f"no cop is 0 or the last option's number in the {count} MedMCQA rows, so "
                                             "it may count from 0 (hub release) or from 1 (original release); state "
                                             f"which: --cop-base 0 or --cop-base 1 (recipe: {recipe_key})")
    return 0


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

