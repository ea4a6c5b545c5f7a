"""End of turn: a base model given a chat template with --chat-template ends its trained turns with the
template's token (<|eot_id|>, <|im_end|>); the SFT checkpoint must stop generating there, and so must PPO."""

from __future__ import annotations

import json

import pytest

from medo1.llm.chat_template import end_of_turn_token, register_end_of_turn
from medo1.llm.hf import stop_token_ids
from medo1.train.ppo import eos_token_ids
from medo1.train.sft import SFTSettings, train_sft
from tests.tiny import CHATML_TEMPLATE, build_tiny_model, build_tokenizer

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
# A name on no list: found only by rendering the template.
CUSTOM_TEMPLATE = CHATML_TEMPLATE.replace("<|im_end|>", "<|turn_end|>")
# The template writes eos_token itself after its end-of-turn token.
EOS_WRITING_TEMPLATE = CHATML_TEMPLATE.replace("'<|im_end|>' + '\n'", "'<|im_end|>' + eos_token + '\n'")

BASE_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                 "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|turn_end|>"]
# (template, the base model's EOS as its family ships it, the end-of-turn token)
STYLES = {
    "llama3": (LLAMA3_TEMPLATE, "<|end_of_text|>", "<|eot_id|>"),
    "chatml": (CHATML_TEMPLATE, "<|endoftext|>", "<|im_end|>"),
}


def _base_tokenizer(eos: str, chat_template: str | None = None):
    """A base model's tokenizer: the chat specials are in the vocabulary, EOS is end-of-text, no pad."""
    return build_tokenizer(specials=BASE_SPECIALS, eos_token=eos, pad_token=None, chat_template=chat_template)


def _base_model(tmp_path, eos: str, chat_template: str | None = None):
    return build_tiny_model(tmp_path / "base", tokenizer=_base_tokenizer(eos, chat_template))


def test_end_of_turn_token_is_read_from_the_rendered_template():
    for template, eos, eot in STYLES.values():
        assert end_of_turn_token(_base_tokenizer(eos, template)) == eot
    assert end_of_turn_token(_base_tokenizer("<|endoftext|>", CUSTOM_TEMPLATE)) == "<|turn_end|>"
    # turns closed by EOS itself (Mistral, DeepSeek): EOS is the end of turn
    eos_closed = "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + eos_token }}{% endfor %}"
    assert end_of_turn_token(_base_tokenizer("<|end_of_text|>", eos_closed)) == "<|end_of_text|>"
    # a template that cannot render the probe falls back to the known names it mentions
    strict = "{{ raise_exception('system first') }}" + CHATML_TEMPLATE
    assert end_of_turn_token(_base_tokenizer("<|endoftext|>", strict)) == "<|im_end|>"
    assert end_of_turn_token(_base_tokenizer("<|endoftext|>", None)) is None


@pytest.mark.parametrize("style", list(STYLES))
def test_sft_checkpoint_of_a_base_model_stops_at_the_end_of_turn(style, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    template, eos, eot = STYLES[style]
    base = _base_model(tmp_path, eos)
    base_tok = AutoTokenizer.from_pretrained(base)
    assert not base_tok.chat_template and base_tok.eos_token == eos
    (tmp_path / "template.jinja").write_text(template)
    rows = [{"Question": f"Which drug for chest pain {i}?", "Complex_CoT": "Hmm, aspirin.",
             "Response": "The answer is A."} for i in range(2)]
    (tmp_path / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = train_sft(SFTSettings(data=str(tmp_path / "sft.jsonl"), model=str(base), out=str(tmp_path / "sft"),
                                chat_template=str(tmp_path / "template.jinja"), batch_size=2, max_steps=2,
                                bf16=False, lr_scheduler="constant", warmup_ratio=0.0))

    tok = AutoTokenizer.from_pretrained(out)
    eos_id, eot_id = base_tok.convert_tokens_to_ids(eos), base_tok.convert_tokens_to_ids(eot)
    assert tok.chat_template == template
    assert tok.eos_token == eot and tok.eos_token_id == eot_id
    assert tok.pad_token == eos  # padding stays on the original EOS
    assert GenerationConfig.from_pretrained(out).eos_token_id == [eos_id, eot_id]  # as Llama-3-Instruct ships it
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.generation_config.eos_token_id == model.config.eos_token_id == [eos_id, eot_id]
    assert set(eos_token_ids(tok, model)) == {eos_id, eot_id}

    # generate() with the checkpoint's own config really stops there: the end-of-turn token is made the
    # certain next token; without it registered, generation would repeat it up to max_new_tokens
    from transformers import LogitsProcessorList

    def only_end_of_turn(input_ids, scores):
        forced = scores.new_full(scores.shape, float("-inf"))
        forced[:, eot_id] = 0.0
        return forced

    prompt = tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                     return_tensors="pt", return_dict=True)
    tokens = model.generate(**prompt, max_new_tokens=20, do_sample=False,
                            logits_processor=LogitsProcessorList([only_end_of_turn]))
    tokens = tokens[0, prompt["input_ids"].shape[1]:]
    assert tokens.tolist() == [eot_id]


def test_ppo_eos_set_includes_the_end_of_turn_of_a_checkpoint_that_does_not_register_it(tmp_path):
    """A checkpoint whose template closes turns with <|eot_id|> but whose configs name only <|end_of_text|>
    (one saved before the end of turn was registered, or one trained elsewhere)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = _base_model(tmp_path, "<|end_of_text|>", LLAMA3_TEMPLATE)
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    ids = eos_token_ids(tok, model)
    assert ids == [tok.convert_tokens_to_ids("<|end_of_text|>"), tok.convert_tokens_to_ids("<|eot_id|>")]
    assert stop_token_ids(model, tok) == ids  # and the `hf` backend (chat, evaluation) stops there too


def test_a_template_that_writes_eos_keeps_its_eos_token(tmp_path):
    """Changing eos_token would change the conversations such a template renders: only the generation
    config gains the end-of-turn token."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = _base_model(tmp_path, "<|endoftext|>", EOS_WRITING_TEMPLATE)
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    before = tok.apply_chat_template(chat, tokenize=False)
    assert register_end_of_turn(tok, model) == "<|im_end|>"
    assert tok.eos_token == "<|endoftext|>" and tok.apply_chat_template(chat, tokenize=False) == before
    ids = [tok.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_end|>")]
    assert model.generation_config.eos_token_id == ids
