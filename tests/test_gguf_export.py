"""GGUF export of trained checkpoints and the llama.cpp evaluation path, on a real tiny Llama.

The tiny model is trained for a few seconds to answer four chat prompts in the
`## Thinking ... ## Final Response` format and end its turn with <|im_end|>, so greedy outputs are
real text that stops by itself: the same outputs from transformers and from llama.cpp on the
converted file show that the weights, the tokenizer, the chat template and the end of turn all
survived the conversion.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.evaluate import EvalConfig
from medo1.evaluate.engine import eval_model_spec
from medo1.evaluate.runner import run_eval
from medo1.gguf_export import cache_path, cached_gguf, export_gguf
from medo1.llm.hf import HFChatModel
from medo1.llm.llamacpp import LlamaCppChatModel

CHATS = [
    ("A 45-year-old man presents with chest pain radiating to the left arm.",
     "## Thinking\n\nHmm, chest pain. Wait, the left arm.\n\n## Final Response\n\nThe answer is A."),
    ("Which of the following is the most likely diagnosis? pneumonia",
     "## Thinking\n\nOh, that makes sense.\n\n## Final Response\n\nThe answer is B."),
    ("insulin aspirin heparin penicillin", "## Thinking\n\nLet me think about this.\n\n## Final Response\n\nThe answer is C."),
    ("yes no maybe correct wrong", "## Thinking\n\nHmm.\n\n## Final Response\n\nThe answer is D."),
]
UNSEEN = ["A 3-month-old infant has a murmur.", "What is 7 8 9?"]


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    """A tiny Llama (2 layers, hidden 64) fitted to CHATS: ~5 s on one core."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("gguf")
    tiny = build_tiny_model(root / "tiny", corpus=[q + " " + a for q, a in CHATS])
    tokenizer, model = AutoTokenizer.from_pretrained(tiny), AutoModelForCausalLM.from_pretrained(tiny)
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                           tokenize=False) for q, a in CHATS]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains fastest on one thread (two fight on a busy machine)
    try:
        torch.manual_seed(0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(150):
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    out = root / "trained"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


async def _answers(model, prompts, max_tokens=60):
    try:
        return [await model.chat([{"role": "user", "content": p}], max_tokens=max_tokens) for p in prompts]
    finally:
        await model.aclose()


@pytest.mark.parametrize("outtype", ["f32", "f16", "q8_0"])
def test_gguf_gives_the_same_greedy_answers_as_transformers(trained_dir, tmp_path, outtype):
    gguf_file = export_gguf(trained_dir, tmp_path / f"model.{outtype}.gguf", outtype)
    prompts = [q for q, _ in CHATS] + UNSEEN
    hf = asyncio.run(_answers(HFChatModel(trained_dir, dtype="float32"), prompts))
    cpp = asyncio.run(_answers(LlamaCppChatModel(gguf_file), prompts))
    for (_, answer), h, c in zip(CHATS, hf, cpp):  # the learnt answers, ended by the model itself
        assert h.text == answer and h.finish_reason == "stop"
        assert c.text == answer and c.finish_reason == "stop"
    assert [c.text for c in cpp] == [h.text for h in hf]
    assert [c.usage.prompt_tokens for c in cpp] == [h.usage.prompt_tokens for h in hf]  # same chat template


def test_llama3_rope_scaling_survives_the_conversion(trained_dir, tmp_path):
    """Llama 3.1's RoPE scaling becomes llama.cpp's `rope_freqs` factors: the answers still agree."""
    src = _copy(trained_dir, tmp_path / "llama3")
    config = json.loads((src / "config.json").read_text())
    config["rope_parameters"] = {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    (src / "config.json").write_text(json.dumps(config))
    gguf_file = export_gguf(src, tmp_path / "m.gguf", "f32")
    prompts = [q for q, _ in CHATS]
    hf = asyncio.run(_answers(HFChatModel(src, dtype="float32"), prompts, max_tokens=30))
    cpp = asyncio.run(_answers(LlamaCppChatModel(gguf_file), prompts, max_tokens=30))
    assert [c.text for c in cpp] == [h.text for h in hf]
    assert [h.text for h in hf] != [a[: len(h.text)] for (_, a), h in zip(CHATS, hf)]  # the scaling changed them


def test_gguf_carries_tokenizer_chat_template_and_end_of_turn(trained_dir, tmp_path):
    import gguf
    from transformers import AutoTokenizer

    src = _copy(trained_dir, tmp_path / "ckpt")
    tokenizer = AutoTokenizer.from_pretrained(src)
    endoftext = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = json.loads((src / "generation_config.json").read_text())
    config["eos_token_id"] = [tokenizer.eos_token_id, endoftext]  # a second token that ends a turn
    (src / "generation_config.json").write_text(json.dumps(config))
    reader = gguf.GGUFReader(export_gguf(src, tmp_path / "m.gguf", "q8_0"))
    meta = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert meta["general.architecture"] == "llama"
    assert meta["tokenizer.chat_template"] == tokenizer.chat_template
    assert meta["tokenizer.ggml.eos_token_id"] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert meta["tokenizer.ggml.eot_token_id"] == endoftext
    assert meta["tokenizer.ggml.padding_token_id"] == endoftext
    assert meta["tokenizer.ggml.pre"] == "gpt-2" and meta["tokenizer.ggml.add_bos_token"] is False
    assert meta["tokenizer.ggml.tokens"][: len(tokenizer)] == [tokenizer.convert_ids_to_tokens(i)
                                                                 for i in range(len(tokenizer))]
    kinds = {t.name: t.tensor_type.name for t in reader.tensors}
    assert kinds["blk.0.attn_q.weight"] == "Q8_0" and kinds["blk.0.attn_norm.weight"] == "F32"
    assert "output.weight" not in kinds  # tied embeddings: llama.cpp reuses token_embd


def test_conversion_is_cached_beside_the_checkpoint_and_redone_when_it_changes(trained_dir, tmp_path):
    src = _copy(trained_dir, tmp_path / "sft")
    first = cached_gguf(src, "f16")
    assert first == tmp_path / "sft.f16.gguf" == cache_path(src, "f16") and first.is_file()
    made = first.stat().st_mtime_ns
    assert cached_gguf(src, "f16").stat().st_mtime_ns == made  # re-used, not converted again
    weights = next(src.glob("*.safetensors"))
    os.utime(weights, ns=(made + 10**9, made + 10**9))  # the checkpoint was written again
    assert cached_gguf(src, "f16").stat().st_mtime_ns != made
    (first.with_name(first.name + ".json")).unlink()  # an interrupted conversion leaves no stamp: redone
    assert cached_gguf(src, "f16").is_file() and first.with_name(first.name + ".json").is_file()


def _bench(tmp_path):
    path = tmp_path / "questions.jsonl"
    rows = [{"question": q, "options": {"A": "one", "B": "two", "C": "three", "D": "four"}, "answer": a[-2]}
            for q, a in CHATS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_auto_evaluates_on_the_faster_engine_of_this_cpu(trained_dir, cpu_of_kind):
    # without native bf16 transformers runs fp32 and llama.cpp is several times faster; with it (AMX), batched
    # bf16 transformers was the faster one (benchmarks/eval_throughput.py: 0.58 against 0.38 items/s)
    from medo1.precision import cpu_reports_native_bf16

    cpu_of_kind("emulated")
    assert eval_model_spec(f"hf:{trained_dir}", "auto").startswith("gguf:")
    if cpu_reports_native_bf16():
        cpu_of_kind("native")
        assert eval_model_spec(f"hf:{trained_dir}", "auto") == f"hf:{trained_dir}"
        assert eval_model_spec(f"hf:{trained_dir}", "gguf").startswith("gguf:")  # asked for: always llama.cpp


def test_eval_runs_checkpoints_on_llamacpp_by_default_and_on_transformers_on_request(trained_dir, tmp_path,
                                                                                      cpu_of_kind):
    cpu_of_kind("emulated")  # a CPU without native bf16, where "auto" is llama.cpp
    src = _copy(trained_dir, tmp_path / "rl")
    questions = _bench(tmp_path)
    config = EvalConfig(benches=(str(questions),), max_tokens=60, progress=False)
    fast = run_eval(str(src), tmp_path / "fast", config, cache=False)
    assert fast["model"] == f"hf:{src}" and fast["setup"]["backend"] == "llama.cpp f16"  # results name the checkpoint
    assert (tmp_path / "rl.f16.gguf").is_file() and fast["benches"]["questions"]["answered"] == 4
    rows = [json.loads(line) for line in (tmp_path / "fast" / "questions.items.jsonl").read_text().splitlines()]
    assert all(r["output"].strip() and r["finish_reason"] in ("stop", "length") for r in rows)
    slow = run_eval(str(src), tmp_path / "slow", dataclasses.replace(config, backend="hf"), cache=False)
    assert slow["setup"]["backend"] == "transformers" and slow["benches"]["questions"]["answered"] == 4
    # answers of one engine are never mixed with another's in one directory
    with pytest.raises(Medo1Error, match="backend 'transformers' -> 'llama.cpp f16'"):
        run_eval(str(src), tmp_path / "slow", config, cache=False)


def test_a_checkpoint_that_cannot_be_converted_is_evaluated_on_transformers(trained_dir, tmp_path, caplog,
                                                                            cpu_of_kind):
    cpu_of_kind("emulated")
    src = _copy(trained_dir, tmp_path / "mistral")
    config = json.loads((src / "config.json").read_text())
    config.update(architectures=["MistralForCausalLM"], model_type="mistral", sliding_window=None)
    (src / "config.json").write_text(json.dumps(config))
    questions = _bench(tmp_path)
    with caplog.at_level(logging.WARNING, logger="medo1.evaluate.engine"):
        results = run_eval(str(src), tmp_path / "eval", EvalConfig(benches=(str(questions),), max_tokens=8,
                                                                   progress=False), cache=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "medo1.evaluate.engine"]
    assert len(lines) == 1 and "transformers (hf)" in lines[0] and "MistralForCausalLM" in lines[0], lines
    assert results["setup"]["backend"] == "transformers" and results["benches"]["questions"]["answered"] == 4
    assert not list(tmp_path.glob("*.gguf"))
    with pytest.raises(Medo1Error, match="MistralForCausalLM"):  # asked for explicitly: an error, not a fallback
        eval_model_spec(f"hf:{src}", "gguf")


def test_other_model_specs_and_the_hf_switch_are_left_alone(trained_dir):
    assert eval_model_spec(f"hf:{trained_dir}", "hf") == f"hf:{trained_dir}"
    assert eval_model_spec("embedded", "auto") == "embedded"
    assert eval_model_spec("hf:HuggingFaceTB/SmolLM2-135M-Instruct", "auto") == "hf:HuggingFaceTB/SmolLM2-135M-Instruct"
    with pytest.raises(Medo1Error, match="expected one of auto, hf, gguf"):
        eval_model_spec(f"hf:{trained_dir}", "vllm")


def test_export_command_writes_a_file_llamacpp_can_chat_with(trained_dir, tmp_path):
    out = tmp_path / "model.gguf"
    result = CliRunner().invoke(app, ["export", "--gguf", str(trained_dir), "--out", str(out), "--type", "f32"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "f32" in result.output
    [answer] = asyncio.run(_answers(LlamaCppChatModel(out), [CHATS[0][0]]))
    assert answer.text == CHATS[0][1] and answer.finish_reason == "stop"
    bad = CliRunner().invoke(app, ["export", "--gguf", str(trained_dir), "--out", str(out), "--type", "q4_k"])
    assert bad.exit_code != 0 and "--type 'q4_k'" in str(bad.exception)
