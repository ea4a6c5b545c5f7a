"""`medo1 verifier-eval`: one verifier, or several side by side (`--compare`), on a file of human labels.

Each verifier is loaded, run over every labelled pair at the given concurrency and timed; a judge's
cost per 1,000 verdicts is priced from its tokens (every reply counted, cached or not: the cost of
the verdicts uncached) at the recipe's `report.prices` (USD per 1M prompt / completion tokens,
keyed by model spec). The table:

    verifier              n  accuracy  precision  recall     f1  kappa  errors  verdicts/s  $/1k

A classifier trained by `medo1 verifier-train` is measured on labels it never saw: the rows whose
pair it was trained or calibrated on (its `medo1_verifier_pairs.json`) are left out, for every
verifier of the comparison alike, and how many is said.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error
from medo1.verify.classifier import read_seen
from medo1.verify.combined import split_spec
from medo1.verify.data import pair_id
from medo1.verify.evaluation import LabeledVerdict, VerifierReport, _no_nan, evaluate_verifier
from medo1.verify.verdicts import public_name

Prices = dict[str, tuple[float, float]]


def judge_cost_per_1k(verifier: Any, prices: Prices, verdicts: int | None = None) -> float | None:
    """USD per 1,000 verdicts of a judge whose model has a price, alone or as a part of a joined verifier
    (`verdicts`: how many the joined verifier gave, the judge asked only about some); None for others."""
    from medo1.verify.combined import AllVerifiers
    from medo1.verify.judge import JudgeVerifier

    if isinstance(verifier, AllVerifiers):
        verifier = verifier.judge
    else:
        verdicts = None
    if not isinstance(verifier, JudgeVerifier) or not verifier.verdicts:
        return None
    spec = verifier.name.removeprefix("judge:")
    price = prices.get(spec) or prices.get(verifier.model.name)
    if price is None:
        return None
    usd = (verifier.usage.prompt_tokens * price[0] + verifier.usage.completion_tokens * price[1]) / 1e6
    return 1000 * usd / (verdicts or verifier.verdicts)


async def run_one(spec: str, items: list[LabeledVerdict], *, concurrency: int = 32,
                  cache: bool | str | os.PathLike = True, threshold: float | None = None, lang: str = "en",
                  prompts: str | os.PathLike | None = None, prices: Prices | None = None) -> VerifierReport:
    """Load the verifier of `spec`, measure it on `items`, close it."""
    from medo1.verify.load import load_verifier, verifier_model

    verifier = load_verifier(spec, concurrency=concurrency, cache=cache, lang=lang, prompts=prompts,
                             threshold=threshold)
    model = verifier_model(verifier)
    try:
        report = await evaluate_verifier(verifier, items, concurrency=concurrency)
    finally:
        if model is not None:  # a judge's client (alone or as a part)
            await model.aclose()
        if hasattr(verifier, "aclose"):  # a classifier's batcher (alone or as a part)
            await verifier.aclose()
    report.verifier = public_name(report.verifier)
    report.threshold = classifier_threshold(verifier)
    report.cost_per_1k = judge_cost_per_1k(verifier, prices or {}, verdicts=report.n - report.errors)
    if model is not None:
        report.cache_hits = model.meter.by_tag.get("verify").cache_hits if "verify" in model.meter.by_tag else 0
    return report


def classifier_threshold(verifier: Any) -> float | None:
    """The threshold a classifier (alone or a part of a join) decides at: a checkpoint's own differs by join."""
    from medo1.verify.classifier import ClassifierVerifier
    from medo1.verify.combined import AllVerifiers

    parts = verifier.parts if isinstance(verifier, AllVerifiers) else [verifier]
    return next((part.threshold for part in parts if isinstance(part, ClassifierVerifier)), None)


def leave_out_seen(items: list[LabeledVerdict], specs: list[str]) -> tuple[list[LabeledVerdict], int]:
    """The rows no classifier of `specs` was trained or calibrated on, and how many were left out."""
    seen: set[str] = set()
    for part in (part for spec in specs for part in split_spec(spec)):  # a classifier joined to a rule too
        kind, _, rest = part.partition(":")
        path = Path(rest.removeprefix("official:")).expanduser()
        if kind == "classifier" and path.is_dir():
            seen |= read_seen(path)
    kept = [item for item in items if pair_id(item.response, item.reference) not in seen]
    return kept, len(items) - len(kept)


def compare_verifiers(labeled: str | os.PathLike, specs: list[str], *, out: str | os.PathLike | None = None,
                      prices: Prices | None = None, say=None, **options: Any) -> list[VerifierReport]:
    """Every verifier of `specs` on the labelled file, one after another (so each is timed alone), on the
    rows no classifier among them has seen (`say` is told how many were left out); a judge's cost comes from
    `prices` (model spec -> USD per 1M prompt / completion tokens, as a recipe's `report.prices`)."""
    from medo1.jsonl import read_jsonl

    items, left_out = leave_out_seen(read_jsonl(labeled, LabeledVerdict), specs)
    if left_out and not items:
        raise Medo1Error(f"{labeled}: every labelled row was used to train or calibrate the classifier; measure it "
                         "on labels it never saw (e.g. the `test` rows of `medo1 verifier-data`)")
    if left_out and say is not None:
        say(f"{left_out} of {left_out + len(items)} labelled rows were used to train or calibrate the classifier: "
            f"left out, the figures are on the other {len(items)}")
    prices = prices or {}

    async def main() -> list[VerifierReport]:
        return [await run_one(spec, items, prices=prices, **options) for spec in specs]

    reports = asyncio.run(main())
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        rows = [{**r.as_dict(), "left_out_seen": left_out} for r in reports]
        value = rows[0] if len(rows) == 1 else rows
        Path(out).write_text(json.dumps(_no_nan(value), indent=2, default=str) + "\n")
    return reports


def evaluate_verifier_file(labeled: str | os.PathLike, spec: str = "match", **options: Any) -> VerifierReport:
    """`medo1 verifier-eval --verifier SPEC`: one verifier on a labelled file (optionally `out` as JSON)."""
    return compare_verifiers(labeled, [spec], **options)[0]


def comparison_lines(reports: list[VerifierReport]) -> list[str]:
    """The side-by-side table of `medo1 verifier-eval --compare`."""
    def fmt(x: float | None, digits: int = 3) -> str:
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"

    width = max(len("verifier"), *(len(r.verifier) for r in reports))
    head = (f"{'verifier':<{width}}  {'n':>5}  {'accuracy':>8}  {'precision':>9}  {'recall':>6}  {'f1':>5}  "
            f"{'kappa':>5}  {'errors':>6}  {'verdicts/s':>10}  {'$/1k':>7}")
    rows = [head, "-" * len(head)]
    for r in reports:
        rows.append(f"{r.verifier:<{width}}  {r.n:5d}  {fmt(r.accuracy):>8}  {fmt(r.precision):>9}  "
                    f"{fmt(r.recall):>6}  {fmt(r.f1):>5}  {fmt(r.kappa):>5}  {r.errors:6d}  "
                    f"{fmt(r.verdicts_per_second, 1):>10}  {fmt(r.cost_per_1k, 4):>7}")
    thresholds = [f"{r.verifier} {r.threshold:.4f}" for r in reports if r.threshold is not None]
    if thresholds:
        rows.append("(classifier thresholds, P(correct) above which it says True: " + "; ".join(thresholds) + ")")
    if any(r.cache_hits for r in reports):
        rows.append("(judge replies answered by the request cache count at their cached speed; --no-cache to time "
                    "the judge itself)")
    return rows
