"""The chat format of a checkpoint: a question as its prompt, and the token with which its chat template
closes an assistant turn (the EOS that training registers and every generator stops at)."""

from __future__ import annotations

from medo1.errors import Medo1Error


def prompt_messages(question: str) -> list[dict[str, str]]:
    """A question as the model sees it: one user turn (the model's chat template does the rest)."""
    return [{"role": "user", "content": question}]


def check_chat_template(tokenizer, model_name: str) -> None:
    if not getattr(tokenizer, "chat_template", None):
        raise Medo1Error(
            f"{model_name}: the tokenizer has no chat template; use an instruct/chat model or pass "
            "--chat-template with a Jinja template file"
        )


# Used only when rendering a probe conversation does not show the end-of-turn token (a template that
# raises on the probe, or one that closes the turn with plain text); each must be in the template and vocab.
KNOWN_END_OF_TURN = ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|END_OF_TURN_TOKEN|>", "<|eom_id|>")

_PROBE = "medo1-end-of-turn-probe"


def _render_probe(tokenizer) -> str | None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": _PROBE}]
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception:  # templates raise their own errors (role order, missing system turn, ...)
        return None


def end_of_turn_token(tokenizer) -> str | None:
    """The special token with which the chat template closes an assistant turn (`<|eot_id|>` for Llama 3,
    `<|im_end|>` for ChatML, `</s>` for templates that end turns with EOS), or None if it has none.

    Found by rendering a one-message assistant turn and taking the first special token after its content,
    so any template works without a list of names; `KNOWN_END_OF_TURN` is the fallback when the probe
    cannot be rendered or shows no special token."""
    specials = set(tokenizer.all_special_tokens)
    specials |= {t.content for t in getattr(tokenizer, "added_tokens_decoder", {}).values() if t.special}
    specials.discard(None)
    text = _render_probe(tokenizer)
    if text and _PROBE in text:
        tail = text[text.rindex(_PROBE) + len(_PROBE):]
        found = [(tail.index(t), -len(t), t) for t in specials if t and t in tail]
        if found:
            return min(found)[2]  # the earliest; the longest where two start at the same place
    vocab = tokenizer.get_vocab()
    template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else ""
    return next((t for t in KNOWN_END_OF_TURN if t in vocab and t in template), None)


def register_end_of_turn(tokenizer, model) -> str | None:
    """Make the template's end-of-turn token an EOS, so generation stops where a trained turn ends: the
    model's `generation_config.eos_token_id` (and `config.eos_token_id`) becomes a list of the original EOS
    and the end-of-turn token (as Llama-3.1-Instruct ships it), and the tokenizer's `eos_token` becomes the end-of-turn token (as
    Qwen2.5-Instruct ships it) unless the template itself writes `eos_token` (changing it would change
    the rendered conversations). Set the pad token before calling this: it stays the original EOS.
    Returns the end-of-turn token, or None when the template has none."""
    eot = end_of_turn_token(tokenizer)
    if eot is None:
        return None
    eot_id = tokenizer.convert_tokens_to_ids(eot)
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    for token_id in (tokenizer.eos_token_id, eot_id):
        if token_id is not None and token_id not in ids:
            ids.append(token_id)
    model.generation_config.eos_token_id = ids
    model.config.eos_token_id = list(ids)  # else the trainer "aligns" them to the tokenizer's one EOS
    if tokenizer.eos_token != eot:
        before, old = _render_probe(tokenizer), tokenizer.eos_token
        tokenizer.eos_token = eot
        if _render_probe(tokenizer) != before:
            tokenizer.eos_token = old
    return eot


def chat_ids(tokenizer, messages: list[dict[str, str]], *, add_generation_prompt: bool = False) -> list[int]:
    return list(
        tokenizer.apply_chat_template(
            messages, tokenize=True, add_generation_prompt=add_generation_prompt, return_dict=False
        )
    )


def prompt_ids(tokenizer, question: str) -> list[int]:
    """Token ids of the chat prompt for `question`, ending where the assistant starts writing."""
    return chat_ids(tokenizer, prompt_messages(question), add_generation_prompt=True)
