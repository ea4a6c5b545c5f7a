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
judge's requests go through medo1's request cache (`cache`: the sqlite file, shared by the workers)
and at most `concurrency` are in flight per worker (the `rate_limited` manager adds verl's global
request and token rate limits on top).
"""

from __future__ import annotations

import asyncio
import json
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error
from medo1.verify import REWARD_WRONG, TERMS, Overlong, Verifier, load_verifier, score_response

KEYS = TERMS

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
                        overlong_penalty_factor: float = 1.0, **_: Any) -> dict[str, float]:
    """medo1's reward of one response (see the module docstring); extra keyword arguments from verl
    (`reward_router_address`, ...) are ignored."""
    overlong = None
    if overlong_buffer_len:
        if not tokenizer or not max_resp_len:
            raise Medo1Error("verl reward: overlong_buffer_len needs the reward kwargs tokenizer (the policy's path) "
                             "and max_resp_len (data.max_response_length) to count a response's tokens")
        overlong = Overlong(int(max_resp_len), int(overlong_buffer_len), float(overlong_penalty_factor))
    truncated, length = response_tokens(solution_str or "", tokenizer, max_resp_len)
    judge = verifier_for(verifier, lang=lang, prompts=prompts, concurrency=concurrency, cache=cache,
                         threshold=threshold)
    result = await score_response(solution_str or "", str(ground_truth), judge, truncated=truncated, length=length,
                                  overlong=overlong)
    terms = result.terms()
    if result.verify_failed:  # no way to leave it out: scored as wrong, and recorded
        terms["score"] = REWARD_WRONG + result.overlong_penalty
        if failed_path:
            _record_failure(failed_path, extra_info, str(ground_truth), result.error or "no verdict")
    return terms
