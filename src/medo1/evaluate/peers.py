"""The benchmarks peers report beside the paper's, read in their public shapes.

| name           | source                                          | fields read                                   |
|----------------|-------------------------------------------------|-----------------------------------------------|
| medxpertqa     | TsinghuaC3I/MedXpertQA, config Text, test       | id, question, options{A-J}, label (10 options)|
|                | (2,450 questions)                               | (also the MedXpertQA repo's eval input:       |
|                |                                                 | options [{letter, content}], label [letter])  |
| medbullets_op4 | HanjieChen/ChallengeClinicalQA medbullets_op4.csv| question, opa-opd, answer_idx (308 questions)|
|                | (hub copy: mkieffer/Medbullets, split op4_test) | or options{A-D}, answer_idx / answer letter   |
| medbullets_op5 | ... medbullets_op5.csv (op5_test)                | the same with ope / E: 5 options              |
| huatuo_eval    | evaluation/data/eval_data.json of               | {source: [{question, options{..}, answer_idx, |
|                | FreedomIntelligence/HuatuoGPT-o1 (GitHub, not   | answer}]}; each source is a subset (a column) |
|                | the hub): 8,381 questions, five sources         |                                               |

MedXpertQA's `question` ends with its options again ("Answer Choices: (A) ... (J) ..."); that tail
is cut, since the prompt lists the options itself. The official eval file holds MedQA_USLME_test
(1,273), MedMCQA_validation (4,183), PubMedQA_test (1,000), MMLU-Pro_Medical_test (1,535: MMLU-Pro's
health 818 + biology 717, the paper's two MMLU-Pro columns) and GPQA_Medical_test (390: GPQA main's 78
genetics + molecular biology questions, five times); it names no subdomain, so it cannot give the
paper's two GPQA columns apart, and medo1's `gpqa_med` (Idavidrein/gpqa, split per Subdomain, five
shuffled runs) does. A list instead of an object is one source, "normal", as the official script reads it.
Every row's other columns are kept in the item's `meta`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from medo1.errors import InputError
from medo1.records import LETTERS, EvalItem, FieldProblem, short_value

OFFICIAL_SOURCES = ("MedQA_USLME_test", "MedMCQA_validation", "PubMedQA_test", "MMLU-Pro_Medical_test",
                    "GPQA_Medical_test")
OFFICIAL_FILE = "evaluation/data/eval_data.json of github.com/FreedomIntelligence/HuatuoGPT-o1"


def text_field(raw: dict, key: str) -> str:
    """A row's text field, stripped: missing, empty or not text is a FieldProblem (a `file:line: key` error)."""
    value = raw.get(key)
    if value is None:
        raise FieldProblem(key, "missing")
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise FieldProblem(key, f"expected text, got {type(value).__name__}")
    if not str(value).strip():
        raise FieldProblem(key, "empty")
    return str(value).strip()


def _options(raw: dict, field: str = "options") -> dict[str, str]:
    """{letter: text} from a dict, a list of texts or a list of {letter, content}; empty or null options dropped."""
    value = raw.get(field)
    if isinstance(value, str):  # some hub copies store the options as a JSON string
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise FieldProblem(field, f"expected an object of letter -> text, got text {short_value(value)}") from None
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            try:
                value = {v["letter"]: v["content"] for v in value}
            except KeyError as err:
                raise FieldProblem(field, f"each option needs 'letter' and 'content' (missing {err})") from None
        else:
            value = {LETTERS[i]: v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise FieldProblem(field, "missing" if value is None else
                           f"expected an object of letter -> text, got {type(value).__name__}")
    options = {}
    for key, text in value.items():
        letter = str(key).strip().upper()
        if len(letter) != 1 or letter not in LETTERS:
            raise FieldProblem(f"{field}.{key}", "option keys must be single letters A-Z")
        if text is None or (isinstance(text, str) and not text.strip()):
            continue
        if not isinstance(text, (str, int, float)) or isinstance(text, bool):
            raise FieldProblem(f"{field}.{key}", f"expected text, got {type(text).__name__}")
        options[letter] = str(text).strip()
    return dict(sorted(options.items()))


def _answer(raw: dict, options: dict[str, str], *fields: str) -> tuple[str, str]:
    """(field read, letter) from the first of `fields` present: an option letter (or a one-item list of one),
    or the exact text of an option."""
    for field in fields:
        value = raw.get(field)
        if value is None:
            continue
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str):
            letter = value.strip().upper()
            if letter in options:
                return field, letter
            by_text = [k for k, text in options.items() if text == value.strip()]
            if len(by_text) == 1:
                return field, by_text[0]
        raise FieldProblem(field, f"{short_value(value)} is not one of the options {''.join(options)}")
    raise FieldProblem(fields[0], "missing")


def _meta(raw: dict, read: set[str]) -> dict[str, Any]:
    """The row's other columns; a CSV row's unnamed empty trailing cells are no column."""
    meta = {k: v for k, v in raw.items() if k not in read and k is not None}
    if any(str(v).strip() for v in raw.get(None) or []):
        meta["unnamed_columns"] = raw[None]
    return meta


def _source_id(raw: dict, *keys: str) -> str | None:
    return next((str(raw[k]) for k in keys if raw.get(k) is not None), None)


_ANSWER_CHOICES = re.compile(r"\s*Answer Choices:\s*\(A\).*\Z", re.S)


def medxpertqa(raw: dict, cop_base: int = 0) -> EvalItem:
    options = _options(raw)
    if len(options) < 2:
        raise FieldProblem("options", f"needs at least 2 options, got {len(options)}")
    read, answer = _answer(raw, options, "label", "answer_idx")
    question = _ANSWER_CHOICES.sub("", text_field(raw, "question"))
    if not question:
        raise FieldProblem("question", "empty before its 'Answer Choices'")
    return EvalItem(bench="medxpertqa", question=question, options=options, answer=answer,
                    source_id=_source_id(raw, "id"), meta=_meta(raw, {"id", "question", "options", read}))


def medbullets(n_options: int) -> Callable[[dict, int], EvalItem]:
    """The MedBullets converter for its `n_options`-option release (op4: 4, op5: 5)."""
    bench = f"medbullets_op{n_options}"

    def convert(raw: dict, cop_base: int = 0) -> EvalItem:
        if "opa" in raw:  # the original CSV: opa..ope
            columns = [c for c in ("opa", "opb", "opc", "opd", "ope") if c in raw]
            options = _options({"options": {LETTERS[i]: raw[c] for i, c in enumerate(columns)}})
            read = {"question", *columns}
        else:
            options, read = _options(raw), {"question", "options"}
        if len(options) != n_options:
            raise FieldProblem("options", f"{bench} has {n_options} options per question, this row {len(options)}")
        field, answer = _answer(raw, options, "answer_idx", "answer")
        read |= {field} | ({"answer"} if field == "answer_idx" else set())  # `answer` repeats the right option's text
        return EvalItem(bench=bench, question=text_field(raw, "question"), options=options, answer=answer,
                        source_id=_source_id(raw, "id", "idx", "link"), meta=_meta(raw, read))

    return convert


def huatuo_eval(raw: dict, cop_base: int = 0) -> EvalItem:
    """A row of the official eval file; its source (the object key) becomes the subset."""
    options = _options(raw)
    if len(options) < 2:
        raise FieldProblem("options", f"needs at least 2 options, got {len(options)}")
    _, answer = _answer(raw, options, "answer_idx")
    source = str(raw.get("source") or "normal")
    meta = _meta(raw, {"question", "options", "answer_idx", "answer", "source"})
    return EvalItem(bench="huatuo_eval", question=text_field(raw, "question"), options=options, answer=answer,
                    source_id=_source_id(raw, "id"), meta={**meta, "subset": source})


# ---------------------------------------------------------------- the official file: {source: [rows]}


def iter_sources(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """(line, row with its `source`) for each row of a JSON object of arrays, as the official eval file is."""
    decoder = json.JSONDecoder()
    counted = [0, 1]  # a position, and the line it is on: lines are counted forward only once

    def line_of(pos: int) -> int:
        counted[1] += text.count("\n", counted[0], pos)
        counted[0] = pos
        return counted[1]

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    def expect(pos: int, chars: str, what: str) -> int:
        pos = skip(pos)
        if pos >= len(text) or text[pos] not in chars:
            raise InputError(path, line_of(pos), "(json)", f"expected {what}")
        return pos

    def decode(pos: int) -> tuple[Any, int]:
        try:
            return decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise InputError(path, err.lineno, "(json)", f"{err.msg} at column {err.colno}") from None

    pos = expect(0, "{", "a JSON object") + 1
    if text[skip(pos):skip(pos) + 1] == "}":
        raise InputError(path, line_of(pos), "(file)", "empty JSON object, expected {source: [questions]}")
    while True:
        pos = expect(pos, '"', "a source name in quotes")
        source, pos = decode(pos)
        pos = expect(pos, ":", "':' after a source name") + 1
        pos = expect(pos, "[", f"a list of questions for source {source!r}") + 1
        while text[skip(pos):skip(pos) + 1] != "]":
            pos = skip(pos)
            row, end = decode(pos)
            line = line_of(pos)
            yield line, {**row, "source": source} if isinstance(row, dict) else row
            pos = expect(end, ",]", "',' or ']' after a question")
            pos += text[pos] == ","
        pos = expect(skip(pos) + 1, ",}", "',' or '}' after a source's list")
        if text[pos] == "}":
            return
        pos += 1
