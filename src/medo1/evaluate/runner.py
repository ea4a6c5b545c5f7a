"""Run a model on benchmarks and score it: `medo1 eval`.

    results = run_eval("hf:ckpt/rl", "runs/eval-rl", EvalConfig(benches=("medqa", "pubmedqa"), limit=100))
    run_eval("hf:ckpt/rl", "runs/eval-rl-k4", EvalConfig(samples=4, temperature=0.7, scorer="official"))

Output directory:
    <bench>.items.jsonl         one line per question and run (sample): prompt, output, extracted letter,
                                how it was found, the chosen option's text, correct; with the official
                                scorer also its first and last letters (appended as answers arrive)
    <bench>.items.failed.jsonl  questions whose model call failed, with the reason (retried on re-run)
    setup.json                  model and decoding settings; a re-run must match them
    results.json                per benchmark (and subset): n, correct, accuracy (Avg@K with samples),
                                95% interval, maj@K and its interval, official_accuracy, unparsed
                                rate, truncated rate, mean generated tokens, runs (medo1.evaluate.scoring)
    results.md                  the paper's Table 1 row for this model, and the details

A re-run with the same directory asks only the questions not answered yet; asking for the official
scorer later reads the saved answers again, without asking the model. All pending questions of all
benchmarks are sent at once; the model's own concurrency bounds what is in flight, so a batching
backend (hf, vllm) sees full batches.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

from medo1.errors import Medo1Error
from medo1.evaluate.benchmarks import PAPER_BENCHES, Benchmark, RunItem, expand_runs, get_benchmark, load_benchmark
from medo1.verify.extract import extract_answer
from medo1.evaluate.official import official_letters
from medo1.evaluate.progress import EvalProgress
from medo1.evaluate.scoring import score, score_bench  # noqa: F401  (score: re-exported)
from medo1.evaluate.stats import wilson_interval  # noqa: F401  (re-exported)
from medo1.evaluate.tables import details_table, paper_table
from medo1.jsonl import StageOutput, iter_json_values
from medo1.llm.base import ChatModel
from medo1.prompts import load_prompt, render
from medo1.records import EvalItem

STYLES = ("free", "strict")


SCORERS = ("medo1", "official")
BACKENDS = ("auto", "hf", "gguf", "vllm")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class EvalConfig:
    """What to ask and how. Defaults follow the paper's evaluation: greedy decoding, one answer per response."""

    benches: tuple[str, ...] = field(default=PAPER_BENCHES, metadata={**_help(
        "Benchmarks, comma-separated on the command line: registry names (medqa, medmcqa, pubmedqa, mmlu_pro_med, "
        "gpqa_med, medxpertqa, medbullets_op4, medbullets_op5, huatuo_eval, sample) or local MCQ files."),
        "aliases": ["--bench"]})
    data: dict[str, str] = field(default_factory=dict, metadata=_help("Benchmark -> local file instead of the hub."))
    style: str = field(default="free", metadata=_help(
        "Prompt: free (question + options) or strict (asks to end with 'The answer is X')."))
    lang: str = field(default="en", metadata=_help("Prompt language (prompts/<lang>/eval/*.txt)."))
    prompts: str | None = field(default=None, metadata=_help("A folder overriding the bundled prompts."))
    max_tokens: int = field(default=2048, metadata=_help(
        "Most tokens per answer: room for a full '## Thinking ... ## Final Response' answer."))
    temperature: float = field(default=0.0, metadata=_help(
        "Sampling temperature; 0 is greedy (the default; the official eval script samples at 0.5, top-p 0.9)."))
    runs: int | None = field(default=None, metadata=_help(
        "Runs averaged per benchmark; None: each benchmark's own (GPQA 5, each with its own option order, others 1)."))
    samples: int = field(default=1, metadata=_help(
        "Answers sampled per question (K, needs temperature > 0): Avg@K and maj@K with 95% intervals. "
        "K > 1 replaces each benchmark's default runs (GPQA keeps a new option order per sample)."))
    scorer: Literal["medo1", "official"] = field(default="medo1", metadata=_help(
        "medo1: our strict extraction only. official: also the official HuatuoGPT-o1 scorer's figure, "
        "a second column beside ours (medo1.evaluate.official)."))
    seed: int = field(default=0, metadata=_help("Sampling seed (+ run number) and GPQA option order."))
    limit: int | None = field(default=None, metadata=_help("First N questions per benchmark."))
    cop_base: Literal[0, 1] | None = field(default=None, metadata=_help(
        "MedMCQA `cop` in local files: 0 (hub release), 1 (original release); None: detected per file."))
    backend: Literal["auto", "hf", "gguf", "vllm"] = field(default="auto", metadata=_help(
        "Engine of checkpoint directories (hf:<dir>). auto: llama.cpp on a cached GGUF conversion on CPUs without "
        "native bf16 (several times faster there; transformers if the conversion fails), transformers on GPUs and "
        "on CPUs with native bf16 (benchmarks/eval_throughput.py). hf: always transformers. gguf: always "
        "llama.cpp. vllm: vLLM's offline engine in this process (pip install 'medo1[vllm]'), same prompts and "
        "sampling as hf. Other model specs run as they are."))
    gguf_type: Literal["f16", "f32", "q8_0", "bf16"] = field(default="f16", metadata=_help(
        "GGUF weights: f16 (half of f32's bytes; on SmolLM2 the same letter as fp32 transformers on 19 of 20 "
        "questions), f32 (exact: 20 of 20, slower), q8_0 (fastest, 14 of 20), bf16."))
    progress: bool = field(default=True, metadata=_help("Show a progress bar per benchmark."))

    def runs_of(self, bench: Benchmark) -> int:
        """How many times each question of `bench` is asked."""
        return self.samples if self.samples > 1 else (self.runs or bench.runs)


# ---------------------------------------------------------------- prompts


def build_prompt(item: EvalItem, style: str = "free", *, lang: str = "en", prompts: str | None = None) -> str:
    """The user message for one question: its context (if any), the question and lettered options."""
    if style not in STYLES:
        raise Medo1Error(f"unknown prompt style {style!r}; use one of {', '.join(STYLES)}")
    question = item.question
    if item.context:
        question = render(load_prompt("eval/context", lang=lang, override=prompts), context=item.context,
                          question=question).strip()
    options = "\n".join(f"{letter}. {text}" for letter, text in item.options.items())
    template = load_prompt(f"eval/{style}", lang=lang, override=prompts)
    return render(template, question=question, options=options).strip()


def data_files(benches: Iterable[str], values: Iterable[str]) -> dict[str, str]:
    """`--data` values: `FILE` when one benchmark runs, else `BENCH=FILE` (repeatable) -> {bench: file}."""
    names = [get_benchmark(b).name for b in benches]
    out: dict[str, str] = {}
    for value in values:
        bench, eq, path = value.partition("=")
        if not eq:
            if len(names) != 1:
                raise Medo1Error(f"--data {value}: with several benchmarks, say which one: --data BENCH={value}")
            bench, path = names[0], value
        if bench not in names:
            raise Medo1Error(f"--data {value}: {bench!r} is not among the benchmarks being run ({', '.join(names)})")
        if bench in out:
            raise Medo1Error(f"--data {value}: {bench} was given a file twice")
        out[bench] = path
    return out


def model_spec(model: str) -> str:
    """A checkpoint directory means `hf:<dir>`; anything else is a model spec as is."""
    if ":" not in model and model != "embedded" and Path(model).is_dir():
        return f"hf:{model}"
    return model


# ---------------------------------------------------------------- the run


def _setup(model: ChatModel, config: EvalConfig, label: str | None = None) -> dict[str, Any]:
    """What makes answers comparable: a directory holds answers of one setup only."""
    templates = [load_prompt(f"eval/{name}", lang=config.lang, override=config.prompts)
                 for name in (config.style, "context")]
    return {
        "model": label or model.name,
        "backend": backend_name(model),
        "style": config.style,
        "lang": config.lang,
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
        "seed": config.seed,
        "prompt_sha": hashlib.sha256("\0".join(templates).encode()).hexdigest()[:16],
    }


def backend_name(model: ChatModel) -> str:
    """The engine answering: "transformers", "llama.cpp f16" (the GGUF's type, from its file name), "openai"."""
    identity = model.identity()
    backend = str(identity.get("backend", type(model).__name__))
    kind = Path(str(identity.get("model", ""))).name.split(".")
    return f"{backend} {kind[-2]}" if backend == "llama.cpp" and len(kind) > 2 else backend


def _check_setup(out_dir: Path, setup: dict[str, Any]) -> None:
    path = out_dir / "setup.json"
    if path.exists():
        try:
            before = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise Medo1Error(f"{path}: not valid JSON ({err.msg}); delete it to start over") from None
        # Directories written before the backend was recorded: checkpoints (hf:) ran on transformers.
        before.setdefault("backend", "transformers" if setup["model"].startswith("hf:") else setup["backend"])
        changed = [f"{k} {before.get(k)!r} -> {v!r}" for k, v in setup.items() if before.get(k) != v]
        if changed:
            raise Medo1Error(f"{out_dir} holds answers from another setup ({'; '.join(changed)}); "
                             "use another --out directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(setup, indent=2) + "\n")


def _secret_free(text: str) -> str:
    for name in ("OPENAI_API_KEY", "DEEPSEEK_API_KEY", "HF_TOKEN"):
        secret = os.environ.get(name)
        if secret and len(secret) >= 8:
            text = text.replace(secret, "***")
    return text


@dataclass
class _Plan:
    bench: Benchmark
    runs: int
    items: list[RunItem]
    out: StageOutput


def _read_rows(path: Path, ids: set[str]) -> list[dict]:
    """The latest row of each wanted id in a (possibly missing) items file."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    rows: dict[str, dict] = {}
    for _, row in iter_json_values(path):
        if isinstance(row, dict) and row.get("id") in ids:
            rows[row["id"]] = row
    return list(rows.values())


async def evaluate(model: ChatModel, out_dir: str | os.PathLike, config: EvalConfig | None = None, *,
                   name: str | None = None) -> dict[str, Any]:
    """Ask every pending question of every benchmark, then score all answers in `out_dir`.

    `name` is the model as results show it (default: `model.name`), e.g. the checkpoint a GGUF was made from."""
    out_dir, config = Path(out_dir), config or EvalConfig()
    if not config.benches:
        raise Medo1Error("no benchmarks to run; name at least one with --bench")
    if config.style not in STYLES:
        raise Medo1Error(f"unknown prompt style {config.style!r}; use one of {', '.join(STYLES)}")
    unknown = sorted(set(config.data) - {get_benchmark(b).name for b in config.benches})
    if unknown:
        raise Medo1Error(f"--data names {', '.join(unknown)}, which is not among the benchmarks being run")
    _check_sampling(config)
    setup = _setup(model, config, name)
    loaded = []
    for name in config.benches:  # load everything first: a bad file fails before any model call
        bench = get_benchmark(name)
        runs = config.runs_of(bench)
        items = load_benchmark(name, config.data.get(bench.name), limit=config.limit, cop_base=config.cop_base)
        loaded.append((bench, runs, expand_runs(bench, items, runs, config.seed)))
    _check_setup(out_dir, setup)
    # retry_failed: questions whose call failed last time are asked again.
    plans = [_Plan(bench, runs, items, StageOutput(out_dir / f"{bench.name}.items.jsonl", retry_failed=True))
             for bench, runs, items in loaded]
    usage_before = model.meter.as_dict().get("eval", {})
    try:
        await _ask_all(model, plans, config)
    finally:
        for plan in plans:
            plan.out.close()
    usage = {k: v - usage_before.get(k, 0) for k, v in model.meter.as_dict().get("eval", {}).items()}
    return _write_results(out_dir, plans, setup, usage, official=config.scorer == "official")


def _check_sampling(config: EvalConfig) -> None:
    if config.runs is not None and config.runs < 1:
        raise Medo1Error("--runs must be at least 1")
    if config.samples < 1:
        raise Medo1Error("--samples must be at least 1")
    if config.samples > 1 and config.temperature <= 0:
        raise Medo1Error(f"--samples {config.samples} needs --temperature above 0: greedy answers would all be the same")
    if config.samples > 1 and config.runs is not None and config.runs != config.samples:
        raise Medo1Error(f"--runs {config.runs} and --samples {config.samples} disagree; with --samples, "
                         "each sample is a run (leave --runs out)")
    if config.scorer not in SCORERS:
        raise Medo1Error(f"unknown scorer {config.scorer!r}; use one of {', '.join(SCORERS)}")


async def _ask_all(model: ChatModel, plans: list[_Plan], config: EvalConfig) -> None:
    pending = [(plan, ri, build_prompt(ri.item, config.style, lang=config.lang, prompts=config.prompts))
               for plan in plans for ri in plan.items if not plan.out.done(ri.id)]
    if not pending:
        return
    # Longest prompts first: a batching backend takes calls in arrival order, so prompts of
    # similar length share a batch (less padding), and the largest batch comes first.
    pending.sort(key=lambda p: -len(p[2]))
    errors: list[str] = []
    with EvalProgress([(p.bench.name, p.items, p.out) for p in plans], enabled=config.progress) as progress:

        async def ask(plan: _Plan, ri: RunItem, prompt: str) -> None:
            try:
                completion = await model.chat(
                    [{"role": "user", "content": prompt}], max_tokens=config.max_tokens,
                    temperature=config.temperature, seed=config.seed + ri.run, tag="eval",
                )
            except Exception as err:  # one failed call never ends the run; it is recorded and retried next time
                reason = _secret_free(f"{type(err).__name__}: {err}")
                errors.append(reason)
                plan.out.fail(ri.id, reason, bench=plan.bench.name, run=ri.run, item_id=ri.item.id)
                progress.advance(plan.bench.name, None)
                return
            found = extract_answer(completion.text, ri.item.options)
            correct = found.letter == ri.item.answer
            plan.out.write({
                "id": ri.id, "bench": plan.bench.name, "run": ri.run, "item_id": ri.item.id,
                "source_id": ri.item.source_id, "subset": ri.item.meta.get("subset"),
                "prompt": prompt, "output": completion.text, "extracted": found.letter, "method": found.method,
                # the chosen option's text: the same answer under another option order (votes, paired tests)
                "extracted_text": ri.item.options.get(found.letter) if found.letter else None,
                **(_official_fields(completion.text, ri) if config.scorer == "official" else {}),
                "answer": ri.item.answer, "correct": correct,
                "completion_tokens": completion.usage.completion_tokens,
                "prompt_tokens": completion.usage.prompt_tokens,
                "finish_reason": completion.finish_reason, "cached": completion.cached,
            })
            progress.advance(plan.bench.name, correct)

        await asyncio.gather(*(ask(plan, ri, prompt) for plan, ri, prompt in pending))
    if errors and len(errors) == len(pending):
        raise Medo1Error(f"all {len(pending)} model calls failed; the first: {errors[0]}")


def _official_fields(output: str, ri: RunItem) -> dict[str, str]:
    """The official scorer's first and last readings of one answer (medo1.evaluate.official)."""
    match = official_letters(output, ri.item.options)
    return {"official_first": match.first, "official_last": match.last, "official_kind": match.kind}


def _write_results(out_dir: Path, plans: list[_Plan], setup: dict[str, Any], usage: dict[str, Any], *,
                   official: bool = False) -> dict[str, Any]:
    benches = {}
    for plan in plans:
        ids = {ri.id: ri for ri in plan.items}
        rows = _read_rows(plan.out.ok.path, set(ids))
        failed = len({r["id"] for r in _read_rows(plan.out.failed.path, set(ids))} - {r["id"] for r in rows})
        if official:  # answers written before the official scorer was asked for are read now, from their output
            rows = [r if "official_first" in r else {**r, **_official_fields(r.get("output", ""), ids[r["id"]])}
                    for r in rows]
        else:
            rows = [{k: v for k, v in r.items() if not k.startswith("official_")} for r in rows]
        benches[plan.bench.name] = score_bench(plan.bench, rows, plan.runs, failed)
    previous = {}
    if (out_dir / "results.json").exists():  # keep benchmarks run earlier into the same directory
        try:
            previous = json.loads((out_dir / "results.json").read_text()).get("benches", {})
        except (json.JSONDecodeError, AttributeError):
            previous = {}
    results = {
        "model": setup["model"],
        "setup": setup,
        "benches": {**previous, **benches},
        "usage": usage,  # this run's model calls (a resumed run counts only what it asked)
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out_dir / "results.md").write_text(
        f"# Evaluation of `{results['model']}`\n\n{paper_table([results])}\n\n{details_table(results)}\n"
    )
    return results


def run_eval(model: str, out_dir: str | os.PathLike, config: EvalConfig | None = None, *,
             concurrency: int = 32, cache: bool | str | os.PathLike = True) -> dict[str, Any]:
    """Load the model named by `model` (a spec or a checkpoint directory) and evaluate it.

    A checkpoint runs on the engine `config.backend` picks (see EvalConfig); results name the checkpoint."""
    from medo1.evaluate.engine import eval_model_spec
    from medo1.llm import load_model

    config, spec = config or EvalConfig(), model_spec(model)
    if config.backend == "vllm":
        from medo1.llm.vllm import load_vllm

        llm = load_vllm(spec, cache=cache)
    else:
        llm = load_model(eval_model_spec(spec, config.backend, config.gguf_type), concurrency=concurrency, cache=cache)

    async def main() -> dict[str, Any]:
        try:
            return await evaluate(llm, out_dir, config, name=spec)
        finally:
            await llm.aclose()

    return asyncio.run(main())
