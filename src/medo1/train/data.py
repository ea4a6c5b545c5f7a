"""Training data: SFT examples and RL problems from files or Hugging Face datasets, and SFT tokenization
with the loss on the assistant turn only (the chat prompt a question becomes: medo1.llm.chat_template)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from medo1.errors import InputError, Medo1Error
from medo1.jsonl import parse_record, read_jsonl
from medo1.llm.chat_template import chat_ids, prompt_messages
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
