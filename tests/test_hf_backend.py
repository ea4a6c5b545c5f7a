"""The transformers backend on a tiny real Llama: dynamic batching, per-row limits and seeds."""

import asyncio
import json
import shutil

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from medo1.errors import Medo1Error, ModelError
from medo1.llm import load_model
from medo1.llm.hf import HFChatModel
from tests.tiny import build_varied_model

PROMPTS = ["hi", "The answer is A. " * 3, "chest pain radiating to the left arm", "yes no maybe " * 7, "0 1 2 3"]


def conv(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def varied_dir(tiny_model_dir, tmp_path_factory):
    """The tiny checkpoint with larger random weights: its greedy outputs differ from prompt to prompt."""
    return build_varied_model(tiny_model_dir, tmp_path_factory.mktemp("varied"))


def reference_greedy(checkpoint, text: str, n: int) -> list[int]:
    """Plain unpadded `generate` on one prompt: up to `n` new tokens, cut before the first EOS."""
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
    prompt = tokenizer.apply_chat_template(conv(text), add_generation_prompt=True, tokenize=False)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=n, do_sample=False)
    tokens = out[0, inputs["input_ids"].shape[1]:].tolist()
    return tokens[: tokens.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in tokens else tokens


@pytest.fixture
def model(varied_dir):
    return HFChatModel(varied_dir, dtype="float32", max_batch_size=8, name="hf:varied")


async def test_concurrent_calls_are_batched_and_match_one_at_a_time(model, varied_dir):
    single = [await model.chat(conv(p), max_tokens=12) for p in PROMPTS]
    assert list(model.batch_sizes) == [1] * len(PROMPTS)
    batched = await asyncio.gather(*(model.chat(conv(p), max_tokens=12) for p in PROMPTS))
    assert max(model.batch_sizes) > 1
    assert [c.text for c in batched] == [c.text for c in single]
    assert len({c.text for c in single}) == len(PROMPTS)  # the prompts really lead to different outputs

    for text, completion in zip(PROMPTS, batched):  # and both equal plain unpadded generate()
        reference = reference_greedy(varied_dir, text, 12)
        assert completion.text == model.tokenizer.decode(reference, skip_special_tokens=True)


async def test_batch_size_is_bounded(varied_dir):
    model = HFChatModel(varied_dir, dtype="float32", max_batch_size=2)
    await asyncio.gather(*(model.chat(conv(p), max_tokens=2) for p in PROMPTS))
    assert sum(model.batch_sizes) == len(PROMPTS) and max(model.batch_sizes) == 2


async def test_per_request_max_tokens_finish_reason_and_usage(varied_dir, tmp_path):
    # Make the 4th greedy token of PROMPTS[2] an end-of-sequence token, so that request stops by
    # itself after 4 tokens while the others run to their own limits in the same batch.
    reference = reference_greedy(varied_dir, PROMPTS[2], 8)
    assert len(reference) == 8
    stop_token = reference[3]
    assert stop_token not in reference[:3]
    checkpoint = tmp_path / "ckpt"
    shutil.copytree(varied_dir, checkpoint)
    generation = json.loads((checkpoint / "generation_config.json").read_text())
    generation["eos_token_id"] = [generation["eos_token_id"], stop_token]
    (checkpoint / "generation_config.json").write_text(json.dumps(generation))

    model = HFChatModel(checkpoint, dtype="float32", max_batch_size=8)
    others = [p for p in (PROMPTS[0], PROMPTS[1], PROMPTS[4]) if stop_token not in reference_greedy(varied_dir, p, 9)]
    limits = [1, 5, 9][: len(others)]
    results = await asyncio.gather(
        model.chat(conv(PROMPTS[2]), max_tokens=20, tag="t.stop"),
        *(model.chat(conv(p), max_tokens=n, tag="t.length") for p, n in zip(others, limits)),
    )
    assert list(model.batch_sizes) == [1 + len(others)]
    stopped, limited = results[0], results[1:]
    assert stopped.finish_reason == "stop" and stopped.usage.completion_tokens == 4  # 3 tokens + the stop token
    assert stopped.text == model.tokenizer.decode(reference[:3], skip_special_tokens=True)
    for completion, limit in zip(limited, limits):
        assert completion.finish_reason == "length" and completion.usage.completion_tokens == limit

    prompt_ids = model.tokenizer.apply_chat_template(conv(PROMPTS[2]), add_generation_prompt=True, tokenize=False)
    assert stopped.usage.prompt_tokens == len(model.tokenizer(prompt_ids, add_special_tokens=False)["input_ids"])
    usage = model.meter.by_tag
    assert (usage["t.stop"].calls, usage["t.stop"].completion_tokens) == (1, 4)
    assert (usage["t.length"].calls, usage["t.length"].completion_tokens) == (len(others), sum(limits))


async def test_seeded_sampling_is_reproducible_whatever_the_batch(model):
    alone = await model.chat(conv(PROMPTS[0]), max_tokens=10, temperature=1.0, seed=1)
    mixed = await asyncio.gather(
        model.chat(conv(PROMPTS[0]), max_tokens=10, temperature=1.0, seed=1),
        model.chat(conv(PROMPTS[0]), max_tokens=10, temperature=1.0, seed=2),
        model.chat(conv(PROMPTS[3]), max_tokens=10, temperature=0.7, seed=1),
        model.chat(conv(PROMPTS[0]), max_tokens=10),  # greedy, in the same batch
    )
    assert max(model.batch_sizes) == 4
    assert mixed[0].text == alone.text
    assert mixed[1].text != mixed[0].text
    greedy_alone = await model.chat(conv(PROMPTS[0]), max_tokens=10)
    assert mixed[3].text == greedy_alone.text


async def test_event_loop_is_not_blocked(model):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(model.chat(conv(p), max_tokens=200) for p in PROMPTS))
    task.cancel()
    # Loading and ~200 decode steps run on the worker thread; a blocked loop would barely tick.
    assert ticks >= 20


async def test_one_bad_request_fails_alone(model):
    ok, too_long = await asyncio.gather(
        model.chat(conv("hi"), max_tokens=3),
        model.chat(conv("hi " * 1100), max_tokens=3),  # the tiny model has 1024 positions
        return_exceptions=True,
    )
    assert ok.usage.completion_tokens == 3
    assert isinstance(too_long, ModelError) and "context window of 1024" in str(too_long)
    assert model.meter.by_tag["chat"].errors == 1


async def test_cancelled_request_does_not_disturb_others(model):
    first = asyncio.ensure_future(model.chat(conv(PROMPTS[0]), max_tokens=40))
    second = asyncio.ensure_future(model.chat(conv(PROMPTS[1]), max_tokens=5))
    await asyncio.sleep(0)
    first.cancel()
    completion = await second
    assert completion.usage.completion_tokens == 5
    with pytest.raises(asyncio.CancelledError):
        await first


def test_same_model_serves_several_event_loops(varied_dir):
    model = load_model(f"hf:{varied_dir}", cache=False, concurrency=4)
    assert isinstance(model, HFChatModel)
    first = asyncio.run(model.chat(conv("hi"), max_tokens=4))
    second = asyncio.run(model.chat(conv("hi"), max_tokens=4))
    assert first.text == second.text and first.usage.completion_tokens == 4
    assert load_model(f"hf:{varied_dir}", cache=False, concurrency=4) is model


def test_identity_and_options(varied_dir, tmp_path):
    model = HFChatModel(varied_dir, dtype="float32")
    ident = model.identity()
    assert ident["backend"] == "transformers" and ident["dtype"] == "float32" and ident["weights"]
    assert HFChatModel("HuggingFaceTB/SmolLM2-135M-Instruct").identity()["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    with pytest.raises(Medo1Error, match="dtype"):
        HFChatModel(varied_dir, dtype="fp8")
    with pytest.raises(Medo1Error, match="cannot load"):
        asyncio.run(HFChatModel(tmp_path / "nothing-here", dtype="float32").chat(conv("hi"), max_tokens=2))


def test_exposes_model_and_tokenizer(varied_dir):
    model = HFChatModel(varied_dir, dtype="float32")
    assert model.model.dtype == torch.float32 and model.tokenizer.chat_template
    assert model.model is model.load()[0]


async def test_aclose_fails_waiting_calls_and_reloads_later(model):
    running = asyncio.ensure_future(model.chat(conv(PROMPTS[0]), max_tokens=3))
    await asyncio.sleep(0.05)  # the first call is in its batch (or done)
    waiting = asyncio.ensure_future(model.chat(conv(PROMPTS[1]), max_tokens=3))
    await asyncio.sleep(0)  # queued
    await model.aclose()
    with pytest.raises(ModelError, match="closed"):
        await waiting
    done, _ = await asyncio.wait([running], timeout=10)  # in its batch when closed: fails, never hangs
    assert done and (running.exception() is None or "closed" in str(running.exception()))
    completion = await model.chat(conv(PROMPTS[1]), max_tokens=3)  # loads again
    assert completion.usage.completion_tokens == 3
