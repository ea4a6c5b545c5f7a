"""`medo1 chat`: talk to a model and see its thinking apart from its final response.

Turns come from `--message` (one turn), from stdin when it is not a terminal (one turn per
non-empty line), or from an interactive prompt (`/reset` starts over, `/exit` or Ctrl-D
quits). The conversation is kept across turns; earlier assistant turns keep only their
final response, as reasoning models are usually served.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.text import Text

from medo1.llm import ChatModel, Completion, load_model
from medo1.thinking import parse_output


def chat_model_spec(model: str) -> str:
    """A checkpoint directory means `hf:<dir>` and a .gguf file `gguf:<file>`; anything else is a model spec."""
    if model == "embedded" or model.partition(":")[0] in ("hf", "gguf", "openai"):
        return model
    path = Path(model).expanduser()
    if path.is_dir():
        return f"hf:{path}"
    if path.is_file() and path.suffix == ".gguf":
        return f"gguf:{path}"
    return model  # load_model explains what a model spec looks like


def run_chat(
    model: str,
    *,
    system: str | None = None,
    message: str | None = None,
    max_tokens: int = 1024,
    temperature: float = 0.0,
    cache: bool = True,
    console: Console | None = None,
) -> None:
    console = console or Console()
    chat_model = load_model(chat_model_spec(model), cache=cache)
    if message is not None:
        turns: Iterable[str] = [message]
    elif not sys.stdin.isatty():
        turns = (line.strip() for line in sys.stdin if line.strip())
    else:
        console.print(f"[bold]medo1 chat[/] with {chat_model.name} - /reset starts over, /exit quits")
        turns = _ask(console)

    history: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    for turn in turns:
        if turn == "/reset":
            del history[1 if system else 0:]
            console.print("[dim](conversation cleared)[/]")
            continue
        history.append({"role": "user", "content": turn})
        completion = _reply(chat_model, history, max_tokens, temperature, console)
        parsed = show(completion, console)
        history.append({"role": "assistant", "content": parsed.final if parsed.final is not None else completion.text})
    asyncio.run(chat_model.aclose())


def _ask(console: Console) -> Iterator[str]:
    while True:
        try:
            text = Prompt.ask("[bold cyan]you[/]", console=console).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text in ("/exit", "/quit"):
            return
        if text:
            yield text


def _reply(model: ChatModel, history, max_tokens: int, temperature: float, console: Console) -> Completion:
    request = model.chat(list(history), max_tokens=max_tokens, temperature=temperature, tag="chat")
    if console.is_terminal:
        with console.status("thinking..."):
            return asyncio.run(request)
    return asyncio.run(request)


def show(completion: Completion, console: Console):
    """Print the thinking (dimmed, in a panel) and then the final response (plain)."""
    parsed = parse_output(completion.text)
    if parsed.thinking:
        console.print(Panel(Text(parsed.thinking, style="dim"), title="Thinking", title_align="left",
                            border_style="dim"))
    if parsed.final is not None:
        console.print(Text("Final Response", style="bold"))
        console.print(Text(parsed.final))
    elif not parsed.thinking:  # no sections at all: a model not trained on the format
        console.print(Text(completion.text))
    usage = completion.usage
    note = "  [yellow]cut at --max-tokens[/]" if completion.finish_reason == "length" else ""
    console.print(f"[dim]{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens"
                  f"{' (cached)' if completion.cached else ''}[/]{note}")
    return parsed
