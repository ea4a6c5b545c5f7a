"""Trained checkpoints as GGUF files for llama.cpp: `medo1 export --gguf`, and the fast CPU evaluation.

    export_gguf("runs/demo/ckpt/sft", "sft.f16.gguf", outtype="f16")   # for llama.cpp / Ollama / LM Studio
    cached_gguf("runs/demo/ckpt/sft", "f16")     # -> runs/demo/ckpt/sft.f16.gguf, converted once

The conversion is llama.cpp's own, through its Python library `gguf` (gguf-py: the writer, the
tensor names of each architecture, the tokenizer's special tokens, merges and chat template, the
Q8_0 / BF16 quantizers) and the same rules as llama.cpp's `convert_hf_to_gguf.py` for the Llama
architecture: Q/K rows permuted to llama.cpp's rotary layout, 1-D tensors kept in F32, the
byte-level BPE pre-tokenizer identified by the hash of a probe text's tokens. That script itself
is not on PyPI (it ships in llama.cpp's source tree only), so medo1 covers the architecture its
recipe trains, Llama (SmolLM2, Llama 3.x) with a byte-level BPE tokenizer; anything else is a clear
error, and evaluation then stays on transformers.

Output types (CPU decoding reads every weight once per token, so fewer bytes decode faster). Measured
on SmolLM2-135M, 20 questions x 128 tokens, against transformers in fp32 (the exact answers):
  f32   4 bytes a weight: the exact weights. Same letter 20/20, same text 17/20 (kernels sum in another
        order); the slowest (1.7x f16's time).
  f16   2 bytes, 10-bit mantissa (the default): same letter 19/20, same text 14/20, nearly q8_0's speed.
        A weight beyond f16's range (65504) fails the export instead of becoming inf.
  q8_0  ~1.06 bytes (8-bit blocks of 32 with a scale): fastest, but same letter 14/20, same text 1/20;
        compare transformers in bf16, today's hf default on CPUs with native bf16: 16/20 and 2/20.
  bf16  2 bytes, 7-bit mantissa: lossless only for weights trained and saved in bf16.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from medo1.errors import Medo1Error

log = logging.getLogger(__name__)

OUTTYPES = ("f32", "f16", "bf16", "q8_0")
CONVERTER_VERSION = 1  # part of the cache key: a fixed conversion bug re-converts cached files
SUPPORTED_ARCHITECTURES = ("LlamaForCausalLM",)
F16_MAX = 65504.0

# The probe text and pre-tokenizer hashes of llama.cpp's convert_hf_to_gguf.py (get_vocab_base_pre),
# for the tokenizers of Llama-architecture models.
_PROBE = ("\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ 🦙🦙 3 33 "
          "333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ ------======= "
          "нещо на Български ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not "
          "sure I'll make it, 'D you like some tea? We'Ve a'lL")
_PRE_BY_HASH = {
    "0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5": "llama-bpe",  # Llama 3.x
    "855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249": "smollm",  # SmolLM, SmolLM2
    "3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454": "gpt-2",
}


class ExportError(Medo1Error):
    """The checkpoint cannot be converted (architecture, tokenizer or files)."""


def _qtype(outtype: str):
    import gguf

    types = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
             "bf16": gguf.GGMLQuantizationType.BF16, "q8_0": gguf.GGMLQuantizationType.Q8_0}
    files = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
             "bf16": gguf.LlamaFileType.MOSTLY_BF16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}
    if outtype not in types:
        raise ExportError(f"GGUF type {outtype!r}: expected one of {', '.join(OUTTYPES)}")
    return types[outtype], files[outtype]


def read_config(checkpoint: Path) -> dict[str, Any]:
    path = checkpoint / "config.json"
    if not path.is_file():
        raise ExportError(f"{checkpoint}: not a Hugging Face checkpoint (no config.json)")
    config = json.loads(path.read_text())
    archs = config.get("architectures") or []
    if not set(archs) & set(SUPPORTED_ARCHITECTURES):
        raise ExportError(f"{path}: architecture {', '.join(archs) or '(none)'} is not supported by the GGUF export "
                          f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})")
    return config


# ---------------------------------------------------------------- the conversion


def export_gguf(checkpoint: str | os.PathLike, out: str | os.PathLike, outtype: str = "f16") -> Path:
    """Write `checkpoint` (a local HF Llama checkpoint directory) as one GGUF file `out`.

    Tensors are read and written one at a time (memory stays near the largest tensor). The file
    is written under a temporary name and renamed into place, so `out` is complete or absent."""
    import gguf

    checkpoint, out = Path(checkpoint).expanduser(), Path(out).expanduser()
    config = read_config(checkpoint)
    qtype, ftype = _qtype(outtype)
    tensors = list(_tensor_plan(checkpoint, config, qtype))  # an unknown tensor fails before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = gguf.GGUFWriter(None, "llama")
    try:
        _write_params(writer, config, ftype, name=checkpoint.resolve().name)
        _write_vocab(writer, checkpoint, config)
        for name, _, shape, ttype in tensors:
            n = math.prod(shape)
            block, size = gguf.GGML_QUANT_SIZES[ttype]
            writer.add_tensor_info(name, shape, np.dtype(np.float32), n // block * size, raw_dtype=ttype)
        writer.write_header_to_file(tmp)
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for name, load, _, ttype in tensors:
            data = load()
            if ttype == gguf.GGMLQuantizationType.F16 and np.abs(data).max(initial=0) > F16_MAX:
                raise ExportError(f"{checkpoint}: {name} has weights beyond f16's range; export as bf16 or f32")
            writer.write_tensor_data(gguf.quants.quantize(data, ttype))
        writer.close()
        os.replace(tmp, out)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return out


def _write_params(writer, config: dict[str, Any], ftype, *, name: str) -> None:
    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    writer.add_type("model")
    writer.add_name(name)
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config.get("max_position_embeddings", 2048))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(config.get("num_key_value_heads") or n_head)
    writer.add_rope_freq_base(_rope(config).get("rope_theta", 10000.0))
    writer.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-6))
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(ftype)
    writer.add_quantization_version(2)


def _rope(config: dict[str, Any]) -> dict[str, Any]:
    """RoPE settings, from `rope_parameters` (transformers >= 5) or `rope_theta` / `rope_scaling` (older)."""
    rope = dict(config.get("rope_parameters") or config.get("rope_scaling") or {})
    if "rope_theta" not in rope and "rope_theta" in config:
        rope["rope_theta"] = config["rope_theta"]
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind not in ("default", "llama3"):
        raise ExportError(f"RoPE scaling {kind!r} is not supported by the GGUF export (default and llama3 are)")
    return rope


def _llama3_rope_factors(config: dict[str, Any]) -> np.ndarray:
    """Per-frequency factors of Llama 3.1's RoPE scaling (the `rope_freqs` tensor llama.cpp reads)."""
    rope = _rope(config)
    dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    freqs = 1.0 / (rope.get("rope_theta", 10000.0) ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factor, low, high = rope.get("factor", 8.0), rope.get("low_freq_factor", 1.0), rope.get("high_freq_factor", 4.0)
    old = rope.get("original_max_position_embeddings", 8192)
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF's rotary layout of q/k rows (halves) -> llama.cpp's (interleaved pairs), as convert_hf_to_gguf does."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _tensor_plan(checkpoint: Path, config: dict[str, Any], qtype) -> Iterator[tuple]:
    """(gguf name, loader, shape, type) per tensor, in the order they are written."""
    import gguf
    from safetensors import safe_open

    files = sorted(checkpoint.glob("*.safetensors"))
    if not files:
        raise ExportError(f"{checkpoint}: no *.safetensors weights (save the model with safe_serialization)")
    where = {}
    for f in files:
        with safe_open(f, framework="pt") as st:
            for key in st.keys():
                where[key] = (f, st.get_slice(key).get_shape())
    n_layers, n_head = config["num_hidden_layers"], config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_head
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    tied = config.get("tie_word_embeddings", False)
    if _rope(config).get("rope_type", _rope(config).get("type")) == "llama3":
        factors = _llama3_rope_factors(config)
        yield "rope_freqs.weight", lambda: factors, list(factors.shape), gguf.GGMLQuantizationType.F32
    for key, (path, shape) in where.items():
        if key.endswith("rotary_emb.inv_freq") or (tied and key == "lm_head.weight"):
            continue
        new = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if new is None:
            raise ExportError(f"{path}: tensor {key!r} has no llama.cpp name (not a plain Llama checkpoint?)")
        heads = n_head if key.endswith("q_proj.weight") else n_kv if key.endswith("k_proj.weight") else None
        ttype = qtype
        if len(shape) <= 1 or new.endswith("_norm.weight"):
            ttype = gguf.GGMLQuantizationType.F32
        elif qtype == gguf.GGMLQuantizationType.Q8_0 and shape[-1] % gguf.GGML_QUANT_SIZES[qtype][0]:
            ttype = gguf.GGMLQuantizationType.F16  # rows that do not split into blocks of 32, as llama.cpp does

        def load(path=path, key=key, heads=heads):
            with safe_open(path, framework="pt") as st:
                data = st.get_tensor(key).float().numpy()
            return _permute(data, heads) if heads else data

        yield new, load, list(shape), ttype


def _write_vocab(writer, checkpoint: Path, config: dict[str, Any]) -> None:
    """Tokens, their types, merges, special tokens and the chat template (what llama.cpp needs to chat)."""
    import gguf
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    except Exception as err:
        raise ExportError(f"{checkpoint}: cannot load the tokenizer: {err}") from None
    tokenizer_json = checkpoint / "tokenizer.json"
    model = json.loads(tokenizer_json.read_text()).get("model", {}) if tokenizer_json.is_file() else {}
    if model.get("type") != "BPE" or not getattr(tokenizer, "is_fast", False):
        raise ExportError(f"{checkpoint}: only byte-level BPE tokenizers (tokenizer.json) are supported by the "
                          "GGUF export")
    vocab_size = config["vocab_size"]
    reverse = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_pre_tokenizer(tokenizer, checkpoint))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(checkpoint, load_merges=True)
    if not special.merges:
        raise ExportError(f"{tokenizer_json}: no BPE merges")
    if not special.chat_template:
        raise ExportError(f"{checkpoint}: the tokenizer has no chat template")
    # As transformers encodes plain text: with a leading BOS only where the tokenizer adds one (Llama 3 does,
    # SmolLM2 does not). Chat prompts are not affected: llama.cpp takes them from the chat template as they are.
    ids = tokenizer("a")["input_ids"]
    bos = tokenizer.bos_token_id
    special.add_special_token["bos"] = bos is not None and bool(ids) and ids[0] == bos
    special.add_to_gguf(writer, quiet=True)
    # An end-of-turn token the checkpoint stops at besides the tokenizer's eos (generation_config.json's
    # eos_token_id list, e.g. a base model's chat template closing turns with its own token).
    gen = checkpoint / "generation_config.json"
    eos = json.loads(gen.read_text()).get("eos_token_id") if gen.is_file() else None
    extra = [i for i in (eos if isinstance(eos, list) else [eos]) if i is not None and i != tokenizer.eos_token_id]
    if extra:
        writer.add_eot_token_id(extra[0])


def _pre_tokenizer(tokenizer, checkpoint: Path) -> str:
    """llama.cpp's name for the tokenizer's pre-tokenizer (how text is split before BPE)."""
    digest = hashlib.sha256(str(tokenizer.encode(_PROBE)).encode()).hexdigest()
    if digest in _PRE_BY_HASH:
        return _PRE_BY_HASH[digest]
    # A tokenizer trained with its own vocabulary has a hash of its own: recognise the splitting rule itself.
    pre = json.loads((checkpoint / "tokenizer.json").read_text()).get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    kinds = [(s.get("type"), s.get("use_regex", True), s.get("individual_digits")) for s in steps]
    if kinds == [("ByteLevel", True, None)]:
        return "gpt-2"
    if kinds == [("Digits", True, True), ("ByteLevel", True, None)]:
        return "smollm"
    raise ExportError(f"{checkpoint}: pre-tokenizer not recognised by the GGUF export (probe hash {digest[:16]}…)")


# ---------------------------------------------------------------- the cache beside the checkpoint


def _fingerprint(checkpoint: Path, outtype: str) -> dict[str, Any]:
    """What the converted file depends on: the weights, config and tokenizer files (name, size, mtime)."""
    files = sorted(p for p in checkpoint.iterdir() if p.is_file() and (
        p.suffix == ".safetensors" or p.name.startswith(("config", "tokenizer", "generation_config", "chat_template",
                                                         "special_tokens")) or p.name == "vocab.json"))
    return {"source": str(checkpoint.resolve()), "outtype": outtype, "converter": CONVERTER_VERSION,
            "files": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]}


def cache_path(checkpoint: str | os.PathLike, outtype: str) -> Path:
    """Where the conversion of `checkpoint` is kept: `<checkpoint>.<outtype>.gguf` beside it, or under
    $MEDO1_HOME/gguf/ when its folder is not writable (a read-only or shared model directory)."""
    checkpoint = Path(checkpoint).expanduser().resolve()
    if os.access(checkpoint.parent, os.W_OK):
        return checkpoint.parent / f"{checkpoint.name}.{outtype}.gguf"
    from medo1.embedded import medo1_home

    key = hashlib.sha256(str(checkpoint).encode()).hexdigest()[:12]
    return medo1_home() / "gguf" / f"{checkpoint.name}-{key}.{outtype}.gguf"


def cached_gguf(checkpoint: str | os.PathLike, outtype: str = "f16") -> Path:
    """The GGUF of `checkpoint`, converted once and re-used until the checkpoint's files change.

    Beside the file, `<file>.json` records what it was made from; several processes asking at once
    convert once (a file lock), the others wait and re-use it."""
    from filelock import FileLock

    checkpoint = Path(checkpoint).expanduser()
    _qtype(outtype)
    read_config(checkpoint)  # unsupported checkpoints fail here, before any lock or file
    out = cache_path(checkpoint, outtype)
    stamp = out.with_name(out.name + ".json")
    want = _fingerprint(checkpoint, outtype)
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out.with_name(f".{out.name}.lock"))):
        if out.is_file() and stamp.is_file():
            try:
                if json.loads(stamp.read_text()) == want:
                    return out
            except json.JSONDecodeError:
                pass
        stamp.unlink(missing_ok=True)  # the stamp goes first: a file without one is never trusted
        log.info("converting %s to GGUF (%s) -> %s (once)", checkpoint, outtype, out)
        export_gguf(checkpoint, out, outtype)
        tmp = Path(tempfile.mkstemp(prefix=f".{stamp.name}.", dir=out.parent)[1])
        tmp.write_text(json.dumps(want, indent=2) + "\n")
        os.replace(tmp, stamp)
    return out


__all__ = ["OUTTYPES", "ExportError", "cache_path", "cached_gguf", "export_gguf"]
