"""Evaluation: benchmark registry, answer extraction, the eval runner and result tables.

    from medo1.evaluate import EvalConfig, run_eval, compare
    run_eval("hf:ckpt/rl", "runs/eval-rl", EvalConfig(benches=("medqa", "pubmedqa"), style="strict"))
    print(compare(["runs/eval-base", "runs/eval-rl"]))   # Table 1, then "base → rl: +2.1 points, p = 0.03"
"""

from medo1.evaluate.benchmarks import BENCHMARKS, PAPER_BENCHES, Benchmark, get_benchmark, load_benchmark
from medo1.verify.extract import Extraction, extract_answer
from medo1.evaluate.official import OfficialMatch, official_letters
from medo1.evaluate.runner import EvalConfig, build_prompt, evaluate, run_eval
from medo1.evaluate.scoring import score
from medo1.evaluate.stats import PairedTest, mcnemar_exact, paired_bootstrap, paired_test, wilson_interval
from medo1.evaluate.tables import compare, details_table, load_results, paper_table

__all__ = [
    "BENCHMARKS", "PAPER_BENCHES", "Benchmark", "EvalConfig", "Extraction", "OfficialMatch", "PairedTest",
    "build_prompt", "compare", "details_table", "evaluate", "extract_answer", "get_benchmark", "load_benchmark",
    "load_results", "mcnemar_exact", "official_letters", "paired_bootstrap", "paired_test", "paper_table",
    "run_eval", "score", "wilson_interval",
]
