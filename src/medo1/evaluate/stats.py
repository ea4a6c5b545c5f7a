"""The statistics of evaluation: intervals, Avg@K and maj@K, and paired tests between two models.

    wilson_interval(8, 10)                      -> (0.490, 0.943)
    sampled_figures({"q1": [("Insulin", True), ("Aspirin", False), ("Insulin", True)], ...})
    mcnemar_exact(b=9, c=2)                     -> p = 0.065
    paired_bootstrap([0.5, 1.0, ...], [0.75, 1.0, ...])

Which interval, and why:
- One answer per question (greedy): the Wilson score interval of the proportion right. It stays
  inside [0, 1] and keeps close to its nominal 95% at the small n and extreme accuracies a quick
  run has, where the normal interval does not.
- Avg@K (K sampled answers per question, the mean of all K x n): the Wilson interval with the
  per-question mean as the unit, i.e. the mean accuracy as a proportion over the n *questions*, not
  over the K x n answers. The K answers to one question are not independent evidence, so counting
  them as K x n would overstate it; and since per-question means lie in [0, 1] their variance is at
  most p(1 - p), the binomial's, so this interval is never narrower than the data warrant. At K = 1
  it is the plain Wilson interval, needs no resampling and is the same on every run.
- maj@K (the majority answer per question): each question is right or wrong, so Wilson over the n
  questions.

Paired tests, on the questions both models answered (the same items, so each question is its own
control, which is far more sensitive than comparing two intervals):
- One greedy answer each: the exact McNemar test (a two-sided binomial test on the discordant
  questions: right for one model and wrong for the other).
- Several answers per question: a paired bootstrap over questions of the difference of per-question
  mean accuracies (Avg@K); p is the share of resampled differences, centred on the observed one,
  at least as far from zero as the observed difference (two-sided).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Sequence

Z95 = 1.96
BOOTSTRAP_RESAMPLES = 10_000
SIGNIFICANCE = 0.05


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% for z = 1.96); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def majority(answers: Sequence[tuple[Hashable | None, bool]]) -> bool:
    """Is the majority answer right? `answers`: (the answer chosen, None when unparsed; correct) in the
    order asked. Unparsed answers never vote; a tie goes to the answer given first. No answer: wrong."""
    votes = Counter(choice for choice, _ in answers if choice is not None)
    if not votes:
        return False
    top = max(votes.values())
    winner = next(choice for choice, _ in answers if choice is not None and votes[choice] == top)
    return next(correct for choice, correct in answers if choice == winner)


def sampled_figures(by_question: dict[str, list[tuple[Hashable | None, bool]]]) -> dict[str, float]:
    """Avg@K and maj@K with their 95% intervals (see the module doc) over {question: its answers}."""
    n = len(by_question)
    means = [sum(c for _, c in answers) / len(answers) for answers in by_question.values() if answers]
    avg = sum(means) / n if n else 0.0
    maj = sum(majority(answers) for answers in by_question.values()) / n if n else 0.0
    avg_low, avg_high = wilson_interval(avg * n, n)
    maj_low, maj_high = wilson_interval(maj * n, n)
    return {"avg_at_k": avg, "avg_ci_low": avg_low, "avg_ci_high": avg_high,
            "maj_at_k": maj, "maj_ci_low": maj_low, "maj_ci_high": maj_high}


# ---------------------------------------------------------------- paired tests


@dataclass(frozen=True)
class PairedTest:
    n: int  # questions both models answered
    before: float  # accuracy of the first model on them
    after: float  # accuracy of the second model on them
    p: float  # two-sided
    test: str  # "McNemar exact" or "paired bootstrap"
    discordant: tuple[int, int] | None = None  # McNemar: (right before only, right after only)
    ci: tuple[float, float] | None = None  # bootstrap: 95% interval of after - before

    @property
    def difference(self) -> float:
        return self.after - self.before

    @property
    def significant(self) -> bool:
        return self.p < SIGNIFICANCE

    @property
    def detail(self) -> str:
        """What the test saw: "McNemar exact, 9 vs 2 discordant of 500" or "paired bootstrap over 80 questions, ..."."""
        if self.discordant is not None:
            return f"{self.test}, {self.discordant[0]} vs {self.discordant[1]} discordant of {self.n}"
        ci = f", 95% CI {100 * self.ci[0]:+.1f} to {100 * self.ci[1]:+.1f}" if self.ci else ""
        return f"{self.test} over {self.n} questions{ci}"

    def line(self, label: str = "", *, detail: bool = True) -> str:
        """"SFT → RL: +2.1 points, p = 0.030" (or ", not significant"), then what the test saw."""
        head = f"{label}: " if label else ""
        verdict = _p(self.p) + ("" if self.significant else ", not significant")
        text = f"{head}{100 * self.difference:+.1f} points, {verdict}"
        return f"{text} ({self.detail})" if detail else text


def _p(p: float) -> str:
    return "p = 1" if p >= 0.9995 else f"p = {p:.3f}" if p >= 0.001 else "p < 0.001"


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: b and c are the two kinds of discordant pairs."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_bootstrap(before: Sequence[float], after: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = 0) -> tuple[float, tuple[float, float]]:
    """(two-sided p, 95% percentile interval) of mean(after - before), resampling questions (seeded)."""
    import numpy as np

    if len(before) != len(after) or not before:
        raise ValueError("paired_bootstrap needs two equally long, non-empty lists")
    diffs = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    n, observed = len(diffs), float(diffs.mean())
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)  # resamples drawn at once: bounded memory for large benchmarks
    means = np.concatenate([diffs[rng.integers(0, n, size=(min(chunk, resamples - done), n))].mean(axis=1)
                            for done in range(0, resamples, chunk)])
    extreme = int(np.sum(np.abs(means - observed) >= abs(observed) - 1e-12))
    p = min(1.0, (extreme + 1) / (resamples + 1)) if observed else 1.0
    low, high = np.quantile(means, [0.025, 0.975])
    return p, (float(low), float(high))


def paired_test(before: dict[str, list[bool]], after: dict[str, list[bool]]) -> PairedTest | None:
    """Compare two models on the questions both answered ({question id: correctness of each answer}).

    One answer each: exact McNemar; otherwise a paired bootstrap on per-question means. None when no
    question is shared."""
    shared = sorted(q for q in before if q in after and before[q] and after[q])
    if not shared:
        return None
    mean_before = [sum(before[q]) / len(before[q]) for q in shared]
    mean_after = [sum(after[q]) / len(after[q]) for q in shared]
    acc_before, acc_after = sum(mean_before) / len(shared), sum(mean_after) / len(shared)
    if all(len(before[q]) == 1 and len(after[q]) == 1 for q in shared):
        b = sum(1 for x, y in zip(mean_before, mean_after) if x and not y)
        c = sum(1 for x, y in zip(mean_before, mean_after) if y and not x)
        return PairedTest(len(shared), acc_before, acc_after, mcnemar_exact(b, c), "McNemar exact", discordant=(b, c))
    p, ci = paired_bootstrap(mean_before, mean_after)
    return PairedTest(len(shared), acc_before, acc_after, p, "paired bootstrap", ci=ci)
