"""Commands of the teacher-driven stages: search, synthesize."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, NoCacheOpt, config_command
from medo1.errors import Medo1Error
from medo1.reasoning.config import SearchConfig, SynthConfig

VerifierOpt = typer.Option("match", "--verifier", help="match | judge:<model spec> | classifier:<path>.")
VerdictLogOpt = typer.Option(None, "--verdict-log", help="Append every judge verdict to this JSONL (training data "
                                                         "of `medo1 verifier-data`).")


@config_command(SearchConfig)
def search(
    cfg: SearchConfig,
    problems: Path = typer.Option(..., "--problems", help="Problems file (ours or medical-o1 fields)."),
    out: Path = typer.Option(..., "--out", help="Output traces.jsonl (found and discarded; errors in .failed)."),
    teacher: str = typer.Option("embedded", "--teacher", help="Model spec of the teacher that writes the CoTs."),
    verifier: str = VerifierOpt,
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Search only the first N problems."),
    verdict_log: Optional[Path] = VerdictLogOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Search failed problems again (cached "
                                      "invalid replies come back: use --no-cache or another --seed to resample)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: verifier-guided search for a correct reasoning trajectory per problem."""
    from medo1.reasoning.search import search_file

    s = search_file(problems, out, cfg, teacher=teacher, verifier=verifier, concurrency=concurrency,
                    cache=not no_cache, retry_failed=retry_failed, limit=limit, verdict_log=verdict_log)
    typer.echo(f"search: {s.found} found ({s.label_hint} with the label hint), {s.discarded} discarded, "
               f"{s.failed} failed, {s.skipped} done earlier -> {out}")


@config_command(SynthConfig)
def synthesize(
    cfg: SynthConfig,
    traces: Path = typer.Option(..., "--traces", help="Search traces."),
    out: Path = typer.Option(..., "--out", help="Output sft.jsonl."),
    format: str = typer.Option("medo1", "--format", help="official: also write Question, Complex_CoT, Response."),
    teacher: str = typer.Option("embedded", "--teacher", help="Model spec of the teacher that rewrites."),
    verifier: str = typer.Option("match", "--verifier", help="Checks each reply against the verified answer: "
                                 "match | judge:<model spec> | classifier:<path>."),
    verdict_log: Optional[Path] = VerdictLogOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try failed traces again (cached replies "
                                      "come back: use --no-cache or another --seed to resample)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: successful traces -> complex CoT and response (or an ablation variant) for SFT."""
    from medo1.reasoning.synthesize import official_path, synthesize_file

    if format not in ("medo1", "official"):
        raise Medo1Error(f"--format must be 'medo1' or 'official', got {format!r}")
    s = synthesize_file(traces, out, cfg, teacher=teacher, verifier=verifier, concurrency=concurrency,
                        cache=not no_cache, retry_failed=retry_failed, official=format == "official",
                        verdict_log=verdict_log)
    typer.echo(f"synthesize ({cfg.variant}): {s.written} examples, {s.failed} failed, {s.skipped} done earlier "
               f"-> {out}")
    if s.checked:
        typer.echo(f"  answer check ({verifier}): consistency {100 * s.consistency_rate:.1f}% "
                   f"({s.agreed_first} of {s.checked} agreed at the first ask, {s.reasked} kept after a re-ask, "
                   f"{s.drifted} dropped for drift)")
    if s.verify_errors:
        typer.echo(f"  {s.verify_errors} failed without a verdict from the verifier (see {out.name}.failed.jsonl)")
    if format == "official":
        typer.echo(f"  official format: {official_path(out)}")
