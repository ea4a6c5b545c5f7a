"""The `medo1` command line: one subcommand per stage. Commands only parse and delegate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from medo1.errors import Medo1Error

app = typer.Typer(
    name="medo1",
    help="Turn a bank of multiple-choice exam questions into an LLM that reasons before it answers.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Options shared by every command that calls models.
ConcurrencyOpt = typer.Option(32, "--concurrency", min=1, help="Model requests in flight at once (hf: batch size).")
NoCacheOpt = typer.Option(False, "--no-cache", help="Do not read or write the request cache.")
LangOpt = typer.Option("en", "--lang", help="Prompt language: en or zh.")
PromptsOpt = typer.Option(None, "--prompts", help="Folder overriding the bundled prompts.")


@app.command()
def curate(
    input: Path = typer.Option(..., "--input", help="MCQ file (.jsonl or .json): ours, MedQA or MedMCQA fields."),
    out: Path = typer.Option(..., "--out", help="Output problems.jsonl (rejected ones go to problems.rejected.jsonl)."),
    teacher: str = typer.Option("embedded", "--teacher", help="Model spec of the LLM filter and rewrite."),
    difficulty_models: Optional[str] = typer.Option(
        None, "--difficulty-models", help="Comma-separated model specs; questions all of them answer are dropped."),
    min_words: int = typer.Option(10, "--min-words", min=0, help="Drop stems shorter than this many words."),
    rule_filter: bool = typer.Option(True, "--rule-filter/--no-rule-filter",
                                     help="Drop short, negated (NOT/EXCEPT) and multi-answer questions."),
    llm_filter: bool = typer.Option(True, "--llm-filter/--no-llm-filter",
                                    help="Keep only questions the teacher labels Pass."),
    reformat: str = typer.Option("llm", "--reformat", help="llm: the teacher rewrites; rule: stem + option text."),
    check_answer: bool = typer.Option(True, "--check-answer/--no-check-answer",
                                      help="The rewritten answer must match the correct option."),
    split: Optional[str] = typer.Option(None, "--split", help="Only input questions of this split (e.g. train)."),
    cop_base: Optional[int] = typer.Option(None, "--cop-base", min=0, max=1,
                                           help="MedMCQA cop counts from 0 (hub release) or 1 (original release); "
                                                "default: detected per file."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=1, help="Budget of each teacher reply."),
    difficulty_max_tokens: int = typer.Option(256, "--difficulty-max-tokens", min=1,
                                              help="Budget of each difficulty model's answer."),
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run rejected questions again."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 0: turn MCQs into open-ended verifiable problems."""
    from medo1.curate import CurateConfig, curate_file

    cfg = CurateConfig(min_words=min_words, rule_filter=rule_filter, llm_filter=llm_filter, reformat=reformat,
                       check_answer=check_answer, max_tokens=max_tokens, difficulty_max_tokens=difficulty_max_tokens,
                       only_split=split, lang=lang, prompts=str(prompts) if prompts else None)
    specs = [s.strip() for s in (difficulty_models or "").split(",") if s.strip()]
    summary = curate_file(input, out, cfg, teacher=teacher, difficulty_models=specs, concurrency=concurrency,
                          cache=not no_cache, retry_failed=retry_failed, cop_base=cop_base)
    dropped = ", ".join(f"{stage} {n}" for stage, n in summary.dropped.items())
    typer.echo(f"curate: {summary.kept} problems kept of {summary.input} questions "
               f"(dropped: {dropped}; errors {summary.errors}; done earlier {summary.skipped}) -> {out}")


@app.command("split")
def split_(
    problems: Path = typer.Option(..., "--problems", help="Problems file."),
    search_out: Path = typer.Option(..., "--search-out", help="Output: problems for search and SFT."),
    rl_out: Path = typer.Option(..., "--rl-out", help="Output: problems for RL."),
    rl_fraction: float = typer.Option(0.5, "--rl-fraction", min=0.0, max=1.0, help="Share of problems for RL."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffle."),
):
    """Split problems into a search/SFT part and an RL part (seeded)."""
    from medo1.split import split_file

    n_search, n_rl = split_file(problems, search_out, rl_out, rl_fraction=rl_fraction, seed=seed)
    typer.echo(f"split: {n_search} -> {search_out}, {n_rl} -> {rl_out}")


@app.command()
def decontaminate(
    input: Path = typer.Option(..., "--input", help="Records to clean (MCQs, problems, traces or SFT examples)."),
    out: Path = typer.Option(..., "--out", help="Output file; dropped items go to <out>.contaminated.jsonl."),
    against: list[Path] = typer.Option(..., "--against", help="Evaluation file(s); repeat the option for more."),
    span: int = typer.Option(64, "--span", min=8, help="Characters a shared span must have."),
    show: int = typer.Option(20, "--show", min=0, help="How many dropped items to list."),
):
    """Drop items sharing a 64-character span with an evaluation set (the Med-PaLM 2 rule)."""
    from medo1.decontaminate import decontaminate_file, dropped_path

    report = decontaminate_file(input, out, against, n=span)
    typer.echo(f"decontaminate: dropped {len(report.dropped)} of {report.input} items, kept {report.kept} -> {out}")
    for item in report.dropped[:show]:
        typer.echo(f"  {item['id']}: {item['reason']}: {item['span']!r}")
    if len(report.dropped) > show:
        typer.echo(f"  ... and {len(report.dropped) - show} more")
    if report.dropped:
        typer.echo(f"  all of them: {dropped_path(out)}")


@app.command("verifier-eval")
def verifier_eval(
    labeled: Path = typer.Option(..., "--labeled",
                                 help="JSONL of human labels: response, reference, label (optional: kind, id)."),
    verifier: str = typer.Option("match", "--verifier", help="match | judge:<model spec> | classifier:<path>."),
    threshold: float = typer.Option(0.5, "--threshold", help="classifier: P(correct) above which it says True."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the report (with every disagreement) as JSON."),
    lang: str = typer.Option("en", "--lang", help="Prompt language of the judge: en or zh."),
    prompts: Optional[Path] = PromptsOpt,
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Agreement of a verifier with human labels: accuracy, precision, recall, confusion matrix;
    per kind too when the file has a `kind` column (accepted = how often the verifier said True)."""
    from medo1.verify import evaluate_verifier_file

    report = evaluate_verifier_file(labeled, verifier, concurrency=concurrency, cache=not no_cache,
                                    threshold=threshold, lang=lang, prompts=prompts, out=out)
    typer.echo("\n".join(report.lines()))


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
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Search failed problems again (cached "
                                      "invalid replies come back: use --no-cache or another --seed to resample)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: verifier-guided search for a correct reasoning trajectory per problem."""
    from medo1.search import SearchConfig, search_file

    cfg = SearchConfig(max_depth=max_depth, max_attempts=max_attempts,
                       strategies=tuple(s.strip() for s in strategies.split(",") if s.strip()),
                       label_hint=label_hint, seed=seed, temperature=temperature, max_tokens=max_tokens,
                       retries=retries, lang=lang, prompts=str(prompts) if prompts else None)
    s = search_file(problems, out, cfg, teacher=teacher, verifier=verifier, concurrency=concurrency,
                    cache=not no_cache, retry_failed=retry_failed, limit=limit)
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
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try failed traces again (cached replies "
                                      "come back: use --no-cache or another --seed to resample)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: successful traces -> complex CoT and response (or an ablation variant) for SFT."""
    from medo1.synthesize import SynthConfig, official_path, synthesize_file

    if format not in ("medo1", "official"):
        raise Medo1Error(f"--format must be 'medo1' or 'official', got {format!r}")
    cfg = SynthConfig(variant=variant, min_lines=min_lines, max_tokens=max_tokens, retries=retries,
                      temperature=temperature, seed=seed, max_repeated=max_repeated, check_answer=check_answer,
                      answer_retries=answer_retries, lang=lang, prompts=str(prompts) if prompts else None)
    s = synthesize_file(traces, out, cfg, teacher=teacher, verifier=verifier, concurrency=concurrency,
                        cache=not no_cache, retry_failed=retry_failed, official=format == "official")
    typer.echo(f"synthesize ({variant}): {s.written} examples, {s.failed} failed, {s.skipped} done earlier -> {out}")
    if s.checked:
        typer.echo(f"  answer check ({verifier}): consistency {100 * s.consistency_rate:.1f}% "
                   f"({s.agreed_first} of {s.checked} agreed at the first ask, {s.reasked} kept after a re-ask, "
                   f"{s.drifted} dropped for drift)")
    if s.verify_errors:
        typer.echo(f"  {s.verify_errors} failed without a verdict from the verifier (see {out.name}.failed.jsonl)")
    if format == "official":
        typer.echo(f"  official format: {official_path(out)}")


@app.command()
def sft(
    data: str = typer.Option(..., "--data", help="SFT examples: .jsonl/.json (ours or medical-o1 "
                             "Question/Complex_CoT/Response) or a Hugging Face dataset id (name[:config])."),
    model: str = typer.Option(..., "--model", help="Base model: embedded, hf:<path-or-repo>, a directory or a repo id."),
    out: Path = typer.Option(..., "--out", help="Output directory: model, checkpoints, metrics.jsonl."),
    epochs: float = typer.Option(3.0, "--epochs", min=0.0, help="Passes over the data (paper: 3)."),
    lr: float = typer.Option(5e-6, "--lr", min=0.0, help="Peak learning rate (paper: 5e-6)."),
    batch_size: int = typer.Option(128, "--batch-size", min=1, help="Effective batch in examples, all devices (paper: 128)."),
    micro_batch_size: int = typer.Option(4, "--micro-batch-size", min=1, help="Examples per forward pass per device."),
    max_length: int = typer.Option(4096, "--max-length", min=8, help="Longest example in tokens; longer ones are cut."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters (saved merged, adapter in out/adapter)."),
    lora_r: int = typer.Option(16, "--lora-r", min=1, help="LoRA rank."),
    padding_free: str = typer.Option("auto", "--padding-free",
                                     help="auto | on | off (auto: on with flash attention, else length-grouped)."),
    packing: bool = typer.Option(False, "--packing", help="Pack examples into rows of max-length tokens."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="Less memory, slower."),
    bf16: Optional[bool] = typer.Option(None, "--bf16/--no-bf16", help="bf16 mixed precision (default: if supported)."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many optimizer steps (-1: all epochs)."),
    save_steps: int = typer.Option(100, "--save-steps", min=1, help="Optimizer steps between checkpoints."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint in --out."),
    seed: int = typer.Option(42, "--seed", help="Random seed."),
    chat_template: Optional[Path] = typer.Option(
        None, "--chat-template", help="Jinja chat template file, for a base model; the token that closes its "
                                      "assistant turn is saved as an EOS of the checkpoint."),
):
    """Stage 2: supervised fine-tuning on complex CoT (TRL SFTTrainer, loss on the assistant turn)."""
    from medo1.train.sft import SFTSettings, train_sft

    if padding_free not in ("auto", "on", "off"):
        raise Medo1Error(f"--padding-free {padding_free!r}: expected auto, on or off")
    settings = SFTSettings(
        data=data, model=model, out=str(out), epochs=epochs, lr=lr, batch_size=batch_size,
        micro_batch_size=micro_batch_size, max_length=max_length, lora=lora, lora_r=lora_r, lora_alpha=2 * lora_r,
        padding_free=padding_free, packing=packing, gradient_checkpointing=gradient_checkpointing, bf16=bf16,
        max_steps=max_steps, save_steps=save_steps, resume=resume, seed=seed,
        chat_template=str(chat_template) if chat_template else None,
    )
    typer.echo(f"sft: model saved to {train_sft(settings)}")


@app.command()
def rl(
    problems: str = typer.Option(..., "--problems", help="RL problems (.jsonl/.json, ours or medical-o1) or a HF dataset id."),
    model: str = typer.Option(..., "--model", help="The SFT model: a checkpoint directory, hf:<path-or-repo> or embedded."),
    out: Path = typer.Option(..., "--out", help="Output directory: model, checkpoints, metrics.jsonl."),
    algo: str = typer.Option("ppo", "--algo", help="ppo (ours) | grpo | rloo (TRL) | dpo (verified pairs + TRL)."),
    verifier: str = typer.Option("match", "--verifier", help="match | judge:<model spec> | classifier:<path>."),
    value_model: Optional[str] = typer.Option(None, "--value-model", help="ppo: value model init (default: --model)."),
    lr: float = typer.Option(5e-7, "--lr", min=0.0, help="Learning rate (paper: 5e-7)."),
    batch_size: int = typer.Option(128, "--batch-size", min=1,
                                   help="ppo: problems per step; grpo/rloo: completions; dpo: pairs (paper: 128)."),
    micro_batch_size: int = typer.Option(8, "--micro-batch-size", min=1, help="Sequences per forward pass per device."),
    num_mini_batches: int = typer.Option(1, "--num-mini-batches", min=1, help="ppo: optimizer steps per PPO epoch."),
    ppo_epochs: int = typer.Option(3, "--ppo-epochs", min=1, help="ppo: passes over each batch (paper: 3)."),
    kl_coef: float = typer.Option(0.03, "--kl-coef", min=0.0, help="KL beta to the SFT model (paper: 0.03)."),
    temperature: float = typer.Option(0.5, "--temperature", min=0.0, help="Sampling temperature (paper: 0.5)."),
    max_new_tokens: int = typer.Option(1300, "--max-new-tokens", min=1, help="Longest response (paper: ~1300)."),
    missing_eos_penalty: float = typer.Option(0.0, "--missing-eos-penalty", min=0.0,
                                              help="ppo: subtracted from the reward of cut-off responses."),
    num_generations: Optional[int] = typer.Option(None, "--num-generations", min=1,
                                                  help="Samples per problem (rloo 2, grpo 8, dpo 5)."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.0, help="Passes over the problems (dpo: the pairs)."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many steps (-1: all epochs)."),
    save_steps: int = typer.Option(20, "--save-steps", min=1, help="Steps between checkpoints."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint in --out."),
    bf16: Optional[bool] = typer.Option(None, "--bf16/--no-bf16", help="bf16 mixed precision (default: if supported)."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="Less memory, slower."),
    seed: int = typer.Option(42, "--seed", help="Random seed."),
):
    """Stage 3: reinforcement learning with the verifier reward (PPO, RLOO, GRPO, DPO)."""
    if algo == "ppo":
        from medo1.train.ppo import PPOConfig, train_ppo

        done = train_ppo(PPOConfig(
            problems=problems, model=model, out=str(out), value_model=value_model, verifier=verifier,
            learning_rate=lr, batch_size=batch_size, micro_batch_size=micro_batch_size,
            num_mini_batches=num_mini_batches, ppo_epochs=ppo_epochs, kl_coef=kl_coef, temperature=temperature,
            max_new_tokens=max_new_tokens, missing_eos_penalty=missing_eos_penalty, epochs=epochs,
            max_steps=max_steps, save_steps=save_steps, resume=resume, bf16=bf16,
            gradient_checkpointing=gradient_checkpointing, seed=seed,
        ))
    else:
        from medo1.train.trl_rl import TRLRLSettings, train_trl_rl

        done = train_trl_rl(TRLRLSettings(
            algo=algo, problems=problems, model=model, out=str(out), verifier=verifier, learning_rate=lr,
            batch_size=batch_size, micro_batch_size=micro_batch_size, num_generations=num_generations,
            temperature=temperature, max_new_tokens=max_new_tokens, kl_coef=kl_coef, epochs=epochs,
            max_steps=max_steps, save_steps=save_steps, resume=resume, bf16=bf16,
            gradient_checkpointing=gradient_checkpointing, seed=seed,
        ))
    typer.echo(f"rl ({algo}): model saved to {done}")


@app.command("eval")
def eval_(
    model: Optional[str] = typer.Option(None, "--model", help="Model spec (embedded, hf:DIR, gguf:FILE, "
                                        "openai:NAME[@URL]) or a checkpoint directory."),
    bench: str = typer.Option("medqa,medmcqa,pubmedqa,mmlu_pro_med,gpqa_med", "--bench",
                              help="Comma-separated benchmarks (medqa, medmcqa, pubmedqa, mmlu_pro_med, gpqa_med, "
                              "sample) or local MCQ files."),
    data: list[str] = typer.Option([], "--data", help="A local copy instead of the hub: FILE (one benchmark) or "
                                   "BENCH=FILE (repeatable); .jsonl, .json, .parquet, .csv."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (re-run to resume). With --compare: "
                                       "write the table to this file."),
    style: str = typer.Option("free", "--style", help="free: question + options; strict: asks to end with "
                              "'The answer is X'."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="First N questions per benchmark."),
    cop_base: Optional[int] = typer.Option(None, "--cop-base", min=0, max=1,
                                           help="MedMCQA cop in local files counts from 0 (hub release) or 1 "
                                                "(original release); default: detected per file."),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=1, help="Most tokens generated per answer."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="Sampling temperature (0: greedy)."),
    runs: Optional[int] = typer.Option(None, "--runs", min=1, help="Runs averaged per benchmark "
                                       "[default: GPQA 5, others 1]."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (+ run number) and GPQA option order."),
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
    compare: bool = typer.Option(False, "--compare", help="Print Table 1 for the saved eval directories DIRS."),
    dirs: Optional[list[Path]] = typer.Argument(None, help="With --compare: eval output directories."),
):
    """Evaluate a model on medical benchmarks, or compare saved evaluations (--compare DIR...)."""
    from medo1.evaluate import tables
    from medo1.evaluate.runner import EvalConfig, data_files, run_eval

    if compare:
        table = tables.compare(dirs or [])
        typer.echo(table)
        if out is not None:
            out.write_text(table + "\n")
        return
    if dirs:
        raise Medo1Error(f"unexpected argument {dirs[0]}; to compare saved evaluations use --compare DIR...")
    if model is None or out is None:
        raise Medo1Error("--model and --out are required (or --compare DIR...)")
    benches = tuple(b.strip() for b in bench.split(",") if b.strip())
    config = EvalConfig(
        benches=benches, data=data_files(benches, data), style=style, lang=lang,
        prompts=str(prompts) if prompts else None, max_tokens=max_tokens, temperature=temperature, runs=runs,
        seed=seed, limit=limit, cop_base=cop_base,
    )
    results = run_eval(model, out, config, concurrency=concurrency, cache=not no_cache)
    typer.echo(tables.paper_table([results]) + "\n\n" + tables.details_table(results))
    typer.echo(f"\nitems and results in {out}/ (results.json, results.md)")


@app.command()
def run(
    recipe: Optional[str] = typer.Argument(
        None, help="Recipe YAML, or a bundled recipe name (demo, paper-8b). Default: the offline demo."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: runs/<recipe name>)."),
    quick: bool = typer.Option(False, "--quick", help="Apply the recipe's `quick:` overrides (demo: ~5 minutes)."),
    only: Optional[str] = typer.Option(None, "--only", help="Comma-separated stages to run, e.g. sft,rl."),
    start: Optional[str] = typer.Option(None, "--from", help="Run this stage and every later one."),
    force: bool = typer.Option(False, "--force", help="Redo the selected stages from scratch (their outputs are removed)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, help="Override models.concurrency."),
    no_cache: bool = NoCacheOpt,
):
    """Run the whole recipe (curate, split, decontaminate, search, synthesize, sft, rl, eval) as one
    resumable run. Kill it at any time; the same command resumes where it stopped."""
    from medo1.pipeline import run_recipe

    stages = [s.strip() for s in only.split(",") if s.strip()] if only else None
    run_recipe(recipe, out, quick=quick, only=stages, start=start, force=force, concurrency=concurrency,
               cache=not no_cache)


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A run directory of `medo1 run`.")):
    """Write (again) report.md and report.html of a run directory."""
    from medo1.report import write_report

    if not (run_dir / "run.json").exists():
        raise Medo1Error(f"{run_dir}: not a run directory (no run.json)")
    md, html = write_report(run_dir)
    typer.echo(f"{md}\n{html}")


@app.command()
def chat(
    model: str = typer.Option("embedded", "--model", help="Model spec, checkpoint directory or .gguf file."),
    system: Optional[str] = typer.Option(None, "--system", help="System message."),
    message: Optional[str] = typer.Option(
        None, "--message", help="Send one message, print the reply and exit (stdin that is not a terminal: one turn "
                                "per line)."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=1, help="Most tokens per reply."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="Sampling temperature (0: greedy)."),
    no_cache: bool = NoCacheOpt,
):
    """Chat with a model; shows its thinking and its final response separately."""
    from medo1.chat import run_chat

    run_chat(model, system=system, message=message, max_tokens=max_tokens, temperature=temperature,
             cache=not no_cache)


def main() -> None:
    try:
        app()
    except Medo1Error as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted; finished work is saved, re-run to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
