"""medo1's reward for verl: `compute_score`, loaded by verl from this file through

    reward.custom_reward_function.path=<this file>  reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.verifier=judge:openai:gpt-4o-2024-08-06  (and the rest below)

verl's reward managers (`naive`, or `rate_limited` for an API judge) call it once per response, on
the event loop of their reward worker, with the decoded response and the row's `ground_truth` and
`extra_info`; `reward_kwargs` are added to every call. It returns the same keys for every sample:

    score          1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format
    correct        1.0 when verified correct, else 0.0
    formatted      1.0 when well formed, else 0.0
    verify_failed  1.0 when the verifier could not give a verdict (judge unreachable, no verdict)

A failed verification must not end a run of hours: it is scored as wrong (0.1; verl has no way to
leave one sample out of an update, and a correct-looking reward for an unverified answer would be
worse), counted in `verify_failed`, and recorded with its reason in `failed_path` when given.

The verifier is built once per reward worker (per event loop) from `reward_kwargs` and kept: an LLM
judge's requests go through medo1's request cache (`cache`: the sqlite file, shared by the workers)
and at most `concurrency` are in flight per worker (the `rate_limited` manager adds verl's global
request and token rate limits on top).

verl decodes responses with `skip_special_tokens=True`, so a response cut off at the length limit is
scored by its text: one cut before its final response has no format (0.0), as in our PPO.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from medo1.thinking import parse_output
from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, REWARD_WRONG, Verifier, load_verifier

KEYS = ("score", "correct", "formatted", "verify_failed")

_VERIFIERS: dict[tuple, Verifier] = {}


def verifier_for(verifier: str = "match", *, lang: str = "en", prompts: str | None = None, concurrency: int = 32,
                 cache: str | bool = True, threshold: float = 0.5) -> Verifier:
    """The verifier of these settings for the running event loop (clients are bound to their loop)."""
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = None
    key = (verifier, lang, prompts, concurrency, str(cache), threshold, loop_id)
    if key not in _VERIFIERS:
        _VERIFIERS[key] = load_verifier(verifier, concurrency=concurrency, cache=cache, lang=lang, prompts=prompts,
                                        threshold=threshold)
    return _VERIFIERS[key]


def _record_failure(path: str, extra_info: dict | None, ground_truth: str, reason: str) -> None:
    extra = extra_info or {}
    line = {"id": extra.get("id"), "index": extra.get("index"), "split": extra.get("split"),
            "answer": ground_truth, "reason": reason, "time": round(time.time(), 3)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:  # one short append per failure: whole lines from every worker
        f.write(json.dumps(line, ensure_ascii=False) + "\n")


async def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None, *,
                        verifier: str = "match", lang: str = "en", prompts: str | None = None,
                        concurrency: int = 32, cache: str | bool = True, threshold: float = 0.5,
                        failed_path: str | None = None, **_: Any) -> dict[str, float]:
    """medo1's reward of one response (see the module docstring); extra keyword arguments from verl
    (`reward_router_address`, ...) are ignored."""
    parsed = parse_output(solution_str or "")
    if not parsed.well_formed:
        return {"score": REWARD_NO_FORMAT, "correct": 0.0, "formatted": 0.0, "verify_failed": 0.0}
    judge = verifier_for(verifier, lang=lang, prompts=prompts, concurrency=concurrency, cache=cache,
                         threshold=threshold)
    try:
        ok = await judge.verify(parsed.final, str(ground_truth))
    except Exception as err:  # one failed verification must not end the run; it is recorded
        if failed_path:
            _record_failure(failed_path, extra_info, str(ground_truth), f"{type(err).__name__}: {err}")
        return {"score": REWARD_WRONG, "correct": 0.0, "formatted": 1.0, "verify_failed": 1.0}
    return {"score": REWARD_CORRECT if ok else REWARD_WRONG, "correct": float(ok), "formatted": 1.0,
            "verify_failed": 0.0}
