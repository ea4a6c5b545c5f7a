"""Run one medo1 training entry point under `accelerate launch` and record, on every process, how the
libraries were driven: whether each model was already sharded when `from_pretrained` returned (ZeRO-3
init), how many parameters were gathered for generation, and the `synced_gpus` each `generate` got.

    accelerate launch --config_file configs/accelerate/zero3.yaml --num_processes 2 --cpu \
        tests/zero3_probe.py PROBE_DIR sft|ppo|trl_rl|dpo|dpo_sampling ARGS...

Only library entry points are wrapped (transformers, deepspeed); medo1 runs unchanged."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import deepspeed
from transformers import PreTrainedModel
from transformers.generation.utils import GenerationMixin

records: dict[str, list] = {"loads": [], "gathers": [], "generate": [], "engines": [], "scored": []}

_from_pretrained = PreTrainedModel.from_pretrained.__func__


def from_pretrained(cls, *args, **kwargs):
    model = _from_pretrained(cls, *args, **kwargs)
    params = list(model.parameters())
    records["loads"].append({
        "class": cls.__name__,
        "sharded": all(hasattr(p, "ds_id") for p in params),
        "local_numel": sum(p.numel() for p in params),
        "numel": sum(getattr(p, "ds_numel", p.numel()) for p in params),
    })
    return model


PreTrainedModel.from_pretrained = classmethod(from_pretrained)

_Gathered = deepspeed.zero.GatheredParameters


class Gathered(_Gathered):
    def __init__(self, params, *args, **kwargs):
        params = list(params) if not hasattr(params, "ds_id") else [params]
        if len(params) > 1:  # a whole module (loading gathers one parameter at a time)
            records["gathers"].append(sum(getattr(p, "ds_numel", p.numel()) for p in params))
        super().__init__(params, *args, **kwargs)


deepspeed.zero.GatheredParameters = Gathered

_generate = GenerationMixin.generate


def generate(self, *args, **kwargs):
    records["generate"].append({"synced_gpus": kwargs.get("synced_gpus")})
    return _generate(self, *args, **kwargs)


GenerationMixin.generate = generate

_initialize = deepspeed.initialize


def initialize(*args, **kwargs):
    config = kwargs.get("config_params") or kwargs.get("config") or {}
    keys = ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "gradient_clipping")
    records["engines"].append({k: config.get(k) for k in keys} | {"trains": kwargs.get("optimizer") is not None})
    return _initialize(*args, **kwargs)


deepspeed.initialize = initialize


class ContainsDigit:
    """A toy reward for DPO sampling under a launch: 1.0 when the response has a digit, else 0.1."""

    def score(self, outputs, references, finished=None, lengths=None):
        from medo1.train.reward import Scores

        records["scored"].append(len(outputs))
        return Scores([1.0 if any(c.isdigit() for c in o) else 0.1 for o in outputs], [None] * len(outputs))


def dpo(argv, *, sampling_only: bool = False):
    """DPO (`medo1.train.dpo`) with the toy reward: sampling only, or sampling then training."""
    from transformers import HfArgumentParser

    from medo1.train.dpo import sample_dpo_pairs, train_dpo
    from medo1.train.trl_rl import TRLRLSettings

    (settings,) = HfArgumentParser(TRLRLSettings).parse_args_into_dataclasses(args=argv)
    if sampling_only:
        sample_dpo_pairs(settings, scorer=ContainsDigit(), problems_per_batch=2)
    else:
        train_dpo(settings, scorer=ContainsDigit())

if __name__ == "__main__":
    probe_dir, entry, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    from importlib import import_module

    entries = {"dpo": dpo, "dpo_sampling": lambda argv: dpo(argv, sampling_only=True)}
    main = entries.get(entry) or import_module(f"medo1.train.{entry}").main
    try:
        main(argv)
    finally:
        probe_dir.mkdir(parents=True, exist_ok=True)
        rank = os.environ.get("RANK", "0")
        (probe_dir / f"rank{rank}.json").write_text(json.dumps(records), encoding="utf-8")
