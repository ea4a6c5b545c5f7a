"""Training commands: sft, rl."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import app
from medo1.errors import Medo1Error


@app.command()
def sft(
    data: str = typer.Option(..., "--data", help="SFT examples: .jsonl/.json (ours or medical-o1 "
                             "Question/Complex_CoT/Response) or a Hugging Face dataset id (name[:config])."),
    model: str = typer.Option(..., "--model", help="Base model: embedded, hf:<path-or-repo>, a directory or a repo id."),
    out: Path = typer.Option(..., "--out", help="Output directory: model, checkpoints, metrics.jsonl."),
    epochs: float = typer.Option(3.0, "--epochs", min=0.0, help="Passes over the data (paper: 3)."),
    lr: float = typer.Option(5e-6, "--lr", min=0.0, help="Peak learning rate (paper: 5e-6)."),
    batch_size: int = typer.Option(128, "--batch-size", min=1, help="Effective batch in examples, all devices (paper: 128)."),
    micro_batch_size: int = typer.Option(4, "--micro-batch-size", min=1, help="Examples per forward pass per device."),
    max_length: int = typer.Option(4096, "--max-length", min=8, help="Longest example in tokens; longer ones are cut."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters (saved merged, adapter in out/adapter)."),
    lora_r: int = typer.Option(16, "--lora-r", min=1, help="LoRA rank."),
    padding_free: str = typer.Option("auto", "--padding-free",
                                     help="auto | on | off (auto: on with flash attention, else length-grouped)."),
    packing: bool = typer.Option(False, "--packing", help="Pack examples into rows of max-length tokens."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="Less memory, slower."),
    bf16: Optional[bool] = typer.Option(None, "--bf16/--no-bf16", help="bf16 mixed precision (default: if supported)."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many optimizer steps (-1: all epochs)."),
    save_steps: int = typer.Option(100, "--save-steps", min=1, help="Optimizer steps between checkpoints."),
    keep_checkpoints: int = typer.Option(0, "--keep-checkpoints", min=0, help="Resumable checkpoints kept once the "
                                         "final weights are written (the newest max(1, N) while training)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint in --out."),
    seed: int = typer.Option(42, "--seed", help="Random seed."),
    chat_template: Optional[Path] = typer.Option(
        None, "--chat-template", help="Jinja chat template file, for a base model; the token that closes its "
                                      "assistant turn is saved as an EOS of the checkpoint."),
):
    """Stage 2: supervised fine-tuning on complex CoT (TRL SFTTrainer, loss on the assistant turn)."""
    from medo1.train.sft import SFTSettings, train_sft

    if padding_free not in ("auto", "on", "off"):
        raise Medo1Error(f"--padding-free {padding_free!r}: expected auto, on or off")
    settings = SFTSettings(
        data=data, model=model, out=str(out), epochs=epochs, lr=lr, batch_size=batch_size,
        micro_batch_size=micro_batch_size, max_length=max_length, lora=lora, lora_r=lora_r, lora_alpha=2 * lora_r,
        padding_free=padding_free, packing=packing, gradient_checkpointing=gradient_checkpointing, bf16=bf16,
        max_steps=max_steps, save_steps=save_steps, keep_checkpoints=keep_checkpoints, resume=resume, seed=seed,
        chat_template=str(chat_template) if chat_template else None,
    )
    typer.echo(f"sft: model saved to {train_sft(settings)}")


@app.command()
def rl(
    problems: str = typer.Option(..., "--problems", help="RL problems (.jsonl/.json, ours or medical-o1) or a HF dataset id."),
    model: str = typer.Option(..., "--model", help="The SFT model: a checkpoint directory, hf:<path-or-repo> or embedded."),
    out: Path = typer.Option(..., "--out", help="Output directory: model, checkpoints, metrics.jsonl."),
    algo: str = typer.Option("ppo", "--algo", help="ppo (ours) | grpo | rloo (TRL) | dpo (verified pairs + TRL)."),
    verifier: str = typer.Option("match", "--verifier", help="match | judge:<model spec> | classifier:<path>."),
    value_model: Optional[str] = typer.Option(None, "--value-model", help="ppo: value model init (default: --model)."),
    lr: float = typer.Option(5e-7, "--lr", min=0.0, help="Learning rate (paper: 5e-7)."),
    batch_size: int = typer.Option(128, "--batch-size", min=1,
                                   help="ppo: problems per step; grpo/rloo: completions; dpo: pairs (paper: 128)."),
    micro_batch_size: int = typer.Option(8, "--micro-batch-size", min=1, help="Sequences per forward pass per device."),
    num_mini_batches: int = typer.Option(1, "--num-mini-batches", min=1, help="ppo: optimizer steps per PPO epoch."),
    ppo_epochs: int = typer.Option(3, "--ppo-epochs", min=1, help="ppo: passes over each batch (paper: 3)."),
    kl_coef: float = typer.Option(0.03, "--kl-coef", min=0.0, help="KL beta to the SFT model (paper: 0.03)."),
    temperature: float = typer.Option(0.5, "--temperature", min=0.0, help="Sampling temperature (paper: 0.5)."),
    max_new_tokens: int = typer.Option(1300, "--max-new-tokens", min=1, help="Longest response (paper: ~1300)."),
    missing_eos_penalty: float = typer.Option(0.0, "--missing-eos-penalty", min=0.0,
                                              help="ppo: subtracted from the reward of cut-off responses."),
    overlong_buffer: int = typer.Option(0, "--overlong-buffer", min=0,
                                        help="DAPO's soft overlong penalty over the last N tokens before "
                                             "--max-new-tokens (0: off; not dpo)."),
    overlong_penalty_factor: float = typer.Option(1.0, "--overlong-penalty-factor", min=0.0,
                                                  help="The overlong penalty at --max-new-tokens (DAPO: 1.0)."),
    num_generations: Optional[int] = typer.Option(None, "--num-generations", min=1,
                                                  help="Samples per problem (rloo 2, grpo 8, dpo 5)."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.0, help="Passes over the problems (dpo: the pairs)."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many steps (-1: all epochs)."),
    save_steps: int = typer.Option(20, "--save-steps", min=1, help="Steps between checkpoints."),
    keep_checkpoints: int = typer.Option(0, "--keep-checkpoints", min=0, help="Resumable checkpoints kept once the "
                                         "final weights are written (the newest max(1, N) while training)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint in --out."),
    bf16: Optional[bool] = typer.Option(None, "--bf16/--no-bf16", help="bf16 mixed precision (default: if supported)."),
    gradient_checkpointing: Optional[bool] = typer.Option(
        None, "--gradient-checkpointing/--no-gradient-checkpointing",
        help="Recompute activations: less memory, slower (default: off; on with --engine verl)."),
    seed: int = typer.Option(42, "--seed", help="Random seed."),
    engine: str = typer.Option("ours", "--engine", help="ppo, grpo: ours | verl (Ray, vLLM, FSDP)."),
    nnodes: int = typer.Option(1, "--nnodes", min=1, help="verl: nodes."),
    n_gpus_per_node: int = typer.Option(8, "--n-gpus-per-node", min=1, help="verl: GPUs per node."),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", min=1, help="verl: rollout tensor parallel."),
    critic_lr: Optional[float] = typer.Option(None, "--critic-lr", min=0.0, help="verl ppo: critic lr (default --lr)."),
    judge_max_concurrent: Optional[int] = typer.Option(None, "--judge-max-concurrent", min=1,
                                                       help="verl, API judge: requests in flight in all (default 32)."),
    judge_max_rpm: Optional[int] = typer.Option(None, "--judge-max-rpm", min=1, help="verl, API judge: requests/min."),
    judge_max_tpm: Optional[int] = typer.Option(None, "--judge-max-tpm", min=1, help="verl, API judge: tokens/minute."),
    fresh: bool = typer.Option(False, "--fresh", help="verl: start over (an earlier attempt is moved aside)."),
    verl_override: list[str] = typer.Option([], "--verl-override", help="verl: a Hydra override key=value (repeat)."),
    print_launch: bool = typer.Option(False, "--print-launch", help="verl: write the data, validate, print the "
                                      "launch script for a cluster scheduler and start nothing."),
    use_vllm: bool = typer.Option(False, "--use-vllm", help="grpo/rloo: generate with vLLM (colocate mode)."),
):
    """Stage 3: reinforcement learning with the verifier reward (PPO, RLOO, GRPO, DPO)."""
    if engine not in ("ours", "verl"):
        raise Medo1Error(f"--engine {engine!r}: expected ours or verl")
    if engine == "verl":
        from medo1.integrations.verl_launch import VerlSettings, run_verl

        given = dict(learning_rate=lr, batch_size=batch_size, micro_batch_size=micro_batch_size, kl_coef=kl_coef,
                     temperature=temperature, max_new_tokens=max_new_tokens, epochs=epochs, max_steps=max_steps,
                     save_steps=save_steps, keep_checkpoints=keep_checkpoints, bf16=bf16, seed=seed,
                     gradient_checkpointing=gradient_checkpointing, overlong_buffer=overlong_buffer,
                     overlong_penalty_factor=overlong_penalty_factor)
        if algo == "ppo":
            if num_generations:
                raise Medo1Error("--num-generations: ppo on verl samples one response per problem")
            given.update(value_model=value_model, num_mini_batches=num_mini_batches, ppo_epochs=ppo_epochs,
                         missing_eos_penalty=missing_eos_penalty)
        else:
            given.update(num_generations=num_generations, use_vllm=use_vllm)
        settings = VerlSettings(nnodes=nnodes, n_gpus_per_node=n_gpus_per_node, tensor_parallel_size=tensor_parallel_size,
                                critic_lr=critic_lr, judge_max_concurrent=judge_max_concurrent,
                                judge_max_rpm=judge_max_rpm, judge_max_tpm=judge_max_tpm, overrides=list(verl_override))
        done = run_verl(problems, model, out, print_launch=print_launch, algo=algo, ppo=given, settings=settings,
                        run_name=out.name, verifier=verifier, resume=resume, fresh=fresh)
        typer.echo(done if print_launch else f"rl ({algo} on verl): model saved to {done}")
        return
    verl_only = {"--fresh": fresh, "--critic-lr": critic_lr, "--judge-max-rpm": judge_max_rpm,
                 "--judge-max-tpm": judge_max_tpm, "--judge-max-concurrent": judge_max_concurrent,
                 "--tensor-parallel-size": tensor_parallel_size != 1, "--print-launch": print_launch,
                 "--verl-override": verl_override, "--nnodes": nnodes != 1}
    if unused := [name for name, value in verl_only.items() if value]:
        raise Medo1Error(f"{', '.join(unused)}: only with --engine verl")
    gradient_checkpointing = bool(gradient_checkpointing)
    if algo == "ppo":
        from medo1.train.ppo import PPOConfig, train_ppo

        done = train_ppo(PPOConfig(
            problems=problems, model=model, out=str(out), value_model=value_model, verifier=verifier,
            learning_rate=lr, batch_size=batch_size, micro_batch_size=micro_batch_size,
            num_mini_batches=num_mini_batches, ppo_epochs=ppo_epochs, kl_coef=kl_coef, temperature=temperature,
            max_new_tokens=max_new_tokens, missing_eos_penalty=missing_eos_penalty, overlong_buffer=overlong_buffer,
            overlong_penalty_factor=overlong_penalty_factor, epochs=epochs,
            max_steps=max_steps, save_steps=save_steps, keep_checkpoints=keep_checkpoints, resume=resume, bf16=bf16,
            gradient_checkpointing=gradient_checkpointing, seed=seed,
        ))
    else:
        from medo1.train.trl_rl import TRLRLSettings, train_trl_rl

        done = train_trl_rl(TRLRLSettings(
            algo=algo, problems=problems, model=model, out=str(out), verifier=verifier, learning_rate=lr,
            batch_size=batch_size, micro_batch_size=micro_batch_size, num_generations=num_generations,
            temperature=temperature, max_new_tokens=max_new_tokens, kl_coef=kl_coef, overlong_buffer=overlong_buffer,
            overlong_penalty_factor=overlong_penalty_factor, epochs=epochs,
            max_steps=max_steps, save_steps=save_steps, keep_checkpoints=keep_checkpoints, resume=resume, bf16=bf16,
            gradient_checkpointing=gradient_checkpointing, seed=seed, use_vllm=use_vllm,
        ))
    typer.echo(f"rl ({algo}): model saved to {done}")
