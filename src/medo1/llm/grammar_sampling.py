"""Grammar-constrained sampling for llama.cpp that checks the grammar only where it must.

llama-cpp-python puts a grammar into its sampler chain, so before every token the grammar judges
the whole vocabulary (49,152 candidates for SmolLM2). llama.cpp's own sampler (`common_sampler`)
does it lazily, and so does this one (benchmarks/grammar_sampling.py, the search's CoT schema on the
embedded model, a loaded 2-core machine: 20.1 tok/s llama-cpp-python's way, 23.6 lazily, 22.6 for
free text):

1. sample from the model's distribution without the grammar;
2. ask the grammar about that one token; if it is allowed, keep it;
3. otherwise apply the grammar to every candidate and sample again.

The result is the constrained distribution exactly: a token t the grammar allows is kept in step 2
with probability p(t), and reached through step 3 with probability (1 - Z) p(t) / Z, where Z is the
allowed tokens' mass; together p(t) / Z. Greedy decoding picks the same token either way. Only the
number of random draws differs, so a seeded sampled reply is reproducible, not identical to
llama-cpp-python's.

`install(llama)` makes one `llama_cpp.Llama` sample this way (it wraps `Llama._init_sampler`, the
hook its `generate` builds samplers from); the `LlamaCppChatModel` does that for every replica.
"""

from __future__ import annotations

import ctypes
import logging
import math

import numpy as np

log = logging.getLogger(__name__)


class LazyGrammarSampler:
    """The sampler `Llama.generate` calls: `sample(ctx, idx)` -> token, keeping grammar and chain state."""

    def __init__(self, llama, chain, grammar):
        import llama_cpp

        self._lib = llama_cpp
        self.chain = chain  # llama-cpp-python's LlamaSampler without the grammar: penalties, temperature, dist|greedy
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
        if not self.grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self.n_vocab = llama.n_vocab()
        self._data = (llama_cpp.llama_token_data * self.n_vocab)()
        view = np.ctypeslib.as_array(self._data)  # a structured view: id, logit, p
        self._ids, self._logits, self._p = view["id"], view["logit"], view["p"]
        self._arange = np.arange(self.n_vocab, dtype=np.int32)
        self._one = llama_cpp.llama_token_data()
        self.resampled = 0  # tokens the grammar refused and were drawn again (for tests and benchmarks)
        self.tokens = 0

    def _candidates(self, ctx, idx: int):
        """Every token with its logit at position `idx`, as llama.cpp's candidate array."""
        logits = self._lib.llama_get_logits_ith(ctx.ctx, idx)
        self._ids[:] = self._arange
        self._logits[:] = np.ctypeslib.as_array(logits, shape=(self.n_vocab,))
        self._p[:] = 0.0
        return self._lib.llama_token_data_array(data=self._data, size=self.n_vocab, selected=-1, sorted=False)

    def _allowed(self, token: int) -> bool:
        self._one.id, self._one.logit, self._one.p = token, 1.0, 0.0
        single = self._lib.llama_token_data_array(data=ctypes.pointer(self._one), size=1, selected=-1, sorted=False)
        self._lib.llama_sampler_apply(self.grammar, ctypes.byref(single))
        return not (math.isinf(self._one.logit) and self._one.logit < 0)

    def sample(self, ctx, idx: int = -1) -> int:
        chain = self.chain.sampler
        candidates = self._candidates(ctx, idx)
        self._lib.llama_sampler_apply(chain, ctypes.byref(candidates))
        token = candidates.data[candidates.selected].id
        if not self._allowed(token):
            self.resampled += 1
            candidates = self._candidates(ctx, idx)
            self._lib.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
            self._lib.llama_sampler_apply(chain, ctypes.byref(candidates))
            token = candidates.data[candidates.selected].id
        self._lib.llama_sampler_accept(self.grammar, token)
        self._lib.llama_sampler_accept(chain, token)
        self.tokens += 1
        return token

    def close(self) -> None:
        if self.grammar:
            self._lib.llama_sampler_free(self.grammar)
            self.grammar = None
        self.chain.close()

    def __del__(self):
        self.close()


def install(llama) -> bool:
    """Make `llama` sample grammar-constrained replies lazily; False (and one log line) where the
    installed llama-cpp-python lacks the hook, which leaves its own (slower, equally correct) way."""
    import llama_cpp

    build = getattr(llama, "_init_sampler", None)
    if build is None or not hasattr(llama, "_model"):
        log.info("llama-cpp-python %s has no sampler hook: grammar-constrained replies use its own sampler",
                 llama_cpp.__version__)
        return False

    def init_sampler(*args, grammar=None, **kwargs):
        chain = build(*args, grammar=None, **kwargs)
        return chain if grammar is None else LazyGrammarSampler(llama, chain, grammar)

    llama._init_sampler = init_sampler
    return True
