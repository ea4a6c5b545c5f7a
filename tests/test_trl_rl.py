"""GRPO / RLOO / DPO on TRL with a tiny random model: the reward bridge, pair picking, one short real run each."""

from __future__ import annotations

import json
import random

import pytest

from medo1.errors import Medo1Error
from medo1.train.common import read_metrics
from medo1.train.reward import Scores, trl_reward_func
from medo1.train.trl_rl import TRLRLSettings, pick_pair, sample_dpo_pairs, train_dpo, train_online
from medo1.verify import load_verifier

GOOD = "## Thinking\n\nHmm, chest pain.\n\n## Final Response\n\nAspirin"
WRONG = "## Thinking\n\nHmm.\n\n## Final Response\n\nHeparin"


async def test_trl_reward_function_verifies_a_batch_and_logs_rates():
    logged, failures = {}, []
    func = trl_reward_func(load_verifier("match"), eos_token_ids=[2], failures=failures)
    completions = [[{"role": "assistant", "content": t}] for t in (GOOD, WRONG, "Aspirin", GOOD)]
    rewards = await func(
        prompts=[[{"role": "user", "content": "Q?"}]] * 4, completions=completions,
        completion_ids=[[7, 2], [7, 2], [7, 2], [7, 8]],  # the last one was cut off (no EOS)
        answer=["aspirin"] * 4, log_metric=lambda name, value: logged.setdefault(name, value), trainer_state=None,
    )
    assert rewards == [1.0, 0.1, 0.0, 0.0]
    assert logged == {"correct_rate": 0.25, "format_rate": 0.5, "truncated_rate": 0.25}
    assert failures == []


def test_pick_pair_needs_a_correct_and_an_incorrect_response():
    rng = random.Random(0)
    assert pick_pair([1.0, 0.1, 0.0, None, 1.0], rng) in [(0, 1), (0, 2), (4, 1), (4, 2)]
    assert pick_pair([0.1, 0.0, None], rng) == "no correct response among 3"
    assert pick_pair([1.0, 1.0, None], rng) == "all 2 verified responses are correct"


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps({"question": f"Question number {i}?", "answer": "aspirin"}) + "\n"
                            for i in range(8)))
    return path


def _settings(algo, tiny_model_dir, problems_file, out, **kw) -> TRLRLSettings:
    base = dict(algo=algo, problems=str(problems_file), model=str(tiny_model_dir), out=str(out), batch_size=4,
                micro_batch_size=4, max_new_tokens=6, max_steps=2, bf16=False, save_steps=100, learning_rate=1e-4)
    base.update(kw)
    return TRLRLSettings(**base)


def test_grpo_runs_with_the_verifier_reward(tiny_model_dir, problems_file, tmp_path):
    out = train_online(_settings("grpo", tiny_model_dir, problems_file, tmp_path / "grpo", num_generations=2))
    rows = read_metrics(out)
    assert [r["step"] for r in rows if "loss" in r] == [1, 2]
    assert all(r["format_rate"] == 0.0 and r["reward"] == 0.0 for r in rows if "loss" in r)  # random model
    assert (out / "model.safetensors").is_file()


def test_rloo_runs_with_k2_and_a_toy_reward(tiny_model_dir, problems_file, tmp_path):
    seen = []

    async def contains_digit(prompts, completions, completion_ids, answer, **_):
        seen.append(len(completions))
        return [1.0 if any(ch.isdigit() for ch in c[-1]["content"]) else 0.0 for c in completions]

    settings = _settings("rloo", tiny_model_dir, problems_file, tmp_path / "rloo")
    assert settings.generations() == 2  # the paper's k
    out = train_online(settings, reward_func=contains_digit)
    rows = [r for r in read_metrics(out) if "loss" in r]
    assert len(rows) == 2 and all("reward" in r and "kl" in r for r in rows)
    assert seen and all(n % 2 == 0 for n in seen)


class ContainsDigit:
    calls = 0

    def score(self, outputs, references, finished=None) -> Scores:
        self.calls += 1
        return Scores([1.0 if any(c.isdigit() for c in o) else 0.1 for o in outputs], [None] * len(outputs))


def test_dpo_samples_verified_pairs_then_trains(tiny_model_dir, problems_file, tmp_path):
    out = tmp_path / "dpo"
    settings = _settings("dpo", tiny_model_dir, problems_file, out, temperature=1.0, batch_size=2,
                         micro_batch_size=2)
    assert settings.generations() == 5
    train_dpo(settings, scorer=ContainsDigit())
    pairs = [json.loads(line) for line in (out / "dpo_pairs.jsonl").read_text().splitlines()]
    failed = [json.loads(line) for line in (out / "dpo_pairs.failed.jsonl").read_text().splitlines()]
    assert pairs and len(pairs) + len(failed) == 8  # every problem ends up in exactly one file
    for p in pairs:
        assert any(c.isdigit() for c in p["chosen"]) and not any(c.isdigit() for c in p["rejected"])
        assert (p["chosen_reward"], p["rejected_reward"], p["samples"]) == (1.0, 0.1, 5)
    assert all("correct" in f["reason"] for f in failed)
    assert [r["step"] for r in read_metrics(out) if "loss" in r] == [1, 2]
    assert (out / "model.safetensors").is_file()
    again = ContainsDigit()
    sample_dpo_pairs(settings, scorer=again)  # a re-run samples only what is not done: nothing here
    assert again.calls == 0 and (out / "dpo_pairs.jsonl").read_text().count("\n") == len(pairs)
    with pytest.raises(Medo1Error, match="--resume"):  # the trainer left checkpoints
        train_dpo(settings, scorer=ContainsDigit())
    other = _settings("dpo", tiny_model_dir, problems_file, out, temperature=0.7, resume=True)
    with pytest.raises(Medo1Error, match="other settings"):  # pairs are only re-used with the same sampling
        train_dpo(other, scorer=ContainsDigit())
