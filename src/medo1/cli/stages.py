"""Commands of the teacher-driven stages: search, synthesize."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, LangOpt, NoCacheOpt, PromptsOpt, app
from medo1.errors import Medo1Error


@app.command()
def search(
    problems: Path = typer.Option(..., "--problems", help="Problems file (ours or medical-o1 fields)."),
    out: Path = typer.Option(..., "--out", help="Output traces.jsonl (found and discarded; errors in .failed)."),
    teacher: str = typer.Option("embedded", "--teacher", help="Model spec of the teacher that writes the CoTs."),
    verifier: str = typer.Option("match", "--verifier", help="match | judge:<model spec> | classifier:<path>."),
    max_depth: int = typer.Option(3, "--max-depth", min=0, help="Refinements per attempt (paper: 3)."),
    max_attempts: int = typer.Option(3, "--max-attempts", min=1, help="Attempts from a fresh CoT (paper: 3)."),
    strategies: str = typer.Option("explore_new_paths,backtracking,verification,correction", "--strategies",
                                   help="Comma-separated refinement strategies to sample from."),
    label_hint: bool = typer.Option(False, "--label-hint/--no-label-hint",
                                    help="After failed attempts, one round told the reference answer (marked)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the strategy draws and sampling."),
    temperature: float = typer.Option(0.7, "--temperature", min=0.0, help="Teacher sampling temperature."),
    max_tokens: int = typer.Option(8192, "--max-tokens", min=1, help="Budget of each teacher reply (paper: 8192)."),
    retries: int = typer.Option(2, "--retries", min=0, help="Re-asks after an invalid CoT reply."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Search only the first N problems."),
    verdict_log: Optional[Path] = typer.Option(None, "--verdict-log", help="Append every judge verdict to this JSONL "
                                               "(training data of `medo1 verifier-data`)."),
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Search failed problems again (cached "
                                      "invalid replies come back: use --no-cache or another --seed to resample)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: verifier-guided search for a correct reasoning trajectory per problem."""
    from medo1.reasoning.search import SearchConfig, search_file

    cfg = SearchConfig(max_depth=max_depth, max_attempts=max_attempts,
                       strategies=tuple(s.strip() for s in strategies.split(",") if s.strip()),
                       label_hint=label_hint, seed=seed, temperature=temperature, max_tokens=max_tokens,
                       retries=retries, lang=lang, prompts=str(prompts) if prompts else None)
    s = search_file(problems, out, cfg, teacher=teacher, verifier=verifier, concurrency=concurrency,
                    cache=not no_cache, retry_failed=retry_failed, limit=limit, verdict_log=verdict_log)
    typer.echo(f"search: {s.found} found ({s.label_hint} with the label hint), {s.discarded} discarded, "
               f"{s.failed} failed, {s.skipped} done earlier -> {out}")


@app.command()
def synthesize(
    traces: Path = typer.Option(..., "--traces", help="Search traces."),
    out: Path = typer.Option(..., "--out", help="Output sft.jsonl."),
    variant: str = typer.Option("complex", "--variant", help="complex | simple | direct | mcq."),
    format: str = typer.Option("medo1", "--format", help="official: also write Question, Complex_CoT, Response."),
    teacher: str = typer.Option("embedded", "--teacher", help="Model spec of the teacher that rewrites."),
    verifier: str = typer.Option("match", "--verifier", help="Checks each reply against the verified answer: "
                                 "match | judge:<model spec> | classifier:<path>."),
    check_answer: bool = typer.Option(True, "--check-answer/--no-check-answer",
                                      help="Keep only replies that state the verified answer."),
    answer_retries: int = typer.Option(2, "--answer-retries", min=0,
                                       help="Re-asks after a reply that does not state the verified answer."),
    min_lines: int = typer.Option(2, "--min-lines", min=1, help="Thoughts (lines) the natural reasoning needs."),
    max_tokens: int = typer.Option(8192, "--max-tokens", min=1, help="Budget of each teacher reply (paper: 8192)."),
    retries: int = typer.Option(2, "--retries", min=0, help="Re-asks after an invalid reply."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="Teacher sampling temperature."),
    seed: int = typer.Option(0, "--seed", help="Seed of sampled calls (reproducible re-runs)."),
    max_repeated: float = typer.Option(0.3, "--max-repeated", min=0.0, max=1.0,
                                       help="Re-ask replies with more than this share of repeated text (loops)."),
    verdict_log: Optional[Path] = typer.Option(None, "--verdict-log", help="Append every judge verdict to this JSONL "
                                               "(training data of `medo1 verifier-data`)."),
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try failed traces again (cached replies "
                                      "come back: use --no-cache or another --seed to resample)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: successful traces -> complex CoT and response (or an ablation variant) for SFT."""
    from medo1.reasoning.synthesize import SynthConfig, official_path, synthesize_file

    if format not in ("medo1", "official"):
        raise Medo1Error(f"--format must be 'medo1' or 'official', got {format!r}")
    cfg = SynthConfig(variant=variant, min_lines=min_lines, max_tokens=max_tokens, retries=retries,
                      temperature=temperature, seed=seed, max_repeated=max_repeated, check_answer=check_answer,
                      answer_retries=answer_retries, lang=lang, prompts=str(prompts) if prompts else None)
    s = synthesize_file(traces, out, cfg, teacher=teacher, verifier=verifier, concurrency=concurrency,
                        cache=not no_cache, retry_failed=retry_failed, official=format == "official",
                        verdict_log=verdict_log)
    typer.echo(f"synthesize ({variant}): {s.written} examples, {s.failed} failed, {s.skipped} done earlier -> {out}")
    if s.checked:
        typer.echo(f"  answer check ({verifier}): consistency {100 * s.consistency_rate:.1f}% "
                   f"({s.agreed_first} of {s.checked} agreed at the first ask, {s.reasked} kept after a re-ask, "
                   f"{s.drifted} dropped for drift)")
    if s.verify_errors:
        typer.echo(f"  {s.verify_errors} failed without a verdict from the verifier (see {out.name}.failed.jsonl)")
    if format == "official":
        typer.echo(f"  official format: {official_path(out)}")
