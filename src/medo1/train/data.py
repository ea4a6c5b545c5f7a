"""Training data: SFT examples and RL problems from files or Hugging Face datasets, the chat prompt a
question becomes, and SFT tokenization with the loss on the assistant turn only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from medo1.errors import InputError, Medo1Error
from medo1.jsonl import parse_record, read_jsonl
from medo1.records import Problem, Record, SFTExample
from medo1.thinking import format_target

R = TypeVar("R", bound=Record)


def load_records(source: str, model: type[R], *, split: str = "train") -> list[R]:
    """Records from a .jsonl / .json file, or from a Hugging Face dataset id (`name` or `name:config`,
    or a local dataset folder). Bad rows raise a one-line `file:line: field: problem` error."""
    path = Path(source)
    if path.is_file():
        return read_jsonl(path, model)
    if path.suffix.lower() in (".jsonl", ".json"):
        raise InputError(path, 0, "(file)", "no such file")
    return _from_hf_dataset(source, model, split)


def _from_hf_dataset(source: str, model: type[R], split: str) -> list[R]:
    import datasets

    name, config = source, None
    if not Path(source).exists() and source.count(":") == 1:
        name, config = source.split(":")
    try:
        rows = datasets.load_dataset(name, config, split=split)
    except Exception as err:  # datasets raises many kinds; the message is what the user needs
        raise Medo1Error(f"{source}: not a file, and loading it as a Hugging Face dataset failed: {err}") from None
    label = f"{source}[{split}]"
    records = [parse_record(model, dict(row), label, i) for i, row in enumerate(rows, start=1)]
    if not records:
        raise InputError(label, 0, "(dataset)", "no rows")
    return records


def load_sft_examples(source: str) -> list[SFTExample]:
    """Our SFT records, the public medical-o1 SFT format (`Question, Complex_CoT, Response`) or a dataset id."""
    return load_records(source, SFTExample)


def load_problems(source: str) -> list[Problem]:
    """Our problems, medical-o1 verifiable problems, or a dataset id."""
    return load_records(source, Problem)


# ---------------------------------------------------------------- chat


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


@dataclass
class Tokenized:
    input_ids: list[int]
    completion_mask: list[int]  # 1 on the assistant turn (the trained tokens)
    truncated: bool


def tokenize_sft(tokenizer, example: SFTExample, max_length: int | None) -> Tokenized:
    """The chat-formatted example with a mask of the assistant turn. Raises ValueError when truncation
    to `max_length` would leave no assistant token to learn from."""
    prompt = prompt_messages(example.question)
    target = format_target(example.complex_cot, example.response)
    head = chat_ids(tokenizer, prompt, add_generation_prompt=True)
    full = chat_ids(tokenizer, prompt + [{"role": "assistant", "content": target}])
    # The assistant turn starts where prompt and conversation diverge (templates may re-render the
    # prompt's end, and BPE may merge across the boundary).
    start = 0
    while start < min(len(head), len(full)) and head[start] == full[start]:
        start += 1
    truncated = max_length is not None and len(full) > max_length
    if truncated:
        if start >= max_length:
            raise ValueError(f"the prompt alone is {start} tokens, not shorter than max_length {max_length}")
        full = full[:max_length]
    return Tokenized(full, [0] * start + [1] * (len(full) - start), truncated)
