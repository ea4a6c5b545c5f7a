"""Tiny real models for tests: a byte-level BPE tokenizer with a ChatML template and a
randomly initialised Llama of a few layers. Built in well under a second, saved as a
normal Hugging Face checkpoint directory so every code path loads it like a real one."""

from __future__ import annotations

from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS = [
    "## Thinking", "## Final Response", "The answer is A.", "The answer is B.", "The answer is C.",
    "The answer is D.", "Hmm, let me think about this. Wait, oh, that makes sense.",
    "A 45-year-old man presents with chest pain radiating to the left arm.",
    "Which of the following is the most likely diagnosis? Options: A. B. C. D. E.",
    "myocardial infarction pneumonia diabetes insulin aspirin heparin penicillin",
    "user assistant system You are a helpful assistant.",
    "0 1 2 3 4 5 6 7 8 9 yes no maybe correct wrong target word",
]


def build_tokenizer(corpus: list[str] | None = None, vocab_size: int = 512, *, specials: list[str] = SPECIALS,
                    eos_token: str = "<|im_end|>", pad_token: str | None = "<|endoftext|>",
                    chat_template: str | None = CHATML_TEMPLATE):
    """The chat tokenizer by default; other `specials` / `eos_token` / no `chat_template` make a base model's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator((corpus or []) + _CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=eos_token, pad_token=pad_token, bos_token=None, unk_token=None
    )
    fast.chat_template = chat_template
    return fast


def build_tiny_model(out_dir: str | Path, *, layers: int = 2, hidden: int = 64, heads: int = 4,
                     seed: int = 0, corpus: list[str] | None = None, tokenizer=None) -> Path:
    """Save a random tiny Llama + tokenizer (default: `build_tokenizer(corpus)`) to `out_dir`; returns the directory."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out_dir = Path(out_dir)
    tokenizer = tokenizer or build_tokenizer(corpus)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=1024,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None
    )
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build_varied_model(tiny_dir: str | Path, out_dir: str | Path) -> Path:
    """A copy of a tiny checkpoint with larger random weights, so its greedy outputs differ from prompt
    to prompt (the tiny model's small initial weights make every output alike)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(out_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.5)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_dir).save_pretrained(out)
    return out


def teach_replies(tiny_dir: str | Path, rows: list[tuple[list[int], list[int]]], out_dir: str | Path, *,
                  steps: int, lr: float = 3e-3) -> Path:
    """A copy of a tiny checkpoint taught to write each row's reply after its prompt (token ids; the loss on
    the replies only): `steps` Adam steps on the whole batch, on one thread (a tiny model: threads only
    contend)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    width = max(len(p) + len(r) for p, r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    labels = torch.full_like(ids, -100)
    attention = torch.zeros_like(ids)
    for n, (prompt, reply) in enumerate(rows):
        ids[n, : len(prompt) + len(reply)] = torch.tensor(prompt + reply)
        labels[n, len(prompt): len(prompt) + len(reply)] = torch.tensor(reply)
        attention[n, : len(prompt) + len(reply)] = 1
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            model(input_ids=ids, attention_mask=attention, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
