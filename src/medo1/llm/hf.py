"""transformers backend with dynamic batching, for trained checkpoints (`hf:<path-or-repo>`).

Concurrent `chat` calls go onto a queue; a batcher task takes whatever is waiting (up to
`max_batch_size`) and runs it as one left-padded `generate` call on the model's own worker
thread, so the event loop stays free. While a batch runs, new calls queue up for the next.

Each row keeps its own settings inside a shared batch:
- `max_tokens`: a row stops at its own limit (finish_reason "length") or at EOS ("stop");
  the batch ends when every row has stopped.
- `temperature`: 0 is greedy; > 0 samples from the full softmax at that temperature (no
  top-k / top-p truncation, as the OpenAI API and vLLM do by default). The checkpoint's own
  generation_config sampling defaults are not applied: the request says how to sample.
- `seed`: each sampled row draws from its own torch.Generator seeded with the request's
  seed, so greedy and sampled requests, and requests with different seeds and
  temperatures, share one batch.

Reproducibility: on the same checkpoint, dtype, device and library versions, a greedy
request gives the same tokens, and a sampled request with a seed gives the same tokens,
whatever else is in its batch, up to floating-point effects of padding and batch shape on
the logits. In float32 on CPU we have seen none. In bfloat16 (the default where the hardware
has it) rounding differs with batch shape and greedy outputs often part ways after a few
dozen tokens (4 of 16 identical over 64 tokens in benchmarks/hf_batching.py): pass
dtype="float32" where outputs must not depend on batching. A sampled request without a
seed gets a fresh random one.

`json_schema` is NOT enforced here (transformers has no constrained decoding built in):
callers validate the JSON they get and re-ask, as every stage does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from medo1.errors import Medo1Error, ModelError
from medo1.llm.base import Completion, Message, Timer, UsageMeter
from medo1.llm.sampling import generation_config, model_defaults_off
from medo1.records import Usage

log = logging.getLogger(__name__)


def resolve_dtype(dtype: str, device: str) -> str:
    """"auto" -> "bfloat16" where the hardware runs it natively and (on a CPU) measured not slower than
    float32, else "float32"; the choice is said once per process (`medo1.precision`).

    Measured on SmolLM2-135M, 2 busy shared cores with AVX512_BF16, fp32 and bf16 decode steps
    interleaved (best of 8): batch 1 43 ms bf16 vs 55 ms fp32, batch 16 72 ms vs 113 ms; and
    benchmarks/hf_batching.py, 16 concurrent calls: 141 vs 43 tokens/s. CPUs without AVX512_BF16 / AMX
    emulate bf16 hundreds of times slower than fp32."""
    if dtype != "auto":
        return dtype
    if device.startswith("cuda") or device == "cpu":
        from medo1.precision import say_precision

        return say_precision(device, who="hf").dtype
    return "float32"


def resolve_device(device: str) -> str:
    """`auto`: this process's GPU (`cuda:<LOCAL_RANK>` under `accelerate launch` / `torchrun`), else mps, else cpu."""
    if device != "auto":
        return device
    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


@contextmanager
def whole_weights():
    """Load models whole, even inside a ZeRO-3 launch whose DeepSpeed config would shard every
    `from_pretrained` (zero3_init_flag): a sampler, a verifier or an evaluated model runs on one device."""
    from transformers.integrations import deepspeed as hf_deepspeed

    saved = hf_deepspeed._hf_deepspeed_config_weak_ref  # the global transformers reads (no public setter/getter)
    hf_deepspeed._hf_deepspeed_config_weak_ref = None
    try:
        yield
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = saved


@dataclass
class _Request:
    messages: list[Message]
    max_tokens: int
    temperature: float
    seed: int
    future: asyncio.Future = field(repr=False)


class HFChatModel:
    def __init__(
        self,
        path_or_repo: str | os.PathLike,
        *,
        max_batch_size: int = 32,
        name: str | None = None,
        dtype: str = "auto",  # "auto" | "bfloat16" | "float16" | "float32"
        device: str = "auto",  # "auto" | "cpu" | "cuda" | "cuda:1" | "mps"
        meter: UsageMeter | None = None,
        gather_window_s: float = 0.002,  # how long the batcher waits for more requests after the first
    ):
        if max_batch_size < 1:
            raise Medo1Error(f"max_batch_size must be >= 1, got {max_batch_size}")
        if dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise Medo1Error(f"dtype {dtype!r}: expected auto, bfloat16, float16 or float32")
        local = Path(path_or_repo).expanduser()
        self.source = str(local) if local.exists() else str(path_or_repo)  # a local dir, or a hub repo id
        self.name = name or f"hf:{self.source}"
        self.max_batch_size, self.gather_window_s = max_batch_size, gather_window_s
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.meter = meter or UsageMeter()
        self.batch_sizes: deque[int] = deque(maxlen=10_000)  # rows of each generate call, most recent last
        self._model = self._tokenizer = None
        self._load_lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medo1-hf")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Request] | None = None
        self._batcher: asyncio.Task | None = None
        self._warned_schema = False

    # ------------------------------------------------------------ loading

    def load(self):
        """Load (once) and return `(model, tokenizer)`; also available as `.model` / `.tokenizer`."""
        with self._load_lock:
            if self._model is None:
                try:
                    tokenizer = AutoTokenizer.from_pretrained(self.source)
                    with whole_weights():
                        model = AutoModelForCausalLM.from_pretrained(self.source, dtype=getattr(torch, self.dtype))
                except (OSError, ValueError) as err:  # missing files, unknown repo, bad repo id
                    raise Medo1Error(f"{self.name}: cannot load the checkpoint: {err}") from None
                if not tokenizer.chat_template:
                    raise Medo1Error(f"{self.name}: the tokenizer has no chat template")
                self._model, self._tokenizer = model.to(self.device).eval(), tokenizer
        return self._model, self._tokenizer

    @property
    def model(self):
        return self.load()[0]

    @property
    def tokenizer(self):
        return self.load()[1]

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {"backend": "transformers", "model": self.source, "dtype": self.dtype}
        local = Path(self.source)
        if local.is_dir():  # a checkpoint re-trained in place gets a new cache key
            ident["model"] = str(local.resolve())
            ident["weights"] = sorted(
                (p.name, p.stat().st_size, p.stat().st_mtime_ns)
                for p in local.iterdir() if p.suffix in (".safetensors", ".bin")
            )
        return ident

    # ------------------------------------------------------------ the async contract

    async def chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = None,
        json_schema: dict | None = None,
        tag: str = "chat",
    ) -> Completion:
        if max_tokens < 1:
            raise Medo1Error(f"max_tokens must be >= 1, got {max_tokens}")
        if json_schema is not None and not self._warned_schema:
            self._warned_schema = True
            log.info("%s: json_schema is not enforced by the transformers backend; outputs are validated", self.name)
        loop = asyncio.get_running_loop()
        request = _Request(messages, max_tokens, max(0.0, temperature),
                           seed if seed is not None else secrets.randbits(63), loop.create_future())
        try:
            with Timer() as timer:
                self._queue_for(loop).put_nowait(request)
                completion = await request.future
        except Exception:
            self.meter.error(tag)
            raise
        self.meter.record(tag, completion.usage, timer.seconds)
        return completion

    async def aclose(self) -> None:
        """Stop the batcher and free the model; a later call loads it again."""
        if self._batcher is not None and self._loop is asyncio.get_running_loop():
            self._batcher.cancel()
            while not self._queue.empty():  # calls still waiting for a batch fail instead of hanging
                request = self._queue.get_nowait()
                if not request.future.done():
                    request.future.set_exception(ModelError(f"{self.name}: the model was closed"))
        self._batcher = self._queue = self._loop = None
        await asyncio.get_running_loop().run_in_executor(self._worker, self._unload)

    def _unload(self) -> None:
        with self._load_lock:
            self._model = self._tokenizer = None

    # ------------------------------------------------------------ batching

    def _queue_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Queue:
        # One batcher per event loop: the model outlives any one asyncio.run().
        if self._loop is not loop or self._batcher is None or self._batcher.done():
            self._loop, self._queue = loop, asyncio.Queue()
            self._batcher = loop.create_task(self._batch_loop(self._queue), name=f"medo1-hf-batcher:{self.name}")
        return self._queue

    async def _batch_loop(self, queue: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        batch: list[_Request] = []
        try:
            while True:
                batch = [await queue.get()]
                await asyncio.sleep(self.gather_window_s)  # let callers that started together join this batch
                while len(batch) < self.max_batch_size and not queue.empty():
                    batch.append(queue.get_nowait())
                batch = [r for r in batch if not r.future.done()]  # cancelled while waiting
                if not batch:
                    continue
                try:
                    results = await loop.run_in_executor(self._worker, self._generate_batch, batch)
                except Exception as err:  # the whole generate call failed (e.g. out of memory)
                    if not isinstance(err, Medo1Error):
                        err = ModelError(f"{self.name}: generation failed: {type(err).__name__}: {err}")
                    results = [err] * len(batch)
                for request, result in zip(batch, results):
                    if request.future.done():
                        continue
                    if isinstance(result, Exception):
                        request.future.set_exception(result)
                    else:
                        request.future.set_result(result)
                batch = []
        except asyncio.CancelledError:  # aclose(): the calls of the batch in hand fail instead of hanging
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(ModelError(f"{self.name}: the model was closed"))
            raise

    def _generate_batch(self, batch: list[_Request]) -> list[Completion | Exception]:
        """One padded `generate` call for the batch (runs on the worker thread)."""
        model, tokenizer = self.load()
        eos_ids = stop_token_ids(model, tokenizer)
        pad_id = _pad_id(model, tokenizer, eos_ids)
        max_positions = getattr(model.config, "max_position_embeddings", None)

        results: list[Completion | Exception | None] = [None] * len(batch)
        rows: list[tuple[int, list[int], int]] = []  # (index in batch, prompt ids, token limit)
        for i, request in enumerate(batch):
            try:
                ids = prompt_token_ids(tokenizer, request.messages)
            except Exception as err:  # a malformed conversation fails alone
                results[i] = ModelError(f"{self.name}: cannot apply the chat template: {err}")
                continue
            limit = request.max_tokens
            if max_positions:
                if len(ids) >= max_positions:
                    results[i] = ModelError(
                        f"{self.name}: prompt of {len(ids)} tokens exceeds the context window of {max_positions}")
                    continue
                limit = min(limit, max_positions - len(ids))
            rows.append((i, ids, limit))
        if not rows:
            return results
        self.batch_sizes.append(len(rows))

        width = max(len(ids) for _, ids, _ in rows)
        input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, (_, ids, _) in enumerate(rows):  # left padding: every row's last prompt token lines up
            input_ids[r, width - len(ids):] = torch.tensor(ids)
            attention_mask[r, width - len(ids):] = 1
        limits = [limit for _, _, limit in rows]
        sampled = [(r, batch[i].temperature, batch[i].seed) for r, (i, _, _) in enumerate(rows)
                   if batch[i].temperature > 0]

        # generate() itself is greedy (sampled rows draw in _RowSampler), owning every decoding field:
        # nothing of the checkpoint's generation_config.json (do_sample, top-k, penalties...) applies.
        config = generation_config(
            do_sample=False, max_new_tokens=max(limits), eos_token_id=eos_ids, pad_token_id=pad_id,
        )
        with torch.inference_mode(), model_defaults_off(model):
            out = model.generate(
                input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                generation_config=config,
                stopping_criteria=StoppingCriteriaList([_RowLimits(width, limits)]),
                logits_processor=LogitsProcessorList([_RowSampler(sampled, model.device)]) if sampled else None,
            )
        new_tokens = out[:, width:].tolist()

        eos_set = set(eos_ids)
        for r, (i, ids, limit) in enumerate(rows):
            tokens = new_tokens[r][:limit]
            stop = next((k for k, t in enumerate(tokens) if t in eos_set), None)
            if stop is not None:  # the EOS token counts as generated, as vLLM counts it
                text, n, finish = tokenizer.decode(tokens[:stop], skip_special_tokens=True), stop + 1, "stop"
            else:
                text, n, finish = tokenizer.decode(tokens, skip_special_tokens=True), len(tokens), "length"
            results[i] = Completion(text=text, usage=Usage(prompt_tokens=len(ids), completion_tokens=n),
                                    finish_reason=finish)
        return results


def prompt_token_ids(tokenizer, messages: list[Message]) -> list[int]:
    """The prompt as the model sees it: the chat template with the assistant's turn opened, tokenized
    without adding special tokens again (the template writes them). The vllm backend renders the same way."""
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def stop_token_ids(model, tokenizer) -> list[int]:
    """Every token that ends a reply: the generation config's, the tokenizer's EOS and the chat template's
    end-of-turn token, so a checkpoint that never registered it (saved by older code, or trained
    elsewhere with a template added) still stops at the end of its turn instead of at max_tokens."""
    from medo1.llm.chat_template import end_of_turn_token

    eos = model.generation_config.eos_token_id
    ids = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
    eot = end_of_turn_token(tokenizer)
    for token_id in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(eot) if eot else None):
        if token_id is not None and token_id not in ids:
            ids.append(token_id)
    if not ids:
        raise Medo1Error("the checkpoint names no eos token (generation_config.json or the tokenizer)")
    return ids


def _pad_id(model, tokenizer, eos_ids: list[int]) -> int:
    for pad in (model.generation_config.pad_token_id, tokenizer.pad_token_id):
        if pad is not None:
            return pad
    return eos_ids[0]


class _RowLimits(StoppingCriteria):
    """Stopping criterion: row r is done after `limits[r]` new tokens (the batch stops when all are)."""

    def __init__(self, prompt_width: int, limits: list[int]):
        self.prompt_width, self.limits = prompt_width, limits
        self._limits_tensor = None

    def __call__(self, input_ids, scores, **kwargs):
        if self._limits_tensor is None:
            self._limits_tensor = torch.tensor(self.limits, device=input_ids.device)
        return (input_ids.shape[1] - self.prompt_width) >= self._limits_tensor


class _RowSampler(LogitsProcessor):
    """Logits processor that samples each tempered row from its own seeded generator.

    generate() itself runs greedy; for a sampled row this leaves only the drawn token
    possible, so argmax picks it. Greedy rows pass through untouched.
    """

    def __init__(self, rows: list[tuple[int, float, int]], device):
        self.rows = [(r, temperature, torch.Generator(device=device).manual_seed(seed))
                     for r, temperature, seed in rows]

    def __call__(self, input_ids, scores):
        for r, temperature, generator in self.rows:
            probs = torch.softmax(scores[r].float() / temperature, dim=-1)
            token = torch.multinomial(probs, 1, generator=generator)
            scores[r] = float("-inf")
            scores[r, token] = 0.0
        return scores
