"""Watching RL for reward hacking, the same way in every engine (our PPO, TRL's GRPO / RLOO, verl).

RL optimises exactly what the reward pays for. A verifier that can be fooled (an LLM judge, a trained
classifier) may pay for a final response that names the answer among others ("- MI\\n- PE\\n- dissection")
or hedges ("MI or PE"), and a policy finds such a shape within a few hundred steps: the reward climbs
while the model gets worse. So beside the reward every engine logs, per step, under these names:

    uncommitted_rate      among the rewarded responses (verified correct), the share whose final response
                          does not commit to one answer (`medo1.verify.uncommitted`: a list, a hedge, a
                          question, a negation, a chain of conclusions, ...); left out of a step with no
                          rewarded response. With `match` it stays 0 (match rewards nothing it flags).
    rewarded_responses    how many responses were rewarded: the denominator of uncommitted_rate
    final_response_chars  the mean length, in characters, of the final responses (the text after
                          `## Final Response`) of the well-formed responses; characters, not tokens,
                          because verl's reward function sees text only. Left out when none is well formed.
    no_format_rate        the share of responses without the thinking + final-response format or cut off
                          by the length limit (1 - format_rate: the reward's 0.0)

One place computes them: `sample_terms` per response (our PPO and TRL through `medo1.train.reward.score_batch`,
verl through `compute_score` and its per-sample records), `tally` + `watch_metrics` per step (a tally is
sums, so our PPO adds the processes' tallies before it divides). `DriftWatch` turns the logged steps into
one warning line (the rule is on the class); the trainers print it once while training, verl's
conversion after its run, and the run report shows it beside the plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from medo1.verify import final_response, uncommitted

SAMPLE_TERMS = ("uncommitted", "final_response_chars")  # per response, beside the reward's terms
STEP_METRICS = ("uncommitted_rate", "rewarded_responses", "final_response_chars", "no_format_rate")
COUNTS = ("responses", "formatted", "rewarded", "rewarded_uncommitted", "final_response_chars_sum")

MIN_REWARDED = 20  # rewarded responses each compared window must hold: fewer and one list is a big share
MIN_RISE = 0.05  # the share must also rise by 5 points: 0.5% -> 1% doubles, but is no drift


def sample_terms(output: str, formatted: bool) -> dict[str, float]:
    """One response's watch terms: `uncommitted` 1.0 when it is well formed and its final response does not
    commit to one answer (else 0.0), `final_response_chars` the final response's length (0 without the
    format; `formatted`: the reward's term, finished and well formed). Cheap (regular expressions, about a
    third of a millisecond): it runs on every sample."""
    final = final_response(output) if formatted else None
    if final is None:
        return {"uncommitted": 0.0, "final_response_chars": 0.0}
    return {"uncommitted": float(uncommitted(final) is not None), "final_response_chars": float(len(final))}


def tally(samples: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Sums over a step's samples, each a mapping with `correct`, `formatted` and the `sample_terms`
    (verl's per-sample terms are exactly that): sums, so tallies of several processes add up."""
    out = dict.fromkeys(COUNTS, 0.0)
    for s in samples:
        correct, formatted = bool(s["correct"]), bool(s["formatted"])
        out["responses"] += 1
        out["formatted"] += formatted
        out["rewarded"] += correct
        out["rewarded_uncommitted"] += correct and bool(s["uncommitted"])
        out["final_response_chars_sum"] += float(s["final_response_chars"]) if formatted else 0.0
    return out


def watch_metrics(counts: Mapping[str, float]) -> dict[str, float]:
    """A step's watch metrics (module docstring) from its tally; a rate over nothing is left out."""
    out: dict[str, float] = {"rewarded_responses": float(counts["rewarded"])}
    if counts["responses"]:
        out["no_format_rate"] = 1.0 - counts["formatted"] / counts["responses"]
    if counts["formatted"]:
        out["final_response_chars"] = counts["final_response_chars_sum"] / counts["formatted"]
    if counts["rewarded"]:
        out["uncommitted_rate"] = counts["rewarded_uncommitted"] / counts["rewarded"]
    return out


class DriftWatch:
    """The warning when the uncommitted share of rewarded responses doubles after the first quarter of a run.

    Fed each logged step in order (`add`), for a run of `total_steps`. With Q = ceil(total_steps / 4): the
    baseline is the first quarter (the logged steps 1..Q), the latest window the last Q steps (never
    reaching back into the first quarter). Each window's share is pooled, weighted by its rewarded
    responses. At a step past the first quarter it warns when both windows hold at least MIN_REWARDED
    rewarded responses and the latest share is at least twice the baseline's and MIN_RISE above it. It warns
    once: `add` returns the line the first time, None otherwise (also kept in `line`)."""

    def __init__(self, total_steps: int):
        self.quarter = max(1, math.ceil(total_steps / 4))
        self.seen: list[tuple[int, float, float]] = []  # (step, uncommitted_rate, rewarded_responses)
        self.line: str | None = None
        self.warned_at: int | None = None  # the step of the warning

    def add(self, step: int, metrics: Mapping[str, Any]) -> str | None:
        rate, n = metrics.get("uncommitted_rate"), metrics.get("rewarded_responses")
        if isinstance(rate, (int, float)) and isinstance(n, (int, float)) and n > 0:
            self.seen.append((int(step), float(rate), float(n)))
        if self.line is not None or step <= self.quarter:
            return None
        self.line = self._check(int(step))
        self.warned_at = int(step) if self.line else None
        return self.line

    def _check(self, step: int) -> str | None:
        start = max(self.quarter, step - self.quarter)  # the latest window: steps start+1 .. step

        def pooled(rows: list[tuple[int, float, float]]) -> tuple[float, float]:
            n = sum(r[2] for r in rows)
            return (sum(r[1] * r[2] for r in rows) / n if n else 0.0), n

        base, n_base = pooled([r for r in self.seen if r[0] <= self.quarter])
        late, n_late = pooled([r for r in self.seen if start < r[0] <= step])
        if min(n_base, n_late) < MIN_REWARDED or late < 2 * base or late - base < MIN_RISE:
            return None
        return (f"warning: possible reward hacking: {100 * late:.1f}% of rewarded responses do not commit to one "
                f"answer (a list, a hedge, ...) over {_steps(start + 1, step)} ({n_late:.0f} rewarded), against "
                f"{100 * base:.1f}% over the first quarter ({_steps(1, self.quarter)}, {n_base:.0f} rewarded): the "
                "verifier may be paying for answer shapes, not answers; read some rewarded responses")


def _steps(first: int, last: int) -> str:
    return f"step {last}" if first == last else f"steps {first}-{last}"


def replay(rows: Iterable[Mapping[str, Any]], total_steps: int | None = None) -> DriftWatch | None:
    """`DriftWatch` fed a run's metrics rows (metrics.jsonl) in order, as while training; `total_steps`
    defaults to the last step logged. None without rows."""
    rows = sorted((r for r in rows if isinstance(r.get("step"), (int, float))), key=lambda r: r["step"])
    if not rows:
        return None
    watch = DriftWatch(total_steps or int(rows[-1]["step"]))
    for row in rows:
        watch.add(int(row["step"]), row)
    return watch


def drift_warning(rows: Iterable[Mapping[str, Any]], total_steps: int | None = None) -> str | None:
    """The warning line a run's metrics rows gave, or would have given, while training (`replay`)."""
    watch = replay(rows, total_steps)
    return watch.line if watch else None
