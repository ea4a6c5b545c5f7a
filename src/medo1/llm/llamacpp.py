"""In-process llama.cpp for GGUF models (the `embedded` default and `gguf:<path>` specs).

A `llama_cpp.Llama` is not thread-safe, so each one runs on its own single worker thread.
The model keeps `replicas` of them (loaded on first use): a call waits for a free replica
and generates there while the event loop stays free for other work (HTTP calls, file
writes, progress). Small models decode at a speed one core cannot feed from many threads,
so several one-thread replicas use a multi-core CPU far better than one wide one (the
embedded model on 2 cores: 67 tok/s with one replica, 116 tok/s with two). A call
cancelled while still waiting never runs.

Sampling matches the OpenAI API's defaults: temperature only (no top-k / top-p / min-p
truncation, no repeat penalty); temperature 0 is greedy. `seed` makes a sampled call
reproducible. `json_schema` is enforced by a llama.cpp grammar built from the schema, checked
lazily (llm/grammar_sampling.py: the same distribution, far fewer grammar checks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error, ModelError
from medo1.llm.base import Completion, Message, Timer, UsageMeter
from medo1.llm.grammar_sampling import install as install_lazy_grammar
from medo1.records import Usage

log = logging.getLogger(__name__)

# llama-cpp-python swaps sys.stdout / sys.stderr while it loads or frees a model (to silence it);
# two replicas doing that at once would leave a closed stream behind. One at a time.
_STREAMS_LOCK = threading.Lock()

# llama.cpp's "extra buffer types" repack weights for special CPU kernels. On CPUs with AMX
# (Intel Sapphire Rapids and later) llama-cpp-python 0.3.36 then crashes the process with a
# segfault in ggml_backend_amx_mul_mat on the first generation. The plain CPU kernels are what
# every other CPU runs, so medo1 turns the extra buffers off; `MEDO1_LLAMA_EXTRA_BUFFERS=1`
# turns them back on where they work.
EXTRA_BUFFERS_ENV = "MEDO1_LLAMA_EXTRA_BUFFERS"

SMALL_MODEL_BYTES = 1 << 30  # GGUF files under 1 GiB get one one-thread replica per core by default


def default_replicas(path: Path) -> int:
    """One replica per core for small models (memory is cheap, decoding is latency-bound); one otherwise."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 8)) if path.stat().st_size < SMALL_MODEL_BYTES else 1


@contextlib.contextmanager
def _model_params(*, extra_buffers: bool):
    """While a `Llama` is built: its model parameters get `use_extra_bufts = extra_buffers`.

    `Llama.__init__` takes no argument for that field; it reads `llama_model_default_params()`
    and loads the model in the same call, so the defaults are adjusted for the duration of the
    load (callers hold _STREAMS_LOCK: one load at a time)."""
    import llama_cpp.llama_cpp as bindings  # the module `Llama.__init__` calls it from

    defaults = bindings.llama_model_default_params

    def params():
        value = defaults()
        value.use_extra_bufts = extra_buffers
        return value

    bindings.llama_model_default_params = params
    try:
        yield
    finally:
        bindings.llama_model_default_params = defaults


class _Replica:
    """One Llama, its lock and its worker thread; its grammars too (they hold parser state)."""

    def __init__(self, index: int):
        self.llama = None
        self.lock = threading.Lock()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"medo1-llamacpp-{index}")
        self.grammars: dict[str, Any] = {}


class LlamaCppChatModel:
    def __init__(
        self,
        path: str | os.PathLike,
        *,
        name: str | None = None,
        n_ctx: int = 8192,
        replicas: int | None = None,  # None: default_replicas(path)
        n_threads: int | None = None,  # per replica; None: 1 with several replicas, else llama.cpp's default
        meter: UsageMeter | None = None,
        lazy_grammar: bool = True,  # False: llama-cpp-python's own grammar sampler (same distribution, slower)
    ):
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise Medo1Error(f"{self.path}: no such GGUF file")
        self.name = name or f"gguf:{self.path}"
        self.n_replicas = replicas or default_replicas(self.path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads if n_threads is not None else (1 if self.n_replicas > 1 else None)
        self.meter = meter or UsageMeter()
        self.lazy_grammar = lazy_grammar
        self._replicas = [_Replica(i) for i in range(self.n_replicas)]
        self._free: asyncio.Queue | None = None
        self._free_loop = None

    def _load(self, replica: _Replica):
        """The replica's `llama_cpp.Llama` (loaded on first use)."""
        with replica.lock:
            if replica.llama is None:
                from llama_cpp import Llama

                with _STREAMS_LOCK, _model_params(extra_buffers=os.environ.get(EXTRA_BUFFERS_ENV) == "1"):
                    # flash attention: ~20% faster decoding of the embedded model on a 2-core CPU (measured)
                    replica.llama = Llama(
                        model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads, flash_attn=True,
                        verbose=False,
                    )
                if self.lazy_grammar:  # JSON-schema replies: the grammar checked only where it must
                    install_lazy_grammar(replica.llama)
        return replica.llama

    def _free_replicas(self) -> asyncio.Queue:
        loop = asyncio.get_running_loop()
        if self._free is None or self._free_loop is not loop:  # a queue belongs to one event loop
            self._free, self._free_loop = asyncio.Queue(), loop
            for replica in self._replicas:
                self._free.put_nowait(replica)
        return self._free

    def identity(self) -> dict[str, Any]:
        st = self.path.stat()  # a replaced or re-downloaded file gets a new cache key
        return {"backend": "llama.cpp", "model": str(self.path.resolve()), "size": st.st_size,
                "mtime_ns": st.st_mtime_ns}

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
        loop = asyncio.get_running_loop()
        free = self._free_replicas()
        replica = await free.get()
        try:
            with Timer() as timer:
                completion = await loop.run_in_executor(
                    replica.worker, self._generate, replica, messages, max_tokens, temperature, seed, json_schema
                )
        except Exception:
            self.meter.error(tag)
            raise
        finally:
            free.put_nowait(replica)
        self.meter.record(tag, completion.usage, timer.seconds)
        return completion

    def _generate(self, replica: _Replica, messages, max_tokens, temperature, seed, json_schema) -> Completion:
        llama = self._load(replica)
        grammar = self._grammar(replica, json_schema) if json_schema is not None else None
        if seed is None:  # llama-cpp-python would derive it from the previous seed: same "random" runs each process
            seed = secrets.randbits(31)
        with replica.lock:
            # The message texts alone are a lower bound on the prompt's length; llama-cpp-python fails
            # on an over-long prompt with an unhelpful numpy error, so catch the clear cases first.
            n_text = len(llama.tokenize("\n".join(m.get("content") or "" for m in messages).encode(), add_bos=False))
            if n_text >= llama.n_ctx():
                raise ModelError(f"{self.name}: the prompt (at least {n_text} tokens) exceeds the context window "
                                 f"of {llama.n_ctx()} tokens")
            try:
                out = llama.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=max(0.0, temperature), seed=seed,
                    top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0, grammar=grammar,
                )
            except ValueError as err:  # e.g. "Requested tokens (9000) exceed context window of 8192"
                raise ModelError(f"{self.name}: generation failed (is the prompt longer than the context window "
                                 f"of {llama.n_ctx()} tokens?): {err}") from None
        choice, usage = out["choices"][0], out["usage"]
        return Completion(
            text=choice["message"]["content"] or "",
            usage=Usage(prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"]),
            finish_reason=choice["finish_reason"] or "stop",
        )

    def _grammar(self, replica: _Replica, schema: dict):
        from llama_cpp import LlamaGrammar
        from llama_cpp.llama_grammar import JSON_GBNF

        key = json.dumps(schema, sort_keys=True)
        if key not in replica.grammars:
            try:
                replica.grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception as err:  # a schema feature the converter lacks: still force valid JSON
                log.warning("%s: JSON schema not supported by llama.cpp grammars (%s); constraining to any JSON",
                            self.name, err)
                replica.grammars[key] = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
        return replica.grammars[key]

    async def aclose(self) -> None:
        """Free the models once running calls are done; a later call loads them again."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(r.worker, self._close, r) for r in self._replicas))

    @staticmethod
    def _close(replica: _Replica) -> None:
        with replica.lock:
            if replica.llama is not None:
                with _STREAMS_LOCK:
                    replica.llama.close()
                replica.llama = None
