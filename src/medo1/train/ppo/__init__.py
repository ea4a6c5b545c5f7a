"""Stage 3: PPO with the verifier reward, in plain torch + accelerate.

One PPO step:
  1. rollout   - sample one response per problem from the policy (temperature 0.5);
  2. score     - reward 1.0 correct / 0.1 wrong / 0.0 no format (or cut off), from the verifier;
  3. evaluate  - log-probs of the sampled tokens under the policy and the frozen SFT reference (both
                 at the sampling temperature), and values from the value model;
  4. advantage - per-token reward = -beta * (logp - logp_ref), plus the score at the last real token;
                 GAE (gamma, lambda) against the values; advantages whitened over the batch;
  5. update    - `ppo_epochs` passes over shuffled mini batches: clipped policy loss + vf_coef *
                 clipped value loss, gradient accumulation over micro batches.

    medo1 rl --algo ppo --problems rl.jsonl --model ckpt/sft --out ckpt/ppo
    accelerate launch --config_file configs/accelerate/zero3.yaml -m medo1.train.ppo --problems ... --model ... --out ...

Defaults follow the paper (HuatuoGPT-o1): lr 5e-7, batch 128, 3 PPO epochs, gamma 1.0, lambda 0.95,
value coef 1.0, clip 0.2, KL beta 0.03, temperature 0.5, responses up to ~1300 tokens.

    config.py   PPOConfig (the settings) and the Scorer protocol
    losses.py   the PPO math: masked moments, KL-penalised rewards, GAE, clipped losses
    rollout.py  which problems a step takes, sampling, where responses end, prompt + response batches, log-probs
    models.py   policy + value in one module, the frozen reference
    trainer.py  the loop: PPOTrainer, train_ppo, main
"""

from medo1.train.ppo.config import Scorer
from medo1.train.ppo.losses import (
    clipped_policy_loss,
    clipped_value_loss,
    gae,
    kl_penalized_rewards,
    lengths_to_mask,
    masked_mean,
    masked_var,
    masked_whiten,
    response_lengths,
)
from medo1.train.ppo.models import PolicyAndValue, load_models
from medo1.train.ppo.rollout import (
    collate,
    eos_token_ids,
    problem_order,
    response_logprobs,
    sample_responses,
)
from medo1.train.ppo.trainer import PPOTrainer, main, train_ppo
from medo1.train.rl_config import PPOConfig

__all__ = [
    "PPOConfig", "PPOTrainer", "PolicyAndValue", "Scorer", "clipped_policy_loss", "clipped_value_loss", "collate",
    "eos_token_ids", "gae", "kl_penalized_rewards", "lengths_to_mask", "load_models", "main", "masked_mean",
    "masked_var", "masked_whiten", "problem_order", "response_lengths", "response_logprobs", "sample_responses",
    "train_ppo",
]
