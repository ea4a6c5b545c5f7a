"""One reward rule for every RL engine: our PPO's scorer, TRL's GRPO / RLOO reward function and verl's
`compute_score` give the same reward to the same sampled tokens (formats, cut-off responses, the answer
shapes a policy would try), and DAPO's overlong penalty is the rule's option, logged by each engine."""

from __future__ import annotations

import asyncio
import json

import pytest

from medo1.errors import Medo1Error
from medo1.integrations.verl_reward import compute_score
from medo1.train.common import read_metrics
from medo1.train.ppo import PPOConfig
from medo1.train.reward import RewardScorer, decode_responses, score_batch, trl_reward_func
from medo1.train.trl_rl import TRLRLSettings, train_online
from medo1.verify import MatchVerifier, Overlong, overlong_penalty, score_response

MAX = 120  # the generation limit of these tests, in tokens
BUFFER = 40  # the overlong buffer: the penalty starts after 80 tokens
THINK = "## Thinking\n\nChest pain radiating to the left arm; he should chew something now.\n\n"


def final(answer: str) -> str:
    return f"{THINK}## Final Response\n\n{answer}"


# (name, text, how it ends, reward by the rule); "eos": finished; "cut": cut off at MAX tokens, no EOS;
# "eos at MAX": finished with its EOS as token MAX; "eos in buffer": finished at 100 tokens
CASES = [
    ("correct", final("The answer is aspirin."), "eos", 1.0),
    ("correct, bold", final("**Aspirin**"), "eos", 1.0),
    ("headers in other case and spacing", "## thinking\n\nHmm.\n\n##  final response\n\nAspirin.", "eos", 1.0),
    ("closed <think> then the answer", final("<think>aspirin or heparin?</think>Aspirin."), "eos", 1.0),
    ("correct, finished at the limit", final("The answer is aspirin."), "eos at MAX", 1.0),
    ("correct, finished in the buffer", final("The answer is aspirin."), "eos in buffer", 1.0),
    ("wrong", final("The answer is heparin."), "eos", 0.1),
    ("hedge", final("Aspirin or heparin."), "eos", 0.1),
    ("rejection", final("Not aspirin; the answer is heparin."), "eos", 0.1),
    ("hedge over three", final("Aspirin, heparin or clopidogrel."), "eos", 0.1),
    ("other language", final("答案是阿司匹林。"), "eos", 0.1),
    ("no format", "The answer is aspirin.", "eos", 0.0),
    ("<think> format only", "<think>Chest pain.</think>\n\nAspirin.", "eos", 0.0),
    ("thinking only", "## Thinking\n\nAspirin, I think.", "eos", 0.0),
    ("final only", "## Final Response\n\nAspirin.", "eos", 0.0),
    ("empty thinking", "## Thinking\n\n## Final Response\n\nAspirin.", "eos", 0.0),
    ("empty final", f"{THINK}## Final Response\n\n", "eos", 0.0),
    ("empty output", "", "eos", 0.0),
    ("headers reversed", "## Final Response\n\nAspirin.\n\n## Thinking\n\nHmm.", "eos", 0.0),
    ("a ## Thinking line in the final response", final("Aspirin.\n\n## Thinking\n\nOr heparin?"), "eos", 0.0),
    ("two final responses", final("Heparin.\n\n## Final Response\n\nAspirin."), "eos", 0.0),
    ("unclosed <think> in the final response", final("<think>aspirin, maybe"), "eos", 0.0),
    ("nothing after </think> in the final response", final("<think>Aspirin.</think>"), "eos", 0.0),
    ("cut off in the thinking", "## Thinking\n\n" + "Hmm, wait, chest pain. " * 40, "cut", 0.0),
    ("cut off inside the final response", final("The answer is aspirin. " + "It blocks platelet cyclooxygenase. " * 60),
     "cut", 0.0),
]

# Shapes whose reward is the verifier's to get right (medo1.verify.match), not the rule's: every engine must
# still give them the same reward.
VERIFIER_SHAPES = [final(t) for t in ("1. Aspirin\n2. Heparin\n3. Clopidogrel", "Is it aspirin?",
                                      "Aspirin. Heparin.", "- Aspirin\n- Heparin")]


def token_ids(tokenizer, text: str, ending: str) -> list[int]:
    """The sampled tokens of a response: its text's tokens, ended as the case says."""
    eos = tokenizer.eos_token_id
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if ending == "cut":
        assert len(ids) > MAX
        return ids[:MAX]
    target = {"eos": None, "eos at MAX": MAX, "eos in buffer": MAX - BUFFER // 2}[ending]
    if target is not None:  # pad the thinking until the response is `target` tokens with its EOS
        head, tail = text.split("\n\n## Final Response")
        while len(ids) < target - 1:
            head += " hmm" if len(ids) < target - 8 else "x"
            ids = tokenizer(head + "\n\n## Final Response" + tail, add_special_tokens=False)["input_ids"]
        assert len(ids) == target - 1, "the padding overshot: adjust the filler"
    assert len(ids) < MAX
    return ids + [eos]


def ppo_rewards(tokenizer, responses, answers, overlong):
    texts, finished, lengths = decode_responses(tokenizer, responses, [tokenizer.eos_token_id])
    scorer = RewardScorer(MatchVerifier(), overlong=overlong)
    try:
        return scorer.score(texts, answers, finished, lengths).rewards
    finally:
        scorer.close()


def trl_rewards(tokenizer, responses, answers, overlong, logged=None):
    func = trl_reward_func(MatchVerifier(), [tokenizer.eos_token_id], overlong=overlong)
    completions = [[{"role": "assistant", "content": tokenizer.decode(r, skip_special_tokens=True)}]
                   for r in responses]  # as TRL decodes them
    return asyncio.run(func(prompts=[[{"role": "user", "content": "Q?"}]] * len(responses), completions=completions,
                            completion_ids=responses, answer=answers, id=[f"p{i}" for i in range(len(responses))],
                            log_metric=(lambda k, v: logged.__setitem__(k, v)) if logged is not None else None,
                            trainer_state=None))


def verl_rewards(decoder, responses, answers, **reward_kwargs):
    """compute_score as verl's reward managers call it: the response decoded without special tokens."""
    async def run():
        return [await compute_score(data_source="medo1/test",
                                    solution_str=decoder.decode(r, skip_special_tokens=True), ground_truth=a,
                                    extra_info={"id": f"p{i}", "index": i, "split": "train"}, verifier="match",
                                    **reward_kwargs)
                for i, (r, a) in enumerate(zip(responses, answers))]

    return asyncio.run(run())


@pytest.fixture(scope="module")
def sampled(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    responses = [token_ids(tokenizer, text, ending) for _, text, ending, _ in CASES]
    for r in responses:  # verl sees text only: these re-tokenize to the tokens they were sampled as
        text_ids = [t for t in r if t != tokenizer.eos_token_id]
        assert tokenizer(tokenizer.decode(r, skip_special_tokens=True), add_special_tokens=False)["input_ids"] == text_ids
    return tokenizer, responses, ["aspirin"] * len(CASES)


def test_every_engine_gives_the_rule_reward_to_the_same_outputs(sampled, tiny_model_dir):
    tokenizer, responses, answers = sampled
    expected = [reward for *_, reward in CASES]
    ppo = ppo_rewards(tokenizer, responses, answers, None)
    trl = trl_rewards(tokenizer, responses, answers, None)
    verl = verl_rewards(tokenizer, responses, answers, tokenizer=str(tiny_model_dir), max_resp_len=MAX)
    names = [name for name, *_ in CASES]
    assert dict(zip(names, ppo)) == dict(zip(names, expected))
    assert dict(zip(names, trl)) == dict(zip(names, expected))
    assert dict(zip(names, (v["score"] for v in verl))) == dict(zip(names, expected))
    # the same terms too: the cut-off ones are truncated, not formatted, never a verification failure
    truncated = [ending == "cut" for _, _, ending, _ in CASES]
    assert [v["truncated"] for v in verl] == [float(t) for t in truncated]
    assert all(v["verify_failed"] == 0.0 and v["overlong_penalty"] == 0.0 for v in verl)
    assert [v["formatted"] for v in verl] == [float(r > 0.0) for r in expected]
    assert [v["correct"] for v in verl] == [float(r == 1.0) for r in expected]
    shapes = [token_ids(tokenizer, text, "eos") for text in VERIFIER_SHAPES]
    answers = ["aspirin"] * len(shapes)
    ppo = ppo_rewards(tokenizer, shapes, answers, None)
    assert trl_rewards(tokenizer, shapes, answers, None) == ppo
    assert [v["score"] for v in verl_rewards(tokenizer, shapes, answers)] == ppo


def test_every_engine_gives_the_same_overlong_penalty(sampled, tiny_model_dir):
    tokenizer, responses, answers = sampled
    overlong = Overlong(MAX, BUFFER)
    expected = [reward + overlong_penalty(len(r), MAX, BUFFER) for (*_, reward), r in zip(CASES, responses)]
    by_name = dict(zip((name for name, *_ in CASES), expected))
    assert by_name["correct, finished at the limit"] == pytest.approx(0.0)  # 1.0 - 1
    assert by_name["correct, finished in the buffer"] == pytest.approx(0.5)  # 1.0 - 20 / 40
    assert by_name["cut off inside the final response"] == pytest.approx(-1.0)  # no format, at the limit
    assert by_name["correct"] == 1.0  # short: no penalty
    logged = {}
    ppo = ppo_rewards(tokenizer, responses, answers, overlong)
    trl = trl_rewards(tokenizer, responses, answers, overlong, logged)
    verl = verl_rewards(tokenizer, responses, answers, overlong_buffer_len=BUFFER,
                        tokenizer=str(tiny_model_dir), max_resp_len=MAX)
    assert ppo == pytest.approx(expected) and trl == pytest.approx(expected)
    assert [v["score"] for v in verl] == pytest.approx(expected)
    penalties = [overlong_penalty(len(r), MAX, BUFFER) for r in responses]
    assert [v["overlong_penalty"] for v in verl] == pytest.approx(penalties)
    assert logged["overlong_penalty"] == pytest.approx(sum(penalties) / len(penalties))  # TRL's own term
    assert set(logged) == {"correct_rate", "format_rate", "truncated_rate", "verify_failed_rate", "overlong_penalty",
                           "uncommitted_rate", "rewarded_responses", "final_response_chars", "no_format_rate"}
    assert logged["truncated_rate"] == pytest.approx(2 / len(CASES))


def test_verl_reward_loop_gives_the_rule_reward(sampled, tiny_model_dir, tmp_path):
    """The same tokens through verl's own reward loop worker and naive manager (in the verl environment only):
    verl decodes them, calls compute_score with the reward kwargs, and gets the rule's rewards."""
    pytest.importorskip("verl")
    import copy

    import numpy as np
    import torch
    from omegaconf import open_dict
    from verl import DataProto
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker, migrate_legacy_reward_impl

    from tests.test_verl import _config

    tokenizer, responses, answers = sampled
    config = _config(tmp_path, tiny_model_dir)
    with open_dict(config):
        config.reward.custom_reward_function.reward_kwargs.update(
            tokenizer=str(tiny_model_dir), max_resp_len=MAX, overlong_buffer_len=BUFFER)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Q?"}], add_generation_prompt=True,
                                           tokenize=True, return_dict=False)
    pad = tokenizer.pad_token_id
    response_t = torch.tensor([r + [pad] * (MAX - len(r)) for r in responses])
    prompt_t = torch.tensor([prompt] * len(responses))
    mask = torch.tensor([[1] * len(prompt) + [1] * len(r) + [0] * (MAX - len(r)) for r in responses])
    batch = DataProto.from_dict(
        tensors={"prompts": prompt_t, "responses": response_t, "attention_mask": mask,
                 "input_ids": torch.cat([prompt_t, response_t], dim=1)},
        non_tensors={"data_source": np.array(["medo1/test"] * len(responses), dtype=object),
                     "reward_model": np.array([{"style": "rule", "ground_truth": a} for a in answers], dtype=object),
                     "extra_info": np.array([{"id": f"p{i}"} for i in range(len(responses))], dtype=object)})

    async def run():
        worker = RewardLoopWorker(migrate_legacy_reward_impl(copy.deepcopy(config)))
        return await worker.compute_score_batch(batch)

    outputs = asyncio.run(run())
    expected = [reward + overlong_penalty(len(r), MAX, BUFFER) for (*_, reward), r in zip(CASES, responses)]
    assert [o["reward_score"] for o in outputs] == pytest.approx(expected)
    assert [o["reward_extra_info"]["truncated"] for o in outputs] == [float(e == "cut") for _, _, e, _ in CASES]


def test_verl_without_the_limit_cannot_tell_a_cut_off_response(sampled):
    """verl hands compute_score text only: without the tokenizer and the limit, a cut-off response is scored by
    its text (the documented approximation), and the overlong penalty refuses to start."""
    tokenizer, responses, answers = sampled
    cut = next(i for i, (name, *_) in enumerate(CASES) if name == "cut off inside the final response")
    (blind,) = verl_rewards(tokenizer, [responses[cut]], ["aspirin"])
    assert blind["score"] == 1.0 and blind["truncated"] == 0.0
    with pytest.raises(Medo1Error, match="tokenizer"):
        verl_rewards(tokenizer, [responses[cut]], ["aspirin"], overlong_buffer_len=BUFFER)


class Broken:
    name = "broken"

    async def verify(self, response, reference):
        raise RuntimeError("judge down")


async def test_a_failed_verification_is_no_signal_but_a_missing_answer_is_no_format():
    out = final("Aspirin.\n\n## Thinking\n\nOr heparin?")
    r = await score_response(out, "aspirin", Broken())  # never reaches the verifier: no format, no failure
    assert (r.score, r.formatted, r.verify_failed) == (0.0, False, False)
    r = await score_response(final("Aspirin."), "aspirin", Broken(), length=MAX, overlong=Overlong(MAX, BUFFER))
    assert r.score is None and r.verify_failed and r.formatted and "judge down" in r.error
    assert r.overlong_penalty == -1.0  # its own term, known without a verdict
    scores = await score_batch(Broken(), [final("Aspirin."), "Aspirin."], ["aspirin"] * 2)
    assert scores.rewards == [None, 0.0] and scores.metrics()["verify_failed_rate"] == 0.5


def test_verl_scores_a_failed_verification_as_wrong_and_records_it(tmp_path, monkeypatch):
    import medo1.integrations.verl_reward as verl_reward

    monkeypatch.setattr(verl_reward, "verifier_for", lambda *a, **k: Broken())
    failed = tmp_path / "verl.failed.jsonl"
    terms = asyncio.run(compute_score("medo1/test", final("Aspirin."), "aspirin", {"id": "p7"},
                                      failed_path=str(failed)))
    assert terms["score"] == 0.1 and terms["verify_failed"] == 1.0 and terms["formatted"] == 1.0
    (line,) = [json.loads(x) for x in failed.read_text().splitlines()]
    assert line["id"] == "p7" and "judge down" in line["reason"]


# ---------------------------------------------------------------- the overlong penalty


def test_overlong_penalty_at_its_boundaries():
    # DAPO: L_max 20480, L_cache 4096
    assert overlong_penalty(16384, 20480, 4096) == 0.0  # |y| = L_max - L_cache: no penalty yet
    assert overlong_penalty(16385, 20480, 4096) == pytest.approx(-1 / 4096)  # the first token past it
    assert overlong_penalty(18432, 20480, 4096) == pytest.approx(-0.5)
    assert overlong_penalty(20480, 20480, 4096) == pytest.approx(-1.0)  # |y| = L_max
    assert overlong_penalty(20481, 20480, 4096) == -1.0  # beyond: -1
    assert overlong_penalty(18432, 20480, 4096, factor=0.5) == pytest.approx(-0.25)
    assert overlong_penalty(1, 100, 100) == pytest.approx(-0.01)  # a buffer as long as the limit
    with pytest.raises(Medo1Error, match="overlong buffer 0"):
        Overlong(100, 0)
    with pytest.raises(Medo1Error, match="overlong buffer 200"):
        Overlong(100, 200)


def test_overlong_is_off_by_default_and_changes_nothing():
    assert PPOConfig(problems="p", model="m", out="o").overlong() is None
    assert TRLRLSettings(algo="grpo", problems="p", model="m", out="o").overlong() is None
    assert PPOConfig(problems="p", model="m", out="o", overlong_buffer=300).overlong() == Overlong(1300, 300)
    r = asyncio.run(score_response(final("Aspirin."), "aspirin", MatchVerifier(), length=10**6))
    assert r.score == 1.0 and r.overlong_penalty == 0.0
    with pytest.raises(Medo1Error, match="dpo"):
        from medo1.train.trl_rl import train_trl_rl

        train_trl_rl(TRLRLSettings(algo="dpo", problems="p", model="m", out="o", overlong_buffer=10))


def _problems(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps({"question": f"Question number {i}?", "answer": "aspirin"}) + "\n"
                            for i in range(8)))
    return path


def test_ppo_logs_the_overlong_penalty(tiny_model_dir, tmp_path):
    """A random tiny model writes no format and runs into the 6-token limit: its reward is the penalty alone."""
    from typer.testing import CliRunner

    from medo1.cli import app

    out = tmp_path / "ppo"
    result = CliRunner().invoke(app, [
        "rl", "--algo", "ppo", "--problems", str(_problems(tmp_path)), "--model", str(tiny_model_dir), "--out",
        str(out), "--batch-size", "4", "--max-steps", "1", "--max-new-tokens", "6", "--overlong-buffer", "2",
        "--no-bf16"])
    assert result.exit_code == 0, result.output
    (row,) = read_metrics(out)
    assert -1.0 <= row["overlong_penalty"] < 0.0 and row["reward"] == pytest.approx(row["overlong_penalty"])
    assert {"correct_rate", "format_rate", "truncated_rate", "verify_failed_rate"} <= set(row)


def test_grpo_logs_the_overlong_penalty(tiny_model_dir, tmp_path):
    settings = TRLRLSettings(algo="grpo", problems=str(_problems(tmp_path)), model=str(tiny_model_dir),
                             out=str(tmp_path / "grpo"), batch_size=4, micro_batch_size=4, max_new_tokens=6,
                             max_steps=1, bf16=False, save_steps=100, num_generations=2, overlong_buffer=2)
    rows = [r for r in read_metrics(train_online(settings)) if "loss" in r]
    assert len(rows) == 1 and -1.0 <= rows[0]["overlong_penalty"] < 0.0
    assert rows[0]["reward"] == pytest.approx(rows[0]["overlong_penalty"])  # no format: the penalty alone
