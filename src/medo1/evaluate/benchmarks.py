"""The benchmarks of the paper's Table 1, and how to load each one as `EvalItem`s.

    load_benchmark("medqa")                          # from the Hugging Face hub
    load_benchmark("medqa", data="medqa_test.jsonl")  # a local file of the same shape
    load_benchmark("my_bank.jsonl")                   # any local MCQ file (our format)

| name          | source (hub id, config, split)                | fields read                                    |
|---------------|-----------------------------------------------|------------------------------------------------|
| medqa         | GBaker/MedQA-USMLE-4-options, test            | question, options{A-D}, answer_idx             |
| medmcqa       | openlifescienceai/medmcqa, validation         | question, opa-opd, cop (0-based*), subject_name|
| pubmedqa      | qiaojin/PubMedQA pqa_labeled, train (all 1000  | question, context{contexts,labels},            |
|               | expert-labelled questions; the paper's 500-   | final_decision -> options yes / no / maybe     |
|               | question test split can be given with --data) |                                                |
| mmlu_pro_med  | TIGER-Lab/MMLU-Pro, test; health + biology    | question, options[<=10], answer_index, category|
| gpqa_med      | Idavidrein/gpqa gpqa_main, train (gated);     | Question, Correct Answer, Incorrect Answer 1-3,|
|               | Genetics + Molecular Biology; 5 runs          | Subdomain; options shuffled per run            |
| sample        | the bundled sample bank, eval split           | our MCQ format                                 |
| medxpertqa, medbullets_op4, medbullets_op5, huatuo_eval (the official eval_data.json): medo1.evaluate.peers |

The paper's tracks: MMLU-Pro's `health` and `biology` categories (818 + 717 questions, the official
file's MMLU-Pro_Medical_test), GPQA main's `Genetics` and `Molecular Biology` subdomains (78
questions; the paper averages 5 runs, here each with its own option order).

Local files may be .jsonl, .json (an array, or an object of arrays as the official eval file is:
each row gets its key as `source`), .parquet or .csv. A row that
does not fit its benchmark's shape is an error naming the file, row and field; a row's
other columns are kept in the item's `meta`.

* The hub release of MedMCQA counts `cop` from 0, the original release from 1. In a
local file the base is decided for the whole file as `medo1 curate` decides it
(`medmcqa_cop_base`: a 1-based file is reported, a file that cannot tell is refused)
unless it is stated: `load_benchmark(..., cop_base=1)`, `medo1 eval --cop-base 1`,
recipe `eval.cop_base`.
"""

from __future__ import annotations

import csv
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from medo1.errors import InputError, Medo1Error
from medo1.evaluate import peers
from medo1.evaluate.peers import text_field
from medo1.jsonl import iter_json_values, medmcqa_cop_base
from medo1.records import LETTERS, MCQ, EvalItem, FieldProblem

# (row, base of MedMCQA `cop` in the row's file) -> item; None: the row is not part of the benchmark.
# The base matters only to the converters that read rows with MCQ.from_raw.
Converter = Callable[[dict, int], "EvalItem | None"]
HUB_COP_BASE = 0  # openlifescienceai/medmcqa counts `cop` from 0


@dataclass(frozen=True)
class Benchmark:
    name: str  # registry key, used in file names: "medqa"
    title: str  # column title in tables: "MedQA"
    convert: Converter
    hf_id: str | None = None
    hf_config: str | None = None
    split: str | None = None
    runs: int = 1  # default number of runs averaged (GPQA: 5, each with its own option order)
    shuffle_options: bool = False  # permute the options per run with a fixed seed
    subsets: tuple[str, ...] = ()  # reported as separate columns (item.meta["subset"])
    gated: bool = False  # the hub dataset needs accepted terms and a token
    home: str | None = None  # where a benchmark that is not on the hub comes from


# ---------------------------------------------------------------- converters (one per public shape)


def _item(bench: str, mcq: MCQ, *, subset: str | None = None) -> EvalItem:
    """An eval item from an MCQ: its meta (the row's other columns, lineage) plus subject and subset."""
    meta = dict(mcq.meta)
    if mcq.subject:
        meta["subject"] = mcq.subject
    if subset:
        meta["subset"] = subset
    return EvalItem(bench=bench, question=mcq.question, options=mcq.options, answer=mcq.answer,
                    source_id=mcq.source_id, meta=meta)


def _from_mcq(bench: str, raw: dict, cop_base: int, *, subset: str | None = None) -> EvalItem:
    return _item(bench, MCQ.from_raw(raw, cop_base=cop_base), subset=subset)


def medqa(raw: dict, cop_base: int = HUB_COP_BASE) -> EvalItem:
    if "answer_idx" not in raw:
        raise FieldProblem("answer_idx", "missing (MedQA shape: question, options{A-D}, answer_idx)")
    return _from_mcq("medqa", raw, cop_base)


def medmcqa(raw: dict, cop_base: int = HUB_COP_BASE) -> EvalItem:
    if "cop" not in raw:
        raise FieldProblem("cop", "missing (MedMCQA shape: question, opa-opd, cop)")
    return _from_mcq("medmcqa", raw, cop_base)


PUBMEDQA_OPTIONS = {"A": "yes", "B": "no", "C": "maybe"}


def pubmedqa(raw: dict, cop_base: int = HUB_COP_BASE) -> EvalItem:
    question = text_field(raw, "question")
    decision = text_field(raw, "final_decision").lower()
    answers = {text: letter for letter, text in PUBMEDQA_OPTIONS.items()}
    if decision not in answers:
        raise FieldProblem("final_decision", f"{decision!r} is not one of yes, no, maybe")
    context = raw.get("context")
    if isinstance(context, dict):  # {"contexts": [...], "labels": ["BACKGROUND", ...], ...}
        passages = context.get("contexts")
        if not isinstance(passages, list) or not all(isinstance(p, str) for p in passages):
            raise FieldProblem("context.contexts", "expected a list of texts")
        labels = context.get("labels") or []
        if len(labels) == len(passages):
            passages = [f"{label.strip().capitalize()}: {p}" if label else p for label, p in zip(labels, passages)]
        context = "\n".join(passages)
    elif isinstance(context, list):
        context = "\n".join(map(str, context))
    elif context is not None and not isinstance(context, str):
        raise FieldProblem("context", f"expected an object, a list or text, got {type(context).__name__}")
    source_id = raw.get("pubid", raw.get("id"))
    return EvalItem(bench="pubmedqa", question=question, options=dict(PUBMEDQA_OPTIONS), answer=answers[decision],
                    context=context or None, source_id=None if source_id is None else str(source_id))


MMLU_PRO_CATEGORIES = ("health", "biology")


def mmlu_pro_med(raw: dict, cop_base: int = HUB_COP_BASE) -> EvalItem | None:
    category = text_field(raw, "category").lower()
    if category not in MMLU_PRO_CATEGORIES:
        return None
    if "answer_index" not in raw:
        raise FieldProblem("answer_index", "missing (MMLU-Pro shape: question, options[], answer_index)")
    options = raw.get("options")
    if isinstance(options, list):  # some MMLU-Pro rows pad their option list with "N/A"
        raw = {**raw, "options": [o for o in options if str(o).strip() not in ("", "N/A")]}
    item = _from_mcq("mmlu_pro_med", {k: v for k, v in raw.items() if k != "id"}, cop_base, subset=category)
    source_id = raw.get("question_id", raw.get("id"))
    return item.model_copy(update={"source_id": None if source_id is None else str(source_id)})


GPQA_SUBDOMAINS = {"genetics": "genetics", "molecular biology": "molecular biology"}


def gpqa_med(raw: dict, cop_base: int = HUB_COP_BASE) -> EvalItem | None:
    subdomain = text_field(raw, "Subdomain").lower()
    if subdomain not in GPQA_SUBDOMAINS:
        return None
    correct = text_field(raw, "Correct Answer")
    wrong = [text_field(raw, f"Incorrect Answer {i}") for i in (1, 2, 3)]
    # Canonical order: correct first. The runner shuffles per run (`shuffled`), so this order is never shown.
    options = {LETTERS[i]: text for i, text in enumerate([correct, *wrong])}
    source_id = raw.get("Record ID", raw.get("id"))
    return EvalItem(bench="gpqa_med", question=text_field(raw, "Question"), options=options, answer="A",
                    source_id=None if source_id is None else str(source_id),
                    meta={"subset": GPQA_SUBDOMAINS[subdomain]})


def local_mcq(bench: str) -> Converter:
    """Our MCQ format (and the MedQA / MedMCQA / MMLU-Pro shapes MCQ.from_raw reads)."""
    return lambda raw, cop_base=HUB_COP_BASE: _from_mcq(bench, raw, cop_base)


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in [
        Benchmark("medqa", "MedQA", medqa, "GBaker/MedQA-USMLE-4-options", None, "test"),
        Benchmark("medmcqa", "MedMCQA", medmcqa, "openlifescienceai/medmcqa", None, "validation"),
        Benchmark("pubmedqa", "PubMedQA", pubmedqa, "qiaojin/PubMedQA", "pqa_labeled", "train"),
        Benchmark("mmlu_pro_med", "MMLU-Pro", mmlu_pro_med, "TIGER-Lab/MMLU-Pro", None, "test",
                  subsets=MMLU_PRO_CATEGORIES),
        Benchmark("gpqa_med", "GPQA", gpqa_med, "Idavidrein/gpqa", "gpqa_main", "train", runs=5,
                  shuffle_options=True, subsets=tuple(GPQA_SUBDOMAINS.values()), gated=True),
        Benchmark("sample", "Sample", local_mcq("sample")),
        Benchmark("medxpertqa", "MedXpertQA", peers.medxpertqa, "TsinghuaC3I/MedXpertQA", "Text", "test"),
        Benchmark("medbullets_op4", "MedBullets-4", peers.medbullets(4), "mkieffer/Medbullets", None, "op4_test"),
        Benchmark("medbullets_op5", "MedBullets-5", peers.medbullets(5), "mkieffer/Medbullets", None, "op5_test"),
        Benchmark("huatuo_eval", "HuatuoGPT-o1 eval", peers.huatuo_eval, subsets=peers.OFFICIAL_SOURCES,
                  home=peers.OFFICIAL_FILE),
    ]
}
PAPER_BENCHES = ("medqa", "medmcqa", "pubmedqa", "mmlu_pro_med", "gpqa_med")
LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")


def get_benchmark(name: str) -> Benchmark:
    """A registered benchmark, or a local MCQ file given by its path (named after the file)."""
    if name in BENCHMARKS:
        return BENCHMARKS[name]
    path = Path(name)
    if path.suffix.lower() in LOCAL_SUFFIXES:
        if not path.is_file():
            raise Medo1Error(f"{path}: no such benchmark file")
        bench = path.stem.split(".")[0]
        return Benchmark(bench, bench, local_mcq(bench))
    raise Medo1Error(
        f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}, or the path of a local "
        f"MCQ file ({', '.join(LOCAL_SUFFIXES)})"
    )


# ---------------------------------------------------------------- reading rows


def _rows_from_file(path: Path) -> Iterator[tuple[int, Any]]:
    """(row number, raw value): the line for JSONL / JSON, the 1-based row for parquet and CSV."""
    suffix = path.suffix.lower()
    if suffix == ".json" and path.is_file() and path.read_bytes().lstrip()[:1] == b"{":
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise InputError(path, 0, "(file)", f"not UTF-8 text ({err.reason} at byte {err.start})") from None
        yield from peers.iter_sources(path, text)  # {source: [rows]}, the official eval file's shape
        return
    if suffix in (".jsonl", ".json"):
        yield from iter_json_values(path)
        return
    if not path.is_file():
        raise InputError(path, 0, "(file)", "no such file")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:  # pyarrow raises several types for a bad file
            raise InputError(path, 0, "(file)", f"not a readable parquet file ({err})") from None
        yield from enumerate(table.to_pylist(), start=1)
        return
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            for number, row in enumerate(csv.DictReader(f), start=2):  # line 1 is the header
                yield number, row
        return
    raise InputError(path, 0, "(file)", f"unsupported file type {suffix!r}; use {', '.join(LOCAL_SUFFIXES)}")


def _rows_from_hub(bench: Benchmark) -> Iterator[tuple[int, Any]]:
    if bench.hf_id is None:
        home = f" ({bench.home})" if bench.home else ""
        raise Medo1Error(f"benchmark {bench.name!r} has no hub source; give its file{home} with --data {bench.name}=FILE")
    import datasets

    try:
        rows = datasets.load_dataset(bench.hf_id, bench.hf_config, split=bench.split)
    except Exception as err:  # offline, gated, renamed: all end here, with a way forward
        hint = " (a gated dataset: accept its terms on the hub and set HF_TOKEN)" if bench.gated else ""
        raise Medo1Error(
            f"could not load {bench.hf_id}{'/' + bench.hf_config if bench.hf_config else ''} "
            f"split {bench.split} from the hub{hint}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            f"; or give a local copy with --data {bench.name}=FILE"
        ) from None
    yield from enumerate(rows, start=1)


def load_benchmark(name: str, data: str | os.PathLike | None = None, *, limit: int | None = None,
                   cop_base: int | None = None) -> list[EvalItem]:
    """The items of benchmark `name` (registry name or local file), from `data` or its hub source.

    Rows outside the benchmark (other MMLU-Pro categories, other GPQA subdomains) are
    skipped; `limit` keeps the first N items. `cop_base` states where MedMCQA `cop`
    counts from in a local file (0: hub release, 1: original release); None decides it
    per file. The hub release is 0-based.
    """
    bench = get_benchmark(name)
    if name == "sample" and data is None:
        from medo1.data import load_sample

        return [_item("sample", q) for q in load_sample("eval")][:limit]
    path = Path(data) if data is not None else (Path(name) if name not in BENCHMARKS else None)
    if path is not None:
        where, rows = path, list(_rows_from_file(path))  # the whole file decides the base of MedMCQA `cop`
        base = medmcqa_cop_base(rows, path, cop_base, recipe_key="eval.cop_base")
    else:
        where, rows, base = f"{bench.hf_id}[{bench.split}]", _rows_from_hub(bench), HUB_COP_BASE
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for number, raw in rows:
        if limit is not None and len(items) >= limit:
            break
        if not isinstance(raw, dict):
            raise InputError(where, number, "(record)", f"expected an object, got {type(raw).__name__}")
        try:
            item = bench.convert(raw, base)
        except FieldProblem as err:
            raise InputError(where, number, err.field, err.problem) from None
        except ValueError as err:  # pydantic validation of the built record
            raise InputError(where, number, "(record)", str(err).splitlines()[0]) from None
        if item is not None:
            # A question the file holds twice is asked twice, as the official scorer counts it (its GPQA
            # source repeats each question five times); the repeat gets an id of its own.
            seen[item.id] = seen.get(item.id, 0) + 1
            if seen[item.id] > 1:
                item = item.model_copy(update={"id": f"{item.id}-{seen[item.id]}"})
            items.append(item)
    if not items:
        raise Medo1Error(f"{where}: no {bench.name} items found")
    return items


# ---------------------------------------------------------------- runs


def shuffled(item: EvalItem, seed: int) -> EvalItem:
    """`item` with its options in a random order fixed by (seed, item id); the answer letter follows."""
    texts = list(item.options.values())
    correct = item.options[item.answer]
    order = list(range(len(texts)))
    random.Random(f"{seed}:{item.id}").shuffle(order)
    options = {LETTERS[i]: texts[j] for i, j in enumerate(order)}
    answer = next(letter for letter, text in options.items() if text == correct)
    return item.model_copy(update={"options": options, "answer": answer})


@dataclass
class RunItem:
    """One question as asked in one run (its own option order when the benchmark shuffles)."""

    id: str  # "<item id>-r<run>": the key a resumed eval skips on
    run: int
    item: EvalItem
    meta: dict[str, Any] = field(default_factory=dict)


def expand_runs(bench: Benchmark, items: list[EvalItem], runs: int, seed: int) -> list[RunItem]:
    """Every item once per run; shuffling benchmarks get a new option order per run."""
    out = []
    for run in range(runs):
        for item in items:
            asked = shuffled(item, seed + run) if bench.shuffle_options else item
            out.append(RunItem(f"{item.id}-r{run}", run, asked))
    return out
