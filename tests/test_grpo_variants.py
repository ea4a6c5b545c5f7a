"""GRPO's variants on TRL (Dr. GRPO, DAPO): each setting reaches TRL's GRPOConfig / RLOOConfig field, a real
GRPO run takes them all at once, and a setting the algorithm or engine does not have is refused in one line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.train.common import read_metrics
from medo1.train.trl_rl import TRLRLSettings, online_args, train_online, train_trl_rl


def settings(algo: str, **kw) -> TRLRLSettings:
    base = dict(algo=algo, problems="p.jsonl", model="m", out="o", batch_size=4, micro_batch_size=4, bf16=False)
    return TRLRLSettings(**{**base, **kw})


def test_defaults_are_trls_grpo_and_each_variant_reaches_its_trl_field(tmp_path):
    from trl import GRPOConfig, RLOOConfig

    default = online_args(settings("grpo", out=str(tmp_path / "a")), GRPOConfig, 2)
    trl = GRPOConfig(output_dir=str(tmp_path / "b"), use_cpu=True, bf16=False)
    assert (default.loss_type, default.scale_rewards, default.epsilon, default.epsilon_high,
            default.mask_truncated_completions, default.num_iterations) == (
        trl.loss_type, trl.scale_rewards, trl.epsilon, trl.epsilon_high, trl.mask_truncated_completions,
        trl.num_iterations) == ("dapo", "group", 0.2, None, False, 1)  # the trainer takes epsilon for None
    dr = online_args(settings("grpo", out=str(tmp_path / "c"), loss_type="dr_grpo", scale_rewards="none"), GRPOConfig, 2)
    assert (dr.loss_type, dr.scale_rewards) == ("dr_grpo", "none")
    dapo = online_args(settings("grpo", out=str(tmp_path / "d"), clip_range_high=0.28, mask_truncated_completions=True,
                                num_iterations=2, clip_range=0.1), GRPOConfig, 2)
    assert (dapo.epsilon, dapo.epsilon_high, dapo.mask_truncated_completions, dapo.num_iterations) == (0.1, 0.28, True, 2)
    rloo = online_args(settings("rloo", out=str(tmp_path / "e"), clip_range_high=0.28, num_iterations=2), RLOOConfig, 2)
    assert (rloo.epsilon_high, rloo.num_iterations) == (0.28, 2)


@pytest.mark.parametrize("algo, given, said", [
    ("rloo", {"loss_type": "dr_grpo"}, "rl rloo: loss_type='dr_grpo' applies to grpo only"),
    ("rloo", {"scale_rewards": "none"}, "rl rloo: scale_rewards='none' applies to grpo only"),
    ("dpo", {"clip_range_high": 0.28}, "rl dpo: clip_range_high=0.28 applies to grpo and rloo only"),
    ("dpo", {"num_iterations": 2}, "rl dpo: num_iterations=2 applies to grpo and rloo only"),
    ("grpo", {"clip_range_high": -0.1}, "clip_range_high -0.1: must be 0 or more"),
])
def test_a_variant_the_algorithm_does_not_have_is_refused_before_anything_loads(algo, given, said, tmp_path):
    with pytest.raises(Medo1Error, match=said.replace("(", r"\(").replace(")", r"\)")):
        train_trl_rl(settings(algo, out=str(tmp_path / "out"), **given))
    assert not (tmp_path / "out").exists()


def test_the_cli_refuses_in_one_line_and_grpo_on_verl_too(tmp_path):
    from medo1.integrations.verl_settings import settings_for

    result = CliRunner().invoke(app, ["rl", "--algo", "rloo", "--problems", "p.jsonl", "--model", "m", "--out",
                                      str(tmp_path / "o"), "--loss-type", "dr_grpo"])
    assert result.exit_code != 0 and "loss_type='dr_grpo' applies to grpo only" in str(result.exception)
    result = CliRunner().invoke(app, ["rl", "--algo", "grpo", "--problems", "p.jsonl", "--model", "m", "--out",
                                      str(tmp_path / "o"), "--loss-type", "ppo"])
    assert result.exit_code == 2 and "'ppo' is not one of" in result.output  # the closed set of TRL's loss types
    assert settings_for("grpo", {"clip_range": 0.3})["clip_range"] == 0.3  # verl's clip_ratio: mapped
    for name, value in (("loss_type", "dr_grpo"), ("scale_rewards", "none"), ("clip_range_high", 0.28),
                        ("mask_truncated_completions", True), ("num_iterations", 2)):
        with pytest.raises(Medo1Error, match=rf"rl.{name}=.* does not apply with rl.engine verl: .*rl.verl.overrides"):
            settings_for("grpo", {name: value})


def test_one_generation_is_refused(tmp_path):
    with pytest.raises(Medo1Error, match="--num-generations 1: grpo compares each response with the others"):
        train_online(settings("grpo", out=str(tmp_path / "o"), num_generations=1, problems=str(tmp_path / "p.jsonl"),
                              model="embedded"))


def test_dr_grpo_with_clip_higher_masking_and_two_iterations_trains(tiny_model_dir, tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"question": f"Question number {i}?", "answer": "7"}) + "\n"
                                for i in range(4)))

    async def digits(prompts, completions, completion_ids, answer, **_):
        return [float(sum(ch.isdigit() for ch in c[-1]["content"])) for c in completions]

    s = settings("grpo", problems=str(problems), model=str(tiny_model_dir), out=str(tmp_path / "grpo"),
                 num_generations=2, max_new_tokens=6, max_steps=2, save_steps=100, learning_rate=1e-4,
                 loss_type="dr_grpo", scale_rewards="none", clip_range_high=0.28, mask_truncated_completions=True,
                 num_iterations=2)
    out = train_online(s, reward_func=digits)
    first, second = [r for r in read_metrics(out) if "loss" in r]
    # two optimizer steps, one batch of responses: the second pass reuses it (no new rewards)
    assert "reward" in first and "reward" not in second
    assert "frac_reward_zero_std" in first  # the share of groups without signal (TRL has no dynamic sampling)
    # every response ran into max_new_tokens and is masked out of the loss: no gradient although rewards differ
    assert first["completions/clipped_ratio"] == 1.0 and first["reward_std"] > 0 and first["grad_norm"] == 0.0
    saved = json.loads((out / "medo1_grpo.json").read_text())["settings"]
    assert (saved["loss_type"], saved["clip_range_high"], saved["num_iterations"]) == ("dr_grpo", 0.28, 2)
