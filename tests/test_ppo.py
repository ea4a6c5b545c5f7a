"""PPO: the math against hand-computed values, log-probs at the sampling temperature, where rewards
land, a toy task PPO must learn, checkpoints / resume / failed verifications, the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from medo1.train.common import read_metrics
from medo1.train.ppo import (
    PPOConfig,
    PPOTrainer,
    clipped_policy_loss,
    clipped_value_loss,
    collate,
    gae,
    kl_penalized_rewards,
    lengths_to_mask,
    masked_mean,
    masked_var,
    masked_whiten,
    problem_order,
    response_lengths,
    response_logprobs,
    train_ppo,
)
from medo1.train.reward import RewardScorer, Scores

T = torch.tensor


def close(actual: torch.Tensor, expected, atol: float = 1e-5) -> bool:
    torch.testing.assert_close(actual.float(), T(expected, dtype=torch.float32), atol=atol, rtol=1e-5)
    return True


# ---------------------------------------------------------------- math against hand-computed values


def test_gae_by_hand():
    rewards, values = T([[0.0, 0.0, 1.0]]), T([[0.5, 0.6, 0.7]])
    adv, ret = gae(rewards, values, torch.ones(1, 3, dtype=torch.bool), gamma=1.0, lam=0.95)
    # t=2: 1 - .7 = .3 ; t=1: (.7 - .6) + .95 * .3 = .385 ; t=0: (.6 - .5) + .95 * .385 = .46575
    assert close(adv, [[0.46575, 0.385, 0.3]])
    assert close(ret, [[0.96575, 0.985, 1.0]])

    # gamma < 1, and a row that ends early: the value after its last real token counts as 0
    rewards, values = T([[0.0, 2.0, 9.0], [1.0, 0.0, 0.5]]), T([[1.0, 2.0, 9.0], [0.5, 0.25, 1.0]])
    mask = lengths_to_mask(T([2, 3]), 3)
    adv, ret = gae(rewards, values, mask, gamma=0.9, lam=0.5)
    # row 0: t=1: 2 + 0 - 2 = 0 ; t=0: 0 + .9*2 - 1 = .8 (+ .45 * 0) ; t=2 is padding -> 0
    # row 1: t=2: .5 - 1 = -.5 ; t=1: 0 + .9*1 - .25 = .65, + .45 * -.5 = .425 ;
    #        t=0: 1 + .9*.25 - .5 = .725, + .45 * .425 = .91625
    assert close(adv, [[0.8, 0.0, 0.0], [0.91625, 0.425, -0.5]])
    assert close(ret, [[1.8, 2.0, 0.0], [1.41625, 0.675, 0.5]])


def test_whitening_and_moments_ignore_padding():
    x = T([[1.0, 2.0, 3.0, 100.0], [2.0, -50.0, -50.0, -50.0]])
    mask = T([[1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool)
    # real entries 1, 2, 3, 2: mean 2, unbiased variance (1 + 0 + 1 + 0) / 3
    assert masked_mean(x, mask).item() == pytest.approx(2.0)
    assert masked_var(x, mask).item() == pytest.approx(2 / 3)
    w = masked_whiten(x, mask)
    s = math.sqrt(2 / 3)
    assert close(w, [[-1 / s, 0.0, 1 / s, 0.0], [0.0, 0.0, 0.0, 0.0]], atol=1e-4)
    assert masked_whiten(x, mask, shift_mean=False)[0, 0].item() == pytest.approx(-1 / s + 2, abs=1e-4)
    assert masked_mean(x, mask, dim=1).tolist() == pytest.approx([2.0, 2.0])


def test_kl_penalty_and_score_at_the_last_real_token():
    logprobs = T([[-1.0, -2.0, -3.0], [-0.5, -0.5, -0.5]])
    ref = T([[-1.5, -2.0, -2.0], [-1.0, -0.25, -0.5]])
    rewards, kl = kl_penalized_rewards(logprobs, ref, scores=T([1.0, 0.1]), lengths=T([2, 3]), kl_coef=0.1)
    assert close(kl, [[0.5, 0.0, 0.0], [0.5, -0.25, 0.0]])  # k1 = logp - logp_ref, padding 0
    assert close(rewards, [[-0.05, 1.0, 0.0], [-0.05, 0.025, 0.1]])


def test_response_lengths_with_pad_eos_and_truncation():
    eos, pad = 2, 0
    tokens = T([
        [5, 6, 2, 0, 0],  # EOS then padding (pad != EOS)
        [5, 6, 7, 8, 9],  # cut off at the length limit: every token is real, the last one gets the score
        [2, 0, 0, 0, 0],  # EOS first
        [5, 2, 9, 2, 0],  # only the first EOS ends the response
    ])
    assert response_lengths(tokens, [eos]).tolist() == [3, 5, 1, 2]
    assert response_lengths(T([[5, 2, 2, 2]]), [2]).tolist() == [2]  # pad == EOS
    assert response_lengths(T([[5, 7, 3, 1]]), [3, 7]).tolist() == [2]  # several EOS ids (e.g. Llama 3)
    rewards, _ = kl_penalized_rewards(torch.zeros(4, 5), torch.zeros(4, 5), T([1.0, 2.0, 3.0, 4.0]),
                                      response_lengths(tokens, [eos]), kl_coef=0.03)
    assert rewards.nonzero().tolist() == [[0, 2], [1, 4], [2, 0], [3, 1]]


def test_clipped_losses_by_hand():
    new = torch.log(T([1.5, 1.5, 0.5, 0.5, 1.0]))
    old = torch.zeros(5)
    adv = T([1.0, -1.0, 1.0, -1.0, 2.0])
    loss, clipped = clipped_policy_loss(new, old, adv, clip=0.2)
    # ratio 1.5, A>0: max(-1.5, -1.2) = -1.2 (clipped); A<0: max(1.5, 1.2) = 1.5
    # ratio 0.5, A>0: max(-.5, -.8) = -.5; A<0: max(.5, .8) = .8 (clipped); ratio 1: -A
    assert loss.tolist() == pytest.approx([-1.2, 1.5, -0.5, 0.8, -2.0])
    assert clipped.tolist() == [True, False, False, True, False]

    loss, clipped = clipped_value_loss(T([1.5, 1.1, 0.0]), T([1.0, 1.0, 1.0]), T([2.0, 2.0, 0.5]), clip=0.2)
    # 1.5 -> clipped to 1.2: .5 * max(.25, .64) = .32 ; 1.1 within the clip: .5 * .81 ;
    # 0.0 -> clipped to .8: .5 * max(.25, .09) = .125 (the unclipped loss is larger)
    assert loss.tolist() == pytest.approx([0.32, 0.405, 0.125])
    assert clipped.tolist() == [True, False, False]


def test_problem_order_is_a_seeded_stream_of_shuffles():
    steps = [problem_order(5, s, 3, seed=7) for s in range(4)]
    flat = sum(steps, [])
    assert sorted(flat[:5]) == list(range(5)) and sorted(flat[5:10]) == list(range(5))
    assert steps == [problem_order(5, s, 3, seed=7) for s in range(4)]


# ---------------------------------------------------------------- the real models


class ContainsDigit:
    """Toy reward: 1.0 when the response contains a digit."""

    def score(self, outputs, references, finished=None, lengths=None) -> Scores:
        return Scores([1.0 if any(c.isdigit() for c in o) else 0.0 for o in outputs], [None] * len(outputs))


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps({"question": f"Question number {i}?", "answer": "aspirin"}) + "\n"
                            for i in range(16)))
    return path


def _config(tiny_model_dir, problems_file, out, **kw) -> PPOConfig:
    base = dict(problems=str(problems_file), model=str(tiny_model_dir), out=str(out), batch_size=8,
                micro_batch_size=4, max_new_tokens=6, bf16=False, save_steps=100)
    base.update(kw)
    return PPOConfig(**base)


def test_logprobs_at_the_sampling_temperature_with_left_padding(tiny_model_dir, problems_file, tmp_path):
    from transformers import AutoModelForCausalLM

    trainer = PPOTrainer(_config(tiny_model_dir, problems_file, tmp_path / "o", temperature=0.5), ContainsDigit())
    queries, responses = [[1, 40, 41, 42], [1, 43]], [[50, 51, 2], [52, 53, 54, 55]]
    batch = collate(queries, responses, pad_id=0, device="cpu")
    with torch.no_grad():
        got, entropy = response_logprobs(trainer.reference, batch)
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    for row, (q, r) in enumerate(zip(queries, responses)):
        with torch.no_grad():  # the same sequence alone, no padding, logits divided by the temperature
            logits = plain(input_ids=T([q + r])).logits[0, len(q) - 1 : -1] / 0.5
        expected = torch.log_softmax(logits, -1).gather(1, T(r)[:, None])[:, 0]
        assert got[row, : len(r)].tolist() == pytest.approx(expected.tolist(), abs=1e-4)
        p = torch.softmax(logits, -1)
        assert entropy[row, : len(r)].tolist() == pytest.approx((-(p * p.log()).sum(-1)).tolist(), abs=1e-3)
    assert batch["response_mask"].tolist() == [[True, True, True, False], [True] * 4]

    # sampled responses end at their first EOS or run to the length limit (pad != EOS here) ...
    responses = trainer.generate(trainer.queries[:8])
    eos = trainer.eos_ids
    assert trainer.tokenizer.pad_token_id not in eos
    for r in responses:
        assert (r[-1] in eos and not any(t in eos for t in r[:-1])) or (len(r) == 6 and not any(t in eos for t in r))
    # ... and when the pad token is the EOS token too
    trainer.tokenizer.pad_token = trainer.tokenizer.eos_token
    for r in trainer.generate(trainer.queries[:8]):
        assert (r[-1] in eos and not any(t in eos for t in r[:-1])) or len(r) == 6


def test_ppo_learns_a_toy_reward(tiny_model_dir, problems_file, tmp_path):
    """Reward 1 when the response contains a digit (about 1 in 5 responses of the random model)."""
    cfg = _config(tiny_model_dir, problems_file, tmp_path / "toy", batch_size=16, micro_batch_size=16,
                  learning_rate=5e-3, temperature=1.0, lr_scheduler="constant", max_steps=12)
    trainer = PPOTrainer(cfg, ContainsDigit())
    rewards, kls = [], []
    for step in range(cfg.max_steps):
        metrics = trainer.step(step)
        rewards.append(metrics["reward"])
        kls.append(metrics["kl"])
        if step >= 6 and sum(rewards[-3:]) / 3 >= 0.7:
            break
    assert kls[0] == pytest.approx(0.0, abs=1e-5)  # the policy starts as the reference
    assert sum(rewards[:3]) / 3 < 0.45
    assert sum(rewards[-3:]) / 3 >= 0.7, rewards
    assert kls[-1] > 0.05  # it got there by moving away from the reference


def test_ppo_warms_up_and_logs_the_rate_each_step_used(tiny_model_dir, problems_file, tmp_path):
    cfg = _config(tiny_model_dir, problems_file, tmp_path / "warmup", learning_rate=1e-4, lr_scheduler="linear",
                  warmup_ratio=0.5, max_steps=4)
    trainer = PPOTrainer(cfg, ContainsDigit())
    lrs = [trainer.step(step)["lr"] for step in range(cfg.max_steps)]
    assert lrs == pytest.approx([0.0, 0.5e-4, 1e-4, 0.5e-4])  # 2 warmup steps, then linear decay


class FailsOnFirst(ContainsDigit):
    """Toy reward whose verification fails for one problem: that sample must be left out and recorded."""

    def __init__(self):
        self.calls = 0

    def score(self, outputs, references, finished=None, lengths=None) -> Scores:
        self.calls += 1
        scores = super().score(outputs, references, finished, lengths)
        scores.rewards[0], scores.errors[0] = None, "ModelError: judge unreachable"
        return scores


def test_checkpoints_resume_failed_verifications_and_outputs(tiny_model_dir, problems_file, tmp_path):
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification

    out = tmp_path / "run"
    train_ppo(_config(tiny_model_dir, problems_file, out, max_steps=2, save_steps=1, keep_checkpoints=1),
              FailsOnFirst())
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2"]
    with pytest.raises(Exception, match="--resume"):
        PPOTrainer(_config(tiny_model_dir, problems_file, out, max_steps=3), ContainsDigit())
    train_ppo(_config(tiny_model_dir, problems_file, out, max_steps=3, resume=True), FailsOnFirst())

    rows = read_metrics(out)
    assert [r["step"] for r in rows] == [1, 2, 3]
    for key in ("reward", "correct_rate", "format_rate", "kl", "entropy", "clip_fraction", "value_loss",
                "response_length", "rollout_seconds", "update_seconds"):
        assert all(isinstance(r[key], float) for r in rows), key
    assert all(r["verify_failed_rate"] == 1 / 8 for r in rows)  # one of the 8 responses per step
    failed = [json.loads(line) for line in (out / "ppo.failed.jsonl").read_text().splitlines()]
    assert [f["step"] for f in failed] == [1, 2, 3] and all("judge unreachable" in f["reason"] for f in failed)
    AutoModelForCausalLM.from_pretrained(out)
    AutoModelForTokenClassification.from_pretrained(out / "value")
    assert (out / "runs").is_dir()  # TensorBoard
    assert not list(out.glob("checkpoint-*"))  # by default the final weights only: no optimizer state left


def test_reward_scorer_uses_the_verifier_rule():
    from medo1.verify import load_verifier

    scorer = RewardScorer(load_verifier("match"))

    class Broken:
        name = "broken"

        async def verify(self, response, reference):
            raise RuntimeError("no verdict")

    try:
        good = "## Thinking\n\nHmm.\n\n## Final Response\n\nAspirin"
        wrong = "## Thinking\n\nHmm.\n\n## Final Response\n\nHeparin"
        s = scorer.score([good, wrong, "Aspirin", good], ["aspirin"] * 4, finished=[True, True, True, False])
        assert s.rewards == [1.0, 0.1, 0.0, 0.0]  # correct, wrong, no format, cut off
        assert s.correct_rate == 0.25 and s.format_rate == 0.5
        broken = RewardScorer(Broken()).score([good], ["aspirin"])
        assert broken.rewards == [None] and "no verdict" in broken.errors[0]
    finally:
        scorer.close()


def test_cli_rl_ppo_runs_with_the_default_verifier(tiny_model_dir, problems_file, tmp_path):
    from typer.testing import CliRunner

    from medo1.cli import app

    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [
        "rl", "--algo", "ppo", "--problems", str(problems_file), "--model", str(tiny_model_dir), "--out", str(out),
        "--batch-size", "4", "--max-steps", "1", "--max-new-tokens", "4", "--no-bf16",
    ])
    assert result.exit_code == 0, result.output
    (row,) = read_metrics(out)
    assert row["format_rate"] == 0.0 and row["reward"] == 0.0  # a random model writes no thinking format
    assert row["overlong_penalty"] == 0.0  # off by default
    assert (out / "model.safetensors").is_file()


def test_a_smaller_value_model_trains_beside_the_policy_and_must_share_its_tokenizer(tiny_model_dir, problems_file,
                                                                                    tmp_path):
    """At 8B the value model may be a smaller model of the same family (it reads the policy's tokens)."""
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    from tests.tiny import build_tiny_model, build_tokenizer

    small = build_tiny_model(tmp_path / "small", layers=1, hidden=32, heads=2,
                             tokenizer=AutoTokenizer.from_pretrained(tiny_model_dir))
    out = tmp_path / "run"
    train_ppo(_config(tiny_model_dir, problems_file, out, value_model=str(small), max_steps=1), ContainsDigit())
    value = AutoModelForTokenClassification.from_pretrained(out / "value")
    policy = AutoConfig.from_pretrained(out)
    assert (value.config.hidden_size, value.config.num_hidden_layers) == (32, 1)
    assert (policy.hidden_size, policy.num_hidden_layers) == (64, 2)

    other = build_tiny_model(tmp_path / "other", layers=1, hidden=32, heads=2, tokenizer=build_tokenizer(vocab_size=300))
    with pytest.raises(Exception, match="must share the policy's tokenizer"):
        PPOTrainer(_config(tiny_model_dir, problems_file, tmp_path / "bad", value_model=str(other)), ContainsDigit())
