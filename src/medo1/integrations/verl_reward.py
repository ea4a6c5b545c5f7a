"""medo1's reward for verl: `compute_score`, loaded by verl from this file through

    reward.custom_reward_function.path=<this file>  reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.verifier=judge:openai:gpt-4o-2024-08-06  (and the rest below)

verl's reward managers (`naive`, or `rate_limited` for an API judge) call it once per response, on
the event loop of their reward worker, with the decoded response and the row's `ground_truth` and
`extra_info`; `reward_kwargs` are added to every call. The reward is medo1's one rule
(medo1.verify.score_response, as in our PPO and TRL's GRPO / RLOO), with the same keys for every sample:

    score             1.0 correct / 0.1 wrong / 0.0 without the thinking + final-response format or
                      when cut off by the length limit, plus the overlong penalty
    correct           1.0 when verified correct, else 0.0
    formatted         1.0 when finished and well formed, else 0.0
    truncated         1.0 when cut off by the length limit (as far as it can be told: below)
    verify_failed     1.0 when the verifier could not give a verdict (judge unreachable, no verdict)
    overlong_penalty  DAPO's soft overlong penalty (0.0 when off)
and the reward-hacking watch's terms of the response (medo1.train.hacking.sample_terms, as our PPO and TRL
compute them):
    uncommitted           1.0 when well formed and its final response does not commit to one answer
    final_response_chars  the final response's length in characters (0 without the format)

A failed verification must not end a run of hours: it is scored as wrong (0.1, plus the overlong
penalty; verl has no way to leave one sample out of an update, and a correct-looking reward for an
unverified answer would be worse), counted in `verify_failed`, and recorded with its reason in
`failed_path` when given.

What verl 0.9 gives `compute_score` (verl/experimental/reward_loop/reward_manager/naive.py, limited.py):
`data_source`, `solution_str` (the response's tokens up to the attention mask, decoded with
`skip_special_tokens=True`), `ground_truth`, `extra_info` (the dataset row's, plus `num_turns`,
`rollout_reward_scores` and the agent loop's fields) and the reward kwargs; not the response's token
ids, its length or why generation stopped (its vLLM server reports "stop" and "length" alike as
"completed"). So a response cut off at the length limit is told by re-tokenizing its text with the
policy's tokenizer (`tokenizer`: its path) against the limit (`max_resp_len`: verl's
`data.max_response_length`): a finished response holds at most `max_resp_len` - 1 tokens of text
before its end-of-sequence token, a cut-off one `max_resp_len`. This is exact when the text
re-tokenizes to the tokens it was sampled as (the usual case); where a tokenizer merges differently,
the count is off by those few tokens. Its length for the overlong penalty is that count, plus the
end-of-sequence token of a finished response. Without `tokenizer` and `max_resp_len` a cut-off
response cannot be told and is scored by its text (the overlong penalty then refuses to start).
The overlong penalty (`overlong_buffer_len` > 0, `overlong_penalty_factor`) is this function's, not
verl's `dapo` reward manager's: use it with the `naive` or `rate_limited` manager, or it counts twice.

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
one line per sample (a hash of the response and answer, and the keys above) to `<samples_dir>/<host>-<pid>.jsonl`,
from which medo1.integrations.verl_ckpt takes the per-step correct, format and failed-verification rates and
the reward-hacking watch's metrics.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error
from medo1.train.hacking import SAMPLE_TERMS, sample_terms
from medo1.integrations.verl_settings import is_api_judge
from medo1.verify import REWARD_WRONG, TERMS, Overlong, Verifier, load_verifier, score_response

KEYS = TERMS + SAMPLE_TERMS
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


@lru_cache(maxsize=4)
def _tokenizer(path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def response_tokens(solution_str: str, tokenizer: str | None, max_resp_len: int | None) -> tuple[bool, int | None]:
    """(cut off, length in tokens) of a decoded response, as far as its text tells (module docstring)."""
    if not tokenizer or not max_resp_len:
        return False, None
    n = len(_tokenizer(tokenizer)(solution_str, add_special_tokens=False)["input_ids"])
    return (True, int(max_resp_len)) if n >= max_resp_len else (False, n + 1)


async def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None, *,
                        verifier: str = "match", lang: str = "en", prompts: str | None = None,
                        concurrency: int = 32, cache: str | bool = True, threshold: float = 0.5,
                        failed_path: str | None = None, tokenizer: str | None = None,
                        max_resp_len: int | None = None, overlong_buffer_len: int = 0,
                        overlong_penalty_factor: float = 1.0, verify_timeout: float | None = None,
                        cache_per_node: bool = False, samples_dir: str | None = None, **_: Any) -> dict[str, float]:
    """medo1's reward of one response (see the module docstring); extra keyword arguments from verl
    (`reward_router_address`, ...) are ignored."""
    started = time.monotonic()  # verify_timeout bounds this whole call: verl's timeout does
    overlong = None
    if overlong_buffer_len:
        if not tokenizer or not max_resp_len:
            raise Medo1Error("verl reward: overlong_buffer_len needs the reward kwargs tokenizer (the policy's path) "
                             "and max_resp_len (data.max_response_length) to count a response's tokens")
        overlong = Overlong(int(max_resp_len), int(overlong_buffer_len), float(overlong_penalty_factor))
    truncated, length = response_tokens(solution_str or "", tokenizer, max_resp_len)
    if is_api_judge(verifier):
        await judge_env_from_ray()
    judge = verifier_for(verifier, lang=lang, prompts=prompts, concurrency=concurrency, cache=cache,
                         threshold=threshold, cache_per_node=cache_per_node)
    left = None if verify_timeout is None else max(0.0, verify_timeout - (time.monotonic() - started))
    result = await score_response(solution_str or "", str(ground_truth), _Bounded(judge, left, verify_timeout),
                                  truncated=truncated, length=length, overlong=overlong)
    terms = {**result.terms(), **sample_terms(solution_str or "", result.formatted)}
    if result.verify_failed:  # no way to leave it out: scored as wrong, and recorded
        terms["score"] = REWARD_WRONG + result.overlong_penalty
        if failed_path:
            _record_failure(failed_path, extra_info, str(ground_truth), result.error or "no verdict")
    if samples_dir:
        _record_sample(samples_dir, solution_str or "", str(ground_truth), extra_info, terms)
    return terms


class _Bounded:
    """A verifier whose verdict must come within `left` seconds (None: no bound; what is left of
    `timeout` once the response was read); later is a failed verification, so it is medo1's rule that
    scores it, not verl's timeout."""

    def __init__(self, verifier: Verifier, left: float | None, timeout: float | None):
        self.verifier, self.left, self.timeout, self.name = verifier, left, timeout, verifier.name

    async def verify(self, response: str, reference: str) -> bool:
        try:
            return await asyncio.wait_for(self.verifier.verify(response, reference), self.left)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no verdict within {self.timeout} s") from None
