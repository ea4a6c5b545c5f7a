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
judge's requests go through medo1's request cache (`cache`: the sqlite file) and at most `concurrency`
are in flight per worker. verl starts `reward.num_workers` workers, each with its own `rate_limited`
limits, so medo1 hands each worker its share of the run's totals (verl_overrides.judge_limits).

On a cluster (`cache_per_node`) each node keeps its own cache file beside the named one
(`requests.<host>.sqlite`): SQLite's write-ahead log needs every process of a database on one host, and
the shared filesystem of a cluster is seen from many.

An API judge's key (OPENAI_API_KEY, and OPENAI_BASE_URL) reaches the reward workers on every node in memory:
medo1's verl entry (verl_main) puts the launching environment's values in a named Ray actor, and each worker
asks it once, before its judge is built (values already in the worker's environment are kept).

verl scores a reward that outlives its `reward.timeout` as 0.0 with other keys; `verify_timeout` (set
below verl's) ends the verification first, and it counts as a failed verification.

verl's V1 rollout dump keeps only the score of each sample; with `samples_dir` each reward worker appends
one line per sample (a hash of the response and answer, and the four keys) to `<samples_dir>/<host>-<pid>.jsonl`,
from which medo1.integrations.verl_ckpt takes the per-step correct, format and failed-verification rates.

verl decodes responses with `skip_special_tokens=True`, so a response cut off at the length limit is
scored by its text: one cut before its final response has no format (0.0), as in our PPO.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from medo1.thinking import parse_output
from medo1.verify import REWARD_CORRECT, REWARD_NO_FORMAT, REWARD_WRONG, Verifier, load_verifier

KEYS = ("score", "correct", "formatted", "verify_failed")
JUDGE_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL")  # what an API judge (medo1.llm.openai) reads
JUDGE_ENV_ACTOR = "medo1_judge_env"
_ENV_ASKED: list[bool] = []

_VERIFIERS: dict[tuple, Verifier] = {}


def node_cache(cache: str | bool) -> str | bool:
    """This node's own cache file beside `cache` (True: the default one); False stays off."""
    if cache is False:
        return False
    from medo1.llm.cache import default_cache_path

    path = default_cache_path() if cache is True else Path(cache)
    host = "".join(c if c.isalnum() or c in "-." else "_" for c in socket.gethostname()) or "host"
    return str(path.with_name(f"{path.stem}.{host}{path.suffix or '.sqlite'}"))


def verifier_for(verifier: str = "match", *, lang: str = "en", prompts: str | None = None, concurrency: int = 32,
                 cache: str | bool = True, threshold: float = 0.5, cache_per_node: bool = False) -> Verifier:
    """The verifier of these settings for the running event loop (clients are bound to their loop)."""
    if cache_per_node:
        cache = node_cache(cache)
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


async def judge_env_from_ray() -> None:
    """Once per worker: the judge's environment from medo1's named Ray actor, when running under Ray with one."""
    if _ENV_ASKED:
        return
    _ENV_ASKED.append(True)
    try:
        import ray
    except ImportError:
        return
    if not ray.is_initialized():
        return
    try:
        holder = ray.get_actor(JUDGE_ENV_ACTOR)
    except ValueError:  # no API judge's environment was handed out
        return
    for name, value in (await holder.get.remote()).items():
        os.environ.setdefault(name, value)


def sample_key(solution_str: str, ground_truth: str) -> str:
    """What joins a reward record to its line in verl's rollout dump (response and answer)."""
    return hashlib.sha256(f"{solution_str}\0{ground_truth}".encode()).hexdigest()[:20]


def _record_sample(folder: str, solution_str: str, ground_truth: str, extra_info: dict | None,
                   result: dict[str, float]) -> None:
    extra = extra_info or {}
    line = {"key": sample_key(solution_str, ground_truth), "id": extra.get("id"), "split": extra.get("split"),
            **{k: result[k] for k in KEYS}}
    path = Path(folder) / f"{socket.gethostname()}-{os.getpid()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


async def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None, *,
                        verifier: str = "match", lang: str = "en", prompts: str | None = None,
                        concurrency: int = 32, cache: str | bool = True, threshold: float = 0.5,
                        failed_path: str | None = None, verify_timeout: float | None = None,
                        cache_per_node: bool = False, samples_dir: str | None = None, **_: Any) -> dict[str, float]:
    """medo1's reward of one response (see the module docstring); extra keyword arguments from verl
    (`reward_router_address`, ...) are ignored."""
    result = await score_response(data_source, solution_str, ground_truth, extra_info, verifier=verifier, lang=lang,
                                  prompts=prompts, concurrency=concurrency, cache=cache, threshold=threshold,
                                  failed_path=failed_path, verify_timeout=verify_timeout,
                                  cache_per_node=cache_per_node)
    if samples_dir:
        _record_sample(samples_dir, solution_str or "", str(ground_truth), extra_info, result)
    return result


async def score_response(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None, *,
                         verifier: str = "match", lang: str = "en", prompts: str | None = None,
                         concurrency: int = 32, cache: str | bool = True, threshold: float = 0.5,
                         failed_path: str | None = None, verify_timeout: float | None = None,
                         cache_per_node: bool = False) -> dict[str, float]:
    """The reward rule: no format 0.0, else the verifier's verdict (a failed verification counts as wrong)."""
    parsed = parse_output(solution_str or "")
    if not parsed.well_formed:
        return {"score": REWARD_NO_FORMAT, "correct": 0.0, "formatted": 0.0, "verify_failed": 0.0}
    if verifier.startswith("judge:openai:"):
        await judge_env_from_ray()
    judge = verifier_for(verifier, lang=lang, prompts=prompts, concurrency=concurrency, cache=cache,
                         threshold=threshold, cache_per_node=cache_per_node)
    try:
        try:
            ok = await asyncio.wait_for(judge.verify(parsed.final, str(ground_truth)), verify_timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no verdict within {verify_timeout} s") from None
    except Exception as err:  # one failed verification must not end the run; it is recorded
        if failed_path:
            _record_failure(failed_path, extra_info, str(ground_truth), f"{type(err).__name__}: {err}")
        return {"score": REWARD_WRONG, "correct": 0.0, "formatted": 1.0, "verify_failed": 1.0}
    return {"score": REWARD_CORRECT if ok else REWARD_WRONG, "correct": float(ok), "formatted": 1.0,
            "verify_failed": 0.0}
