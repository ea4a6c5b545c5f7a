"""The critic's attention when flash_attn is not installed.

verl 0.9 builds its critic with `verl.utils.model.load_valuehead_model`, which asks transformers for
`attn_implementation="flash_attention_2"` whatever the model config says (the actor and the reference
follow `override_config.attn_implementation`); without flash_attn that load fails, and with it every PPO run.
medo1 then has Ray run `setup` in each of its worker processes (`runtime_env.worker_process_setup_hook`,
see verl_overrides.plan): verl's loader is wrapped so that its transformers loads use the attention the
critic's config names (sdpa). With flash_attention_2 in the config nothing changes.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

HOOK = "medo1.integrations.verl_attention.setup"
_AUTO_CLASSES = ("AutoModelForTokenClassification", "AutoModelForCausalLM", "AutoModelForVision2Seq")


@contextmanager
def loads_with(attention: str):
    """While open, transformers' auto classes used by verl's loader load with `attention`."""
    import transformers

    saved = {}
    for name in _AUTO_CLASSES:
        auto = getattr(transformers, name, None)
        if auto is None:
            continue

        class Honouring(auto):
            @classmethod
            def from_pretrained(cls, *args, _auto=auto, **kwargs):
                return _auto.from_pretrained(*args, **{**kwargs, "attn_implementation": attention})

        saved[name] = auto
        setattr(transformers, name, Honouring)
    try:
        yield
    finally:
        for name, auto in saved.items():
            setattr(transformers, name, auto)


def honour_configured_attention() -> None:
    """Wrap verl's value-head loader (once per process)."""
    import verl.utils.model as verl_model

    original = verl_model.load_valuehead_model
    if getattr(original, "_medo1_attention", False):
        return

    @functools.wraps(original)
    def load_valuehead_model(local_path, torch_dtype, model_config, trust_remote_code):
        attention = getattr(model_config, "_attn_implementation", None)
        if attention in (None, "flash_attention_2"):
            return original(local_path, torch_dtype, model_config, trust_remote_code)
        with loads_with(attention):
            return original(local_path, torch_dtype, model_config, trust_remote_code)

    load_valuehead_model._medo1_attention = True
    verl_model.load_valuehead_model = load_valuehead_model


def setup() -> None:
    """Ray's worker_process_setup_hook."""
    honour_configured_attention()
