"""Generation configs that own every decoding field: sampling exactly as configured.

transformers (v5) fills every field of the `GenerationConfig` passed to `generate()` that is
left `None` from the checkpoint's own `generation_config.json`, then from global defaults
(`GenerationMixin._prepare_generation_config`: `update(**model.generation_config.to_dict(),
defaults_only=True)`, then `top_k=50`, ...). A Qwen2.5-Instruct checkpoint thus turns "sample
at temperature 0.5" into top-k 20, top-p 0.8 and repetition penalty 1.05, and a checkpoint with
`do_sample: true` makes "greedy" sample. PPO's log-probs and KL assume plain temperature sampling,
and evaluation must be greedy when it says so.

`owned_fields` gives an explicit neutral value to every field that changes which token is picked
(and has a neutral value); `generation_config` builds the complete config from it; and
`model_defaults_off` hides the model's own generation config during a call, for the few fields
whose only "off" value is `None` (forced BOS/EOS tokens, bad words, sequence bias, stop
strings, watermarking, ...). Together they make `generate()` do exactly what the config says.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from transformers import GenerationConfig

# The token ids a checkpoint's generation config names: kept while its sampling defaults are hidden.
_TOKEN_FIELDS = ("eos_token_id", "pad_token_id", "bos_token_id", "decoder_start_token_id")
# Decoding fields whose only "off" value is None: no explicit config can switch them off.
_NONE_ONLY_FIELDS = (
    "bad_words_ids", "sequence_bias", "forced_bos_token_id", "forced_eos_token_id", "exponential_decay_length_penalty",
    "watermarking_config", "stop_strings", "top_h", "dola_layers", "prompt_lookup_num_tokens",
)


def owned_fields(*, do_sample: bool, temperature: float = 1.0) -> dict[str, Any]:
    """Every decoding field set to what it means here: plain softmax sampling at `temperature` when
    `do_sample`, else greedy; one beam, no truncation (top-k 0, top-p / typical-p 1, min-p 0, no
    epsilon / eta cutoff), no penalties, no n-gram blocking, no minimum length, no suppressed tokens."""
    if do_sample and temperature <= 0:
        raise ValueError(f"temperature {temperature}: sampling needs a temperature above 0 (use do_sample=False)")
    fields: dict[str, Any] = {
        # the decoding method: one sequence, one beam, sampled or greedy
        "do_sample": do_sample, "num_beams": 1, "num_beam_groups": 1, "num_return_sequences": 1,
        "penalty_alpha": 0.0, "diversity_penalty": 0.0, "length_penalty": 1.0, "early_stopping": False,
        "guidance_scale": 1.0, "low_memory": False, "token_healing": False, "use_cache": True,
        # the distribution sampled from: softmax(logits / temperature), nothing cut off
        "temperature": temperature if do_sample else 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "typical_p": 1.0,
        "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "renormalize_logits": False, "remove_invalid_values": False,
        # no penalties, no blocked or suppressed tokens, no minimum length
        "repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
        "encoder_no_repeat_ngram_size": 0, "min_new_tokens": 0, "suppress_tokens": [], "begin_suppress_tokens": [],
        # what generate() returns: the token ids only
        "output_scores": False, "output_logits": False, "return_dict_in_generate": False,
    }
    if not do_sample:  # greedy applies no warper; transformers flags these two as invalid when set without sampling
        del fields["top_k"], fields["min_p"]
    return fields


def generation_config(
    *, do_sample: bool, temperature: float = 1.0, max_new_tokens: int, eos_token_id: int | list[int] | None,
    pad_token_id: int | None, **extra: Any,
) -> GenerationConfig:
    """The complete config for one `generate()` call (see `owned_fields`); `extra` adds or overrides fields."""
    return GenerationConfig(
        **owned_fields(do_sample=do_sample, temperature=temperature), max_new_tokens=max_new_tokens,
        eos_token_id=eos_token_id, pad_token_id=pad_token_id, **extra,
    )


@contextmanager
def model_defaults_off(model):
    """Within the block, `model.generation_config` names only the checkpoint's special tokens, so
    `generate()` inherits no sampling default from it; restored afterwards (saved checkpoints keep it)."""
    original = getattr(model, "generation_config", None)
    if original is None:
        yield model
        return
    model.generation_config = GenerationConfig(**{k: getattr(original, k, None) for k in _TOKEN_FIELDS})
    try:
        yield model
    finally:
        model.generation_config = original


def unowned_defaults(model) -> dict[str, Any]:
    """The checkpoint's decoding settings that a passed config cannot switch off (only
    `model_defaults_off` can): for callers such as TRL that call `generate()` themselves."""
    config = getattr(model, "generation_config", None)
    return {k: getattr(config, k) for k in _NONE_ONLY_FIELDS if getattr(config, k, None) is not None}
