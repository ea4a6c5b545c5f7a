"""The reward-hacking watch (medo1.train.hacking): the same per-step metrics from the same samples in every
engine (our PPO's scorer, TRL's reward function, verl's compute_score -> its records -> metrics.jsonl), the
warning rule, and real runs whose scripted policy drifts into lists that a credulous verifier pays for:
the warning comes once, on stderr, while training (verl: at its conversion)."""

from __future__ import annotations

import asyncio
import json

import pytest

from medo1.integrations.verl_ckpt import import_metrics
from medo1.integrations.verl_reward import compute_score
from medo1.train.common import read_metrics
from medo1.train.hacking import MIN_REWARDED, STEP_METRICS, DriftWatch, drift_warning
from medo1.train.reward import RewardScorer, decode_responses, trl_reward_func
from medo1.verify import load_verifier
from tests.test_reward_rule import MAX, final, token_ids

COMMITTED = final("The answer is aspirin.")
LISTED = final("- Aspirin\n- Heparin\n- Clopidogrel")  # names the reference among others
HEDGED = final("Aspirin or heparin.")
WRONG = final("The answer is heparin.")
NO_FORMAT = "The answer is aspirin."
CUT = final("The answer is aspirin. " + "It blocks platelet cyclooxygenase. " * 60)
BATCH = [(COMMITTED, "eos"), (LISTED, "eos"), (HEDGED, "eos"), (WRONG, "eos"), (NO_FORMAT, "eos"), (CUT, "cut")]
WARNING = "warning: possible reward hacking"


def credulous(body, headers):
    """A judge a list fools: True whenever the response names the reference."""
    return "True" if "aspirin" in body["messages"][-1]["content"].split("</response>")[0].lower() else "False"


class Credulous:
    """The same judge in process, for the training runs."""

    name = "credulous"

    async def verify(self, response: str, reference: str) -> bool:
        return reference.lower() in response.lower()


def test_every_engine_watches_the_same_samples_the_same_way(openai_server, tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    openai_server.handler = credulous
    spec = f"judge:openai:j@{openai_server.url}"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    eos = tokenizer.eos_token_id
    responses = [token_ids(tokenizer, text, ending) for text, ending in BATCH]
    answers = ["aspirin"] * len(BATCH)
    finals = [COMMITTED, LISTED, HEDGED, WRONG]  # the well-formed, finished ones
    expected = {"uncommitted_rate": 2 / 3, "rewarded_responses": 3.0, "no_format_rate": 2 / 6,
                "final_response_chars": sum(len(t.split("## Final Response\n\n")[1]) for t in finals) / 4}

    # our PPO: the scorer, then the tally summed over the processes (one here) as the trainer does
    texts, finished, lengths = decode_responses(tokenizer, responses, [eos])
    judge = load_verifier(spec, cache=False)
    scorer = RewardScorer(judge)
    try:
        scored = scorer.score(texts, answers, finished, lengths)
    finally:
        scorer.run(judge.model.aclose())
        scorer.close()
    assert scored.rewards == [1.0, 1.0, 1.0, 0.1, 0.0, 0.0]  # the judge is fooled by the list and the hedge
    ppo = {k: v for k, v in scored.metrics().items() if k in STEP_METRICS}
    assert ppo == pytest.approx(expected) and set(ppo) == set(expected)

    # TRL's reward function logs the same through log_metric
    logged, judge = {}, load_verifier(spec, cache=False)
    func = trl_reward_func(judge, [eos])

    async def trl_batch():
        try:
            await func(prompts=[[{"role": "user", "content": "Q?"}]] * len(BATCH),
                       completions=[[{"role": "assistant", "content": t}] for t in texts], completion_ids=responses,
                       answer=answers, log_metric=logged.__setitem__, trainer_state=None)
        finally:
            await judge.model.aclose()

    asyncio.run(trl_batch())
    assert {k: v for k, v in logged.items() if k in STEP_METRICS} == pytest.approx(expected)

    # verl: compute_score's per-sample terms -> its records -> verl_ckpt's metrics.jsonl
    verl = tmp_path / "verl"

    async def score_all():
        return [await compute_score("medo1/test", t, "aspirin", {"id": f"p{i}"}, verifier=spec, cache=False,
                                    tokenizer=str(tiny_model_dir), max_resp_len=MAX, samples_dir=str(verl / "rewards"))
                for i, t in enumerate(texts)]

    terms = asyncio.run(score_all())
    assert [t["uncommitted"] for t in terms] == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert [t["final_response_chars"] > 0 for t in terms] == [True] * 4 + [False] * 2
    _verl_step(verl, 1, texts, [t["score"] for t in terms])
    assert import_metrics(verl, tmp_path / "rl") == 1
    (row,) = read_metrics(tmp_path / "rl")
    assert {k: v for k, v in row.items() if k in STEP_METRICS} == pytest.approx(expected)


def _verl_step(verl, step, texts, scores):
    """What verl writes for a step: its rollout dump (as its trainer's _write_generations) and a metrics line."""
    (verl / "rollouts").mkdir(parents=True, exist_ok=True)
    (verl / "rollouts" / f"{step}.jsonl").write_text("".join(
        json.dumps({"input": "q", "output": t, "gts": "aspirin", "score": s, "step": step}) + "\n"
        for t, s in zip(texts, scores)))
    with open(verl / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": step, "data": {"critic/score/mean": sum(scores) / len(scores)}}) + "\n")


# ---------------------------------------------------------------- the warning rule


def _rows(rates, rewarded=32):
    return [{"step": i + 1, "uncommitted_rate": r, "rewarded_responses": rewarded} for i, r in enumerate(rates)]


def test_the_warning_compares_the_first_quarter_with_the_latest_window():
    # 8 steps: the first quarter is steps 1-2, the latest window the last 2 steps (never the first quarter's)
    rising = [0.05, 0.05, 0.06, 0.08, 0.09, 0.10, 0.12, 0.15]
    watch = DriftWatch(8)
    lines = [watch.add(r["step"], r) for r in _rows(rising)]
    # step 3: 6% (< 2 x 5%); step 4: 7%; step 5: 8.5%; step 6: 9.5%; step 7: 11% >= 10% and 6 points up
    assert lines[:6] == [None] * 6 and lines[6].startswith(WARNING) and lines[7] is None  # once
    assert "11.0% of rewarded responses" in lines[6] and "over steps 6-7 (64 rewarded)" in lines[6]
    assert "against 5.0% over the first quarter (steps 1-2, 64 rewarded)" in lines[6]
    assert drift_warning(_rows(rising)) == lines[6]  # the report replays the same rule

    # the latest window never reaches back into the first quarter: at step 3 it is step 3 alone
    early = drift_warning(_rows([0.0, 0.1, 0.11] + [0.1] * 5))
    assert "11.0% of rewarded responses do not commit to one answer (a list, a hedge, ...) over step 3 (32 " \
           "rewarded), against 5.0% over the first quarter (steps 1-2, 64 rewarded)" in early
    assert drift_warning(_rows([0.05] * 8)) is None  # steady
    assert drift_warning(_rows([0.01, 0.01, 0.01, 0.02, 0.02, 0.03, 0.03, 0.03])) is None  # tripled, 2 points up
    assert drift_warning(_rows([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.06, 0.06])) is not None  # from nothing, 6 points
    # small denominators: the same shares over too few rewarded responses say nothing
    few = MIN_REWARDED // 2 - 1
    assert drift_warning(_rows(rising, rewarded=few)) is None
    assert drift_warning(_rows(rising, rewarded=few + 1)) is not None
    # rows of other metrics pass by; a step without a rewarded response (no uncommitted_rate) is no 0%
    mixed = [x for r in _rows(rising) for x in (r, {"step": r["step"], "train_runtime": 1.0})]
    assert drift_warning(mixed) == lines[6]
    gap = [{"step": 1, "rewarded_responses": 0.0}, *_rows(rising)[1:]]
    assert "against 5.0% over the first quarter (steps 1-2, 32 rewarded)" in drift_warning(gap)


# ---------------------------------------------------------------- real runs that drift into lists


def drifting(step: int, steps: int, n: int) -> list[str]:
    """The scripted policy's final answers at `step` (0-based) of `steps`: a share step / (steps - 1) lists."""
    k = round(step / (steps - 1) * n)
    return [LISTED if i < k else COMMITTED for i in range(n)]


class DriftingScorer:
    """Our PPO's scorer (RewardScorer: score_batch and the watch) under a credulous judge, scoring the
    scripted policy's answers in place of the tiny model's."""

    def __init__(self, steps: int):
        self.steps, self.step, self.scorer = steps, 0, RewardScorer(Credulous())

    def score(self, outputs, references, finished=None, lengths=None):
        texts = drifting(self.step, self.steps, len(outputs))
        self.step += 1
        return self.scorer.score(texts, references)


def _problems(tmp_path, n=16):
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps({"question": f"Question number {i}?", "answer": "aspirin"}) + "\n"
                            for i in range(n)))
    return path


def test_ppo_drifting_into_lists_logs_the_watch_and_warns_once(tiny_model_dir, tmp_path, capfd):
    from medo1.train.ppo import PPOConfig, train_ppo

    steps, out = 8, tmp_path / "ppo"
    scorer = DriftingScorer(steps)
    try:
        train_ppo(PPOConfig(problems=str(_problems(tmp_path)), model=str(tiny_model_dir), out=str(out),
                            batch_size=16, micro_batch_size=16, max_new_tokens=4, bf16=False, save_steps=100,
                            max_steps=steps), scorer)
    finally:
        scorer.scorer.close()
    rows = read_metrics(out)
    rates = [r["uncommitted_rate"] for r in rows]
    assert rates == pytest.approx([round(s / 7 * 16) / 16 for s in range(steps)])  # 0 -> 1
    assert all(r["rewarded_responses"] == 16 and r["no_format_rate"] == 0.0 for r in rows)
    assert rows[-1]["final_response_chars"] > rows[0]["final_response_chars"]  # lists are longer
    printed = [line for line in capfd.readouterr().err.splitlines() if WARNING in line]
    assert len(printed) == 1 and "over steps 3-4" in printed[0]  # at step 4: steps 3-4 against 1-2
    assert printed[0] == drift_warning(rows)


def test_grpo_drifting_into_lists_logs_the_watch_and_warns_once(tiny_model_dir, tmp_path, capfd):
    from medo1.train.trl_rl import TRLRLSettings, train_online

    steps = 8
    inner = trl_reward_func(Credulous(), [0])

    async def scripted(prompts, completions, completion_ids, answer, trainer_state=None, **columns):
        texts = drifting(trainer_state.global_step, steps, len(completions))
        return await inner(prompts, texts, [[0]] * len(texts), answer, trainer_state=trainer_state, **columns)

    settings = TRLRLSettings(algo="grpo", problems=str(_problems(tmp_path)), model=str(tiny_model_dir),
                             out=str(tmp_path / "grpo"), batch_size=16, micro_batch_size=16, max_new_tokens=4,
                             max_steps=steps, bf16=False, save_steps=100, num_generations=2)
    rows = [r for r in read_metrics(train_online(settings, reward_func=scripted)) if "uncommitted_rate" in r]
    assert [r["uncommitted_rate"] for r in rows] == pytest.approx([round(s / 7 * 16) / 16 for s in range(steps)])
    assert all(r["rewarded_responses"] == 16 for r in rows)
    printed = [line for line in capfd.readouterr().err.splitlines() if WARNING in line]
    assert len(printed) == 1 and printed[0] == drift_warning(rows)


def test_verl_drifting_into_lists_warns_at_its_conversion(openai_server, tmp_path, capfd):
    openai_server.handler = credulous
    steps, verl = 8, tmp_path / "verl"
    for step in range(steps):
        texts = drifting(step, steps, 16)

        async def score_all():
            return [await compute_score("medo1/test", t, "aspirin", {"id": f"p{step}-{i}"}, cache=False,
                                        verifier=f"judge:openai:j@{openai_server.url}",
                                        samples_dir=str(verl / "rewards")) for i, t in enumerate(texts)]

        _verl_step(verl, step + 1, texts, [t["score"] for t in asyncio.run(score_all())])
    assert import_metrics(verl, tmp_path / "rl") == steps
    rows = read_metrics(tmp_path / "rl")
    assert [r["uncommitted_rate"] for r in rows] == pytest.approx([round(s / 7 * 16) / 16 for s in range(steps)])
    printed = [line for line in capfd.readouterr().err.splitlines() if WARNING in line]
    assert len(printed) == 1 and printed[0] == drift_warning(rows)
