"""GRPO / RLOO / DPO on TRL with a tiny random model: the reward bridge, pair picking, one short real run each,
and what a failed verification (the judge is down) does to the learning signal: nothing."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from medo1.errors import Medo1Error
from medo1.llm import load_model
from medo1.train.common import read_metrics
from medo1.train.reward import Scores, completion_text, trl_reward_func
from medo1.train.dpo import pick_pair, sample_dpo_pairs, train_dpo
from medo1.train.trl_rl import TRLRLSettings, train_online, train_trl_rl
from medo1.verify import JudgeVerifier, VerifierError, load_verifier
from tests.openai_server import Reply, by_last_user
from tests.tiny import teach_replies

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
    assert logged == {"correct_rate": 0.25, "format_rate": 0.5, "truncated_rate": 0.25, "verify_failed_rate": 0.0,
                      "overlong_penalty": 0.0,  # off by default
                      # the reward-hacking watch (tests/test_hacking.py): "Aspirin" commits, one of two well formed
                      "uncommitted_rate": 0.0, "rewarded_responses": 1.0, "final_response_chars": 7.0,
                      "no_format_rate": 0.5}
    assert failures == []


async def test_a_judge_outage_gives_no_reward_never_the_no_format_reward(openai_server):
    """A real judge over HTTP that fails for one response: that sample gets None (TRL: unscorable), the
    others their rewards; the failure is recorded with its problem id, step and reason."""

    def judge(prompt):
        if "Heparin" in prompt:
            return Reply(status=503, error_message="judge overloaded", retry_after_ms=1)
        return "True"

    openai_server.handler = by_last_user(judge)
    model = load_model(f"openai:judge@{openai_server.url}", cache=False, max_retries=1)
    logged, failures = {}, []
    func = trl_reward_func(JudgeVerifier(model), eos_token_ids=[2], failures=failures)
    try:
        rewards = await func(
            prompts=[[{"role": "user", "content": "Q?"}]] * 4, answer=["aspirin"] * 4, id=["p0", "p1", "p2", "p3"],
            completions=[[{"role": "assistant", "content": t}] for t in (GOOD, WRONG, "Aspirin", GOOD)],
            completion_ids=[[7, 2], [7, 2], [7, 2], [7, 8]],  # the last one was cut off (no EOS)
            log_metric=lambda name, value: logged.setdefault(name, value), trainer_state=State(global_step=6),
        )
    finally:
        await model.aclose()
    assert rewards == [1.0, None, 0.0, 0.0]  # only well-formed, finished responses reach the judge
    assert [(f["id"], f["step"], f["answer"]) for f in failures] == [("p1", 7, "aspirin")]
    assert "ModelError" in failures[0]["reason"] and "judge overloaded" in failures[0]["reason"]
    # the failed response was well formed: it counts for the format rate, not for the correct rate
    assert logged == {"correct_rate": 1 / 3, "format_rate": 0.5, "truncated_rate": 0.25, "verify_failed_rate": 0.25,
                      "overlong_penalty": 0.0, "uncommitted_rate": 0.0, "rewarded_responses": 1.0,
                      "final_response_chars": 7.0, "no_format_rate": 0.5}


class State:
    def __init__(self, global_step: int):
        self.global_step = global_step


def test_pick_pair_rejects_a_well_formed_wrong_response_never_a_cut_off_or_unverified_one():
    rewards = [1.0, 0.1, 0.0, None, 1.0, 0.1]
    picks = {pick_pair(rewards, random.Random(seed)) for seed in range(50)}
    assert picks == {(0, 1), (0, 5), (4, 1), (4, 5)}  # random among equals, never the 0.0 or the None
    assert pick_pair(rewards, random.Random(7)) == pick_pair(rewards, random.Random(7))  # seeded
    assert pick_pair([0.1, 0.0, None], random.Random(0)) == "no correct response among 3"
    assert pick_pair([1.0, 0.0, None, 0.0, 1.0], random.Random(0)) == (
        "no well-formed wrong response among 5 (2 correct, 2 cut off or unformatted)")
    assert pick_pair([1.0, 1.0, None], random.Random(0)).startswith("no well-formed wrong response among 3")


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
    out = train_online(_settings("grpo", tiny_model_dir, problems_file, tmp_path / "grpo", num_generations=2,
                                 save_steps=1, keep_checkpoints=2))
    rows = read_metrics(out)
    assert [r["step"] for r in rows if "loss" in r] == [1, 2]
    assert all(r["format_rate"] == 0.0 and r["reward"] == 0.0 for r in rows if "loss" in r)  # random model
    assert (out / "model.safetensors").is_file()
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]  # --keep-checkpoints 2


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


def test_grpo_warms_up_over_the_ratio_of_steps(tiny_model_dir, problems_file, tmp_path):
    async def length(prompts, completions, completion_ids, answer, **_):
        return [float(len(ids)) for ids in completion_ids]

    settings = _settings("grpo", tiny_model_dir, problems_file, tmp_path / "grpo", num_generations=2, max_steps=4,
                         warmup_ratio=0.5, learning_rate=1e-4)
    out = train_online(settings, reward_func=length)
    lrs = [r["learning_rate"] for r in read_metrics(out) if "loss" in r]
    assert lrs == pytest.approx([0.0, 0.5e-4, 1e-4, 0.5e-4])  # 2 warmup steps, then linear decay
    with pytest.raises(Medo1Error, match="warmup_ratio 1.5"):
        train_trl_rl(_settings("dpo", tiny_model_dir, problems_file, tmp_path / "bad", warmup_ratio=1.5))
    assert not (tmp_path / "bad").exists()  # refused before sampling


class ContainsDigit:
    calls = 0

    def score(self, outputs, references, finished=None, lengths=None) -> Scores:
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
    assert not list(out.glob("checkpoint-*"))  # by default the final weights only
    with pytest.raises(Medo1Error, match="trained model of a finished run"):  # never silently trained over
        train_dpo(settings, scorer=ContainsDigit())
    other = _settings("dpo", tiny_model_dir, problems_file, out, temperature=0.7, resume=True)
    with pytest.raises(Medo1Error, match="other settings"):  # pairs are only re-used with the same sampling
        train_dpo(other, scorer=ContainsDigit())


class ByPosition:
    """Rewards by sample position within each problem's 5: problems alternate between having a
    well-formed wrong response (0.1) and having only cut-off / unformatted (0.0) or unverified ones."""

    WITH_WRONG = [0.0, 1.0, None, 0.1, 0.0]
    WITHOUT_WRONG = [1.0, 0.0, 0.0, None, 1.0]

    def score(self, outputs, references, finished=None, lengths=None) -> Scores:
        rewards = [(self.WITH_WRONG if (i // 5) % 2 == 0 else self.WITHOUT_WRONG)[i % 5] for i in range(len(outputs))]
        return Scores(rewards, ["judge down" if r is None else None for r in rewards])


def test_dpo_pairs_reject_well_formed_wrong_answers_not_cut_off_ones(tiny_model_dir, problems_file, tmp_path):
    out = tmp_path / "dpo"
    settings = _settings("dpo", tiny_model_dir, problems_file, out, temperature=1.0)
    sample_dpo_pairs(settings, scorer=ByPosition(), problems_per_batch=2)
    pairs = [json.loads(line) for line in (out / "dpo_pairs.jsonl").read_text().splitlines()]
    failed = [json.loads(line) for line in (out / "dpo_pairs.failed.jsonl").read_text().splitlines()]
    assert len(pairs) == 4 and len(failed) == 4  # problems 0, 2, 4, 6 have a 0.1; 1, 3, 5, 7 do not
    assert all((p["chosen_reward"], p["rejected_reward"]) == (1.0, 0.1) for p in pairs)
    for f in failed:
        assert f["reason"] == ("no well-formed wrong response among 5 (2 correct, 2 cut off or unformatted) "
                               "(1 failed verification: judge down)")


# ---------------------------------------------------------------- failed verifications under GRPO / RLOO

ANSWERED = "## Thinking\n\nHmm, chest pain.\n\n## Final Response\n\nAspirin"


@pytest.fixture(scope="module")
def answering_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model taught to answer every question with ANSWERED (well formed), so its samples reach the
    verifier: a few dozen optimizer steps on that one reply."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    reply = tokenizer(ANSWERED + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    rows = [(list(tokenizer.apply_chat_template([{"role": "user", "content": f"Question number {i}?"}],
                                                add_generation_prompt=True, tokenize=True,
                                                return_dict=True)["input_ids"]), reply) for i in range(8)]
    return teach_replies(tiny_model_dir, rows, tmp_path_factory.mktemp("answering-model"), steps=80)


class FlakyJudge:
    """A verifier whose every other call fails, as a judge does when its server drops requests:
    call 1 True, 2 fails, 3 False, 4 fails, ...; for the reference `judge down` every call fails."""

    name = "flaky"

    def __init__(self):
        self.calls = 0

    async def verify(self, response: str, reference: str) -> bool:
        if reference == "judge down":
            raise VerifierError("the judge gave no verdict")
        self.calls += 1
        if self.calls % 2 == 0:
            raise VerifierError("the judge gave no verdict")
        return self.calls % 4 == 1


@pytest.mark.parametrize("algo", ["grpo", "rloo"])
def test_failed_verifications_get_zero_advantage_and_leave_the_baseline_alone(algo, answering_model_dir, tmp_path):
    """Real TRL trainers with our reward function: a prompt whose four verifications all failed gets advantage 0
    everywhere; in a group where two of four failed, those two get 0 and the other two are scored against each
    other only (a failure counted as 0.0 would make them [+1.5, -0.6, -0.4, -0.6] in GRPO)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    from medo1.train.ppo import eos_token_ids

    tokenizer = AutoTokenizer.from_pretrained(answering_model_dir)
    model = AutoModelForCausalLM.from_pretrained(answering_model_dir)
    failures = []
    reward = trl_reward_func(FlakyJudge(), eos_token_ids(tokenizer, model), failures)
    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": f"Question number {i}?"}], "answer": a,
                                  "id": f"q{i}"} for i, a in enumerate(["judge down", "aspirin"])])
    config_cls, trainer_cls = (GRPOConfig, GRPOTrainer) if algo == "grpo" else (RLOOConfig, RLOOTrainer)
    args = config_cls(output_dir=str(tmp_path / algo), per_device_train_batch_size=8, num_generations=4,
                      max_completion_length=32, temperature=0.5, beta=0.03, max_steps=1, learning_rate=1e-5,
                      report_to="none", use_cpu=True, save_strategy="no", logging_steps=1, seed=0)
    trainer = trainer_cls(model=model, reward_funcs=reward, args=args, train_dataset=dataset,
                          processing_class=tokenizer)
    trainer.train()

    assert all(completion_text(c) == ANSWERED for c in trainer._logs["completion"])  # all reached the verifier
    rewards = list(trainer._logs["rewards"]["medo1_reward"])
    advantages = list(trainer._logs["advantages"])
    groups = [(rewards[i : i + 4], advantages[i : i + 4]) for i in (0, 4)]
    failed_group, mixed_group = sorted(groups, key=lambda g: not all(math.isnan(r) for r in g[0]))
    assert all(math.isnan(r) for r in failed_group[0]) and failed_group[1] == [0.0] * 4
    verified = [(r, a) for r, a in zip(*mixed_group) if not math.isnan(r)]
    assert sorted(r for r, _ in verified) == pytest.approx([0.1, 1.0])
    assert [a for r, a in zip(*mixed_group) if math.isnan(r)] == [0.0, 0.0]
    (_, low_a), (_, high_a) = sorted(verified)
    assert high_a > 0 and low_a == pytest.approx(-high_a, rel=1e-3)  # scored against each other only
    assert len(failures) == 6 and {f["id"] for f in failures} == {"q0", "q1"}
    assert all(f["step"] == 1 and "no verdict" in f["reason"] for f in failures)


def test_grpo_with_the_judge_down_learns_nothing_and_records_every_failure(answering_model_dir, problems_file,
                                                                         openai_server, tmp_path):
    """`medo1 rl --algo grpo --verifier judge:...` while the judge answers 503: no sample is scored 0.0 (the
    no-format reward); every failure is in <out>/grpo.failed.jsonl; the run finishes."""
    openai_server.handler = lambda body, headers: Reply(status=503, error_message="service unavailable",
                                                        retry_after_ms=1)
    settings = _settings("grpo", answering_model_dir, problems_file, tmp_path / "grpo", num_generations=2,
                         max_new_tokens=32, temperature=0.5, verifier=f"judge:openai:judge@{openai_server.url}")
    out = train_online(settings)
    rows = [r for r in read_metrics(out) if "loss" in r]
    assert len(rows) == 2 and all(r["verify_failed_rate"] == 1.0 and r["format_rate"] == 1.0 for r in rows)
    assert all(r.get("reward") is None for r in rows)  # nothing was scored, and nothing was scored 0.0
    failed = [json.loads(line) for line in (out / "grpo.failed.jsonl").read_text().splitlines()]
    assert len(failed) == 8 and [f["step"] for f in failed] == [1] * 4 + [2] * 4
    assert all(f["answer"] == "aspirin" and "service unavailable" in f["reason"] for f in failed)
    assert json.loads((out / "medo1_grpo.json").read_text())["failed_verifications"] == 8
