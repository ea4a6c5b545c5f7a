"""Engines medo1 hands a stage to at cluster scale, with medo1's data, reward and the paper's settings.

verl (PPO with a critic on Ray, vLLM rollouts, FSDP):
    verl_data    RL problems -> verl's RL parquet (`RLHFDataset` shape)
    verl_reward  `compute_score`: medo1's reward rule and verifier, for verl's reward managers
    verl_launch  the paper's PPO as verl Hydra overrides: compose, validate, run or print the launch
    verl_ckpt    verl's checkpoint -> a Hugging Face checkpoint; verl's metrics -> medo1's metrics log

verl pins its own transformers range: install it apart (`pip install -e ".[verl]"` in its own
environment); nothing else in medo1 imports these modules.
"""
