"""The models of a PPO run: policy and value model in one trainable module, and the frozen reference."""

from __future__ import annotations

import torch
import torch.nn as nn

from medo1.errors import Medo1Error
from medo1.train.ppo.rollout import _model_inputs, _response_slice, response_logprobs
from medo1.train.rl_config import PPOConfig


class PolicyAndValue(nn.Module):
    """The two trained models in one module, so accelerate / DeepSpeed prepare them with one optimizer."""

    def __init__(self, policy: nn.Module, value: nn.Module):
        super().__init__()
        self.policy, self.value = policy, value
        # what sharding wrappers must keep whole (transformer blocks), as on a transformers model
        self._no_split_modules = sorted(set(getattr(policy, "_no_split_modules", None) or [])
                                        | set(getattr(value, "_no_split_modules", None) or []))

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log-probs, entropies, values) of the response tokens, each (batch, response width)."""
        logprobs, entropy = response_logprobs(self.policy, batch)
        values = self.value(**_model_inputs(batch), use_cache=False).logits[..., 0]
        return logprobs, entropy, _response_slice(values, batch)

    @property
    def is_gradient_checkpointing(self) -> bool:  # read by TRL's unwrap_model_for_generation
        return self.policy.is_gradient_checkpointing

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None) -> None:
        for m in (self.policy, self.value):
            m.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gradient_checkpointing_kwargs)

    def gradient_checkpointing_disable(self) -> None:
        for m in (self.policy, self.value):
            m.gradient_checkpointing_disable()


def load_models(cfg: PPOConfig, policy_path: str, value_path: str):
    """Policy, frozen reference and value model (scalar head), dropout off, LM heads fused at the
    sampling temperature (log-probs without materialising the vocabulary-wide logits)."""
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification
    from trl.trainer import add_fused_lm_head, disable_dropout_in_model

    policy = AutoModelForCausalLM.from_pretrained(policy_path, dtype=torch.float32)
    reference = AutoModelForCausalLM.from_pretrained(policy_path, dtype=torch.float32)
    value = AutoModelForTokenClassification.from_pretrained(value_path, num_labels=1, dtype=torch.float32)
    # The value model may be smaller than the policy (less memory at 8B), but it reads the policy's tokens.
    vocab = {m: m.config.get_text_config().vocab_size for m in (policy, value)}
    if vocab[value] != vocab[policy]:
        raise Medo1Error(f"value model {value_path} has a vocabulary of {vocab[value]} tokens, the policy {policy_path} "
                         f"{vocab[policy]}: the value model must share the policy's tokenizer")
    for model in (policy, reference):
        add_fused_lm_head(model, temperature=cfg.temperature, outputs=("log_probs", "entropy"))
    for model in (policy, reference, value):
        disable_dropout_in_model(model)
    reference.requires_grad_(False).eval()
    if cfg.gradient_checkpointing:
        policy.gradient_checkpointing_enable()
        value.gradient_checkpointing_enable()
    return policy, reference, value
