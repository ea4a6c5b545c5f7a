"""Rollouts: sampling responses exactly at the configured temperature, where a response ends, and the
batches (prompt + response in one row) that log-probs and values are computed on."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import torch

from medo1.errors import Medo1Error
from medo1.train.ppo.losses import response_lengths


def _model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids")}


def _response_slice(per_position: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Values predicted at the position before each response token (the state it is chosen in)."""
    start = int(batch["response_start"])
    return per_position[:, start - 1 : start - 1 + batch["response_ids"].shape[1]]


def response_logprobs(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probs (at the fused head's temperature) and entropies of the response tokens."""
    out = model(**_model_inputs(batch), labels=batch["labels"], fused_lm_head=True, use_cache=False)
    start, width = int(batch["response_start"]), batch["response_ids"].shape[1]
    # log_probs[:, j] scores token j + 1: the response tokens are at start .. start + width - 1
    return out.log_probs[:, start - 1 : start - 1 + width], out.entropy[:, start - 1 : start - 1 + width]


def collate(queries: list[list[int]], responses: list[list[int]], pad_id: int, device) -> dict[str, torch.Tensor]:
    """Prompts left-padded, responses right-padded, in one row each: [pad.. prompt | response ..pad].
    Position ids count real tokens only, as in generation with left padding."""
    p = max(len(q) for q in queries)
    r = max(len(x) for x in responses)
    ids = torch.full((len(queries), p + r), pad_id, dtype=torch.long)
    attn = torch.zeros_like(ids)
    for i, (q, x) in enumerate(zip(queries, responses)):
        ids[i, p - len(q) : p + len(x)] = torch.tensor(q + x)
        attn[i, p - len(q) : p + len(x)] = 1
    labels = torch.full_like(ids, -100)
    labels[:, p:] = torch.where(attn[:, p:].bool(), ids[:, p:], -100)
    batch = {
        "input_ids": ids,
        "attention_mask": attn,
        "position_ids": (attn.cumsum(1) - 1).clamp(min=0),
        "labels": labels,
        "response_ids": ids[:, p:],
        "response_mask": attn[:, p:].bool(),
    }
    batch = {k: v.to(device) for k, v in batch.items()}
    batch["response_start"] = p
    return batch


def _pad_rows(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    out = torch.zeros(len(rows), width, dtype=rows[0].dtype, device=rows[0].device)
    for i, row in enumerate(rows):
        out[i, : row.shape[0]] = row
    return out


@torch.no_grad()
def sample_responses(
    policy, queries: list[list[int]], *, pad_id: int, eos_ids: list[int], temperature: float, max_new_tokens: int,
    batch_size: int, autocast=nullcontext,
) -> list[list[int]]:
    """Sample one response per prompt (token ids, up to and including the first EOS; all of it when
    cut off at `max_new_tokens`). Pure temperature sampling: log-probs are computed for exactly this
    distribution, so no top-k / top-p / repetition penalty from the checkpoint's generation config."""
    from medo1.llm.sampling import generation_config, model_defaults_off

    generation = generation_config(
        do_sample=True, temperature=temperature, max_new_tokens=max_new_tokens, eos_token_id=eos_ids,
        pad_token_id=pad_id,
    )
    device = next(policy.parameters()).device
    was_training = policy.training
    policy.eval()
    responses = []
    for i in range(0, len(queries), batch_size):
        chunk = queries[i : i + batch_size]
        width = max(len(q) for q in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        attn = torch.zeros_like(ids)
        for j, q in enumerate(chunk):  # left padding: every prompt ends where generation starts
            ids[j, width - len(q) :] = torch.tensor(q)
            attn[j, width - len(q) :] = 1
        with autocast(), model_defaults_off(policy):
            # synced_gpus off: the weights are whole here (gathered under ZeRO-3), so no process waits for another
            out = policy.generate(input_ids=ids.to(device), attention_mask=attn.to(device), generation_config=generation,
                                  synced_gpus=False)
        tokens = out[:, width:]
        lengths = response_lengths(tokens, eos_ids).tolist()
        responses += [tokens[j, :n].tolist() for j, n in enumerate(lengths)]
    policy.train(was_training)
    return responses


def eos_token_ids(tokenizer, model) -> list[int]:
    """Every token that ends a response: the generation config's (may be several), the tokenizer's, and
    the chat template's end-of-turn token (a checkpoint whose config does not register it still stops);
    the same set the `hf` backend stops at."""
    from medo1.llm.hf import stop_token_ids

    try:
        return stop_token_ids(model, tokenizer)
    except Medo1Error:
        raise Medo1Error("the model has no end-of-sequence token; RL needs one to know where responses end") from None


@contextmanager
def policy_for_generation(model, accelerator, *, zero3: bool):
    """The policy of a prepared PolicyAndValue, ready to generate: gradient checkpointing off and, under
    ZeRO-3, only the policy's parameters gathered whole (the value model stays sharded), with the engine's
    parameter-fetching hooks lifted while it generates (as TRL does for its trainers)."""
    wrapper = accelerator.unwrap_model(model)
    checkpointing = wrapper.is_gradient_checkpointing
    if checkpointing:
        wrapper.gradient_checkpointing_disable()
    try:
        if zero3:
            import deepspeed
            from trl.models.utils import add_hooks, remove_hooks

            with deepspeed.zero.GatheredParameters(list(wrapper.policy.parameters())):
                remove_hooks(model)
                try:
                    yield wrapper.policy
                finally:
                    add_hooks(model)
        else:
            yield wrapper.policy
    finally:
        if checkpointing:
            wrapper.gradient_checkpointing_enable()


def problem_order(n: int, step: int, batch_size: int, seed: int) -> list[int]:
    """Problem indices of PPO step `step`: consecutive slices of a stream of seeded shuffles (one per
    pass over the problems), so a resumed run sees the same problems at the same steps."""
    out = []
    start = step * batch_size
    epoch, offset = divmod(start, n)
    while len(out) < batch_size:
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        out += perm[offset:]
        epoch, offset = epoch + 1, 0
    return out[:batch_size]
