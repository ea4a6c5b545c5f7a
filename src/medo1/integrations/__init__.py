"""Engines medo1 hands a stage to at cluster scale, with medo1's data, reward and the paper's settings.

verl (PPO with a critic, or GRPO, on Ray, vLLM rollouts, FSDP):
    verl_data       RL problems -> verl's RL parquet (`RLHFDataset` shape)
    verl_reward     `compute_score`: medo1's reward rule and verifier, for verl's reward managers
    verl_overrides  the paper's PPO (or GRPO) as verl Hydra overrides, checked with verl's own config
    verl_launch     prepare the data and the launch script (Ray across a Slurm allocation), run, finish
    verl_main       the entry the script runs: verl's main_ppo, the judge's key through Ray's runtime env
    verl_attention  verl's critic loads with sdpa when flash_attn is not installed (a Ray worker hook)
    verl_ckpt       verl's checkpoint -> a Hugging Face checkpoint; verl's metrics -> medo1's metrics log

verl pins its own transformers range: install it apart (`pip install -e ".[verl]"` in its own
environment); nothing else in medo1 imports these modules.
"""
