"""`--backend vllm`: the same prompts, stop tokens and sampling as the transformers backend, checked without
vLLM (tests/test_vllm_greedy.py compares the answers themselves where vLLM is installed)."""

import asyncio

import pytest

from medo1.errors import Medo1Error
from medo1.evaluate import EvalConfig, run_eval
from medo1.llm.hf import HFChatModel, prompt_token_ids, stop_token_ids
from medo1.llm.vllm import INSTALL, VLLMChatModel, load_vllm, sampling_fields, vllm_installed
from tests.tiny import build_tiny_model, build_tokenizer, build_varied_model

CONVERSATIONS = [
    [{"role": "user", "content": "A 45-year-old man has chest pain. Which drug first?\nA. Aspirin\nB. Heparin"}],
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "Wait, oh: 维生素 C and «insulin» — correct? "}],
    [{"role": "user", "content": "first"}, {"role": "assistant", "content": "## Thinking\n\nhmm"},
     {"role": "user", "content": "second turn  with  spaces\n\n"}],
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny Llama whose head size (64) vLLM's CPU attention supports, with weights large enough that its
    greedy answers vary (the plain tiny model repeats one token)."""
    tiny = build_tiny_model(tmp_path_factory.mktemp("tiny-vllm"), hidden=128, heads=2)
    return build_varied_model(tiny, tmp_path_factory.mktemp("varied-vllm"))


def test_both_backends_render_the_same_prompt_and_stop_at_the_same_tokens(model_dir):
    hf, vllm = HFChatModel(model_dir, dtype="float32", device="cpu"), VLLMChatModel(model_dir)
    for messages in CONVERSATIONS:
        ids = vllm.prompt_ids(messages)
        assert ids == prompt_token_ids(hf.tokenizer, messages)
        assert hf.tokenizer.decode(ids).endswith("<|im_start|>assistant\n")  # the assistant's turn is open
    # the hf backend's generate() really starts from those ids: it counts them as the prompt
    completion = asyncio.run(hf.chat(CONVERSATIONS[1], max_tokens=1))
    assert completion.usage.prompt_tokens == len(vllm.prompt_ids(CONVERSATIONS[1]))
    assert vllm.stop_ids() == stop_token_ids(hf.model, hf.tokenizer)


def test_a_checkpoint_without_generation_config_still_stops_at_its_end_of_turn(tmp_path):
    tokenizer = build_tokenizer()
    tokenizer.save_pretrained(tmp_path)  # a tokenizer alone: no generation_config.json
    assert VLLMChatModel(tmp_path).stop_ids() == [tokenizer.convert_tokens_to_ids("<|im_end|>")]


def test_sampling_fields_are_plain_temperature_sampling():
    greedy = sampling_fields(max_tokens=64, temperature=0.0, seed=3, stop_token_ids=[2, 7])
    assert greedy["temperature"] == 0.0 and greedy["max_tokens"] == 64 and greedy["seed"] == 3
    assert greedy["stop_token_ids"] == [2, 7] and greedy["n"] == 1 and greedy["skip_special_tokens"]
    sampled = sampling_fields(max_tokens=8, temperature=0.7, seed=0, stop_token_ids=[2])
    assert sampled["temperature"] == 0.7
    # nothing cut off, nothing penalised: the full softmax at that temperature, as the hf backend samples
    assert (sampled["top_p"], sampled["min_p"], sampled["repetition_penalty"], sampled["presence_penalty"],
            sampled["frequency_penalty"], sampled["min_tokens"]) == (1.0, 0.0, 1.0, 0.0, 0.0, 0)
    assert "top_k" not in sampled  # vLLM's own "off" value, which differs between its releases


@pytest.mark.skipif(vllm_installed(), reason="vLLM is installed here; this checks the message without it")
def test_without_vllm_one_clear_line(model_dir, tmp_path):
    with pytest.raises(Medo1Error) as err:
        load_vllm(f"hf:{model_dir}")
    assert str(err.value) == INSTALL and "\n" not in INSTALL and "pip install 'medo1[vllm]'" in INSTALL
    with pytest.raises(Medo1Error, match=r"needs vLLM, which is not installed"):
        run_eval(str(model_dir), tmp_path / "eval", EvalConfig(benches=("sample",), limit=1, backend="vllm",
                                                             progress=False), cache=False)
