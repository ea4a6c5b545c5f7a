"""Grammar-constrained decoding on llama.cpp: llama-cpp-python's sampler (the grammar judges every
candidate token before each draw) against medo1's lazy one (llm/grammar_sampling.py: the grammar judges
the sampled token, and the whole vocabulary only when it refuses it), side by side.

The embedded SmolLM2-135M-Instruct answers the search's first-turn prompt on the bundled sample questions
under the search's CoT schema (the teacher calls of the demo's search and synthesis look like this), with
one replica of one thread each, the same seeds and settings on both sides. Prints completion tokens/s of
each, the ratio, and the share of tokens the lazy sampler had to draw again. Free text (no schema) is timed
too: the ceiling a constrained reply can reach.

    python benchmarks/grammar_sampling.py [--items 6] [--max-tokens 192] [--temperature 0.7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from medo1.data import load_sample
from medo1.embedded import embedded_gguf_path
from medo1.llm.grammar_sampling import LazyGrammarSampler
from medo1.llm.llamacpp import LlamaCppChatModel
from medo1.prompts import load_prompt, render
from medo1.reasoning.cot import cot_schema


async def tokens_per_second(model: LlamaCppChatModel, prompts: list[str], schema: dict | None, args) -> tuple[float, int]:
    await model.chat([{"role": "user", "content": "Hi"}], max_tokens=2)  # load
    tokens, start = 0, time.perf_counter()
    for i, prompt in enumerate(prompts):
        reply = await model.chat([{"role": "user", "content": prompt}], max_tokens=args.max_tokens,
                                 temperature=args.temperature, seed=i, json_schema=schema)
        tokens += reply.usage.completion_tokens
    return tokens / (time.perf_counter() - start), tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=192)
    parser.add_argument("--temperature", type=float, default=0.7)
    args = parser.parse_args()

    questions = [q.question for q in load_sample("train")][: args.items]
    template = load_prompt("search/init")
    fmt = render(load_prompt("search/format"))
    prompts = [render(template, question=q, format=fmt) for q in questions]
    path = embedded_gguf_path()
    eager = LlamaCppChatModel(path, n_ctx=4096, replicas=1, n_threads=1, lazy_grammar=False)
    lazy = LlamaCppChatModel(path, n_ctx=4096, replicas=1, n_threads=1)
    schema = cot_schema(lazy)
    print(f"load before: {os.getloadavg()[0]:.2f}; {len(prompts)} search prompts, max_tokens {args.max_tokens}, "
          f"temperature {args.temperature}, 1 thread")
    free, free_tokens = asyncio.run(tokens_per_second(lazy, prompts, None, args))
    slow, slow_tokens = asyncio.run(tokens_per_second(eager, prompts, schema, args))
    fast, fast_tokens = asyncio.run(tokens_per_second(lazy, prompts, schema, args))
    sampler = lazy._replicas[0].llama._sampler
    redrawn = sampler.resampled / sampler.tokens if isinstance(sampler, LazyGrammarSampler) else float("nan")
    print(f"free text (no grammar)         : {free:7.1f} tok/s ({free_tokens} tokens)")
    print(f"grammar, llama-cpp-python's    : {slow:7.1f} tok/s ({slow_tokens} tokens)")
    print(f"grammar, lazy (medo1)          : {fast:7.1f} tok/s ({fast_tokens} tokens; last reply: "
          f"{redrawn:.0%} of its tokens drawn again)")
    print(f"lazy / llama-cpp-python        : {fast / slow:7.2f}x")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
