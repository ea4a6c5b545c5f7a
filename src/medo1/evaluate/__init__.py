"""Evaluation: benchmark registry, answer extraction, the eval runner and result tables.

    from medo1.evaluate import EvalConfig, run_eval, compare
    run_eval("hf:ckpt/rl", "runs/eval-rl", EvalConfig(benches=("medqa", "pubmedqa"), style="strict"))
    print(compare(["runs/eval-base", "runs/eval-rl"]))
"""

from medo1.evaluate.benchmarks import BENCHMARKS, PAPER_BENCHES, Benchmark, get_benchmark, load_benchmark
from medo1.evaluate.extract import Extraction, extract_answer
from medo1.evaluate.runner import EvalConfig, build_prompt, evaluate, run_eval, score, wilson_interval
from medo1.evaluate.tables import compare, details_table, load_results, paper_table

__all__ = [
    "BENCHMARKS", "PAPER_BENCHES", "Benchmark", "EvalConfig", "Extraction", "build_prompt", "compare",
    "details_table", "evaluate", "extract_answer", "get_benchmark", "load_benchmark", "load_results",
    "paper_table", "run_eval", "score", "wilson_interval",
]
