"""Training stages on top of Hugging Face tooling.

    sft.py      supervised fine-tuning on complex CoT (TRL SFTTrainer)   medo1 sft, python -m medo1.train.sft
    ppo/        PPO with the verifier reward (plain torch + accelerate)  medo1 rl --algo ppo, python -m medo1.train.ppo
    trl_rl.py   GRPO and RLOO (TRL trainers)                             medo1 rl --algo grpo|rloo|dpo
    dpo.py      DPO on verified pairs sampled on every process (TRL)
    data.py     reading SFT examples and problems, chat prompts, tokenization
    reward.py   the verifier reward for sync and async training code
    hacking.py  the reward-hacking watch: per-sample terms, per-step metrics, the drift warning
    common.py   model paths, precision, metrics JSONL + TensorBoard, checkpoints
"""
