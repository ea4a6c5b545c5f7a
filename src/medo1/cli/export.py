"""`medo1 export --gguf`: a trained checkpoint as one GGUF file for llama.cpp, Ollama or LM Studio."""

from __future__ import annotations

from pathlib import Path

import typer

from medo1.cli.app import app
from medo1.errors import Medo1Error


@app.command()
def export(
    checkpoint: Path = typer.Option(..., "--gguf", help="Checkpoint directory to export (SFT or RL output, "
                                    "or any Llama-architecture Hugging Face checkpoint)."),
    out: Path = typer.Option(..., "--out", help="The GGUF file to write."),
    outtype: str = typer.Option("f16", "--type", help="Weights: f16 (half the size of f32, near-exact), f32 "
                                "(exact), q8_0 (8-bit: a quarter of f32, fastest on CPU, least exact), bf16."),
):
    """Export a checkpoint to GGUF (llama.cpp's format), with its tokenizer, chat template and end-of-turn tokens."""
    from medo1.embedded import resolve_checkpoint
    from medo1.gguf_export import OUTTYPES, export_gguf

    if outtype not in OUTTYPES:
        raise Medo1Error(f"--type {outtype!r}: expected one of {', '.join(OUTTYPES)}")
    source = resolve_checkpoint(str(checkpoint))
    if not isinstance(source, Path):
        raise Medo1Error(f"--gguf {checkpoint}: no such checkpoint directory")
    done = export_gguf(source, out, outtype)
    size = done.stat().st_size / 2**20
    typer.echo(f"export: {source} -> {done} ({outtype}, {size:.0f} MiB)\n"
               f"  llama.cpp: llama-cli -m {done}   Ollama: a Modelfile with 'FROM {done.resolve()}'")
