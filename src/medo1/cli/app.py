"""The `medo1` Typer app, the options its commands share, and `main` (one clear line per error)."""

from __future__ import annotations

import inspect
import sys
import typing
from typing import Any, Callable

import typer

from medo1.errors import Medo1Error
from medo1.settings import from_cli, make_command, options

app = typer.Typer(
    name="medo1",
    help="Turn a bank of multiple-choice exam questions into an LLM that reasons before it answers.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Options shared by every command that calls models.
ConcurrencyOpt = typer.Option(32, "--concurrency", min=1, help="Model requests in flight at once (hf: batch size).")
NoCacheOpt = typer.Option(False, "--no-cache", help="Do not read or write the request cache.")
LangOpt = typer.Option("en", "--lang", help="Prompt language: en or zh.")
PromptsOpt = typer.Option(None, "--prompts", help="Folder overriding the bundled prompts.")


def config_command(config: type, *, name: str | None = None, skip: tuple[str, ...] = (),
                   defaults: dict[str, Any] | None = None) -> Callable:
    """Register a command whose options are the fields of dataclass `config` (medo1.settings.options)
    followed by the command's own CLI-only parameters (paths, model specs). The function takes the
    built config first: `def curate(cfg: CurateConfig, input: Path = typer.Option(...), ...)`."""
    def register(fn: Callable) -> Callable:
        hints = typing.get_type_hints(fn)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in list(inspect.signature(fn).parameters.values())[1:]]
        generated = options(config, skip=skip, defaults=defaults)
        converters = {cf.name: cf for _, cf in generated}
        own_names = {p.name for p in own}

        def call(**values: Any) -> Any:
            settings = from_cli(config, {k: v for k, v in values.items() if k not in own_names}, converters)
            return fn(settings, **{k: v for k, v in values.items() if k in own_names})

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + [p for p, _ in generated]
        command = make_command(call, params, fn.__doc__)
        command.__name__ = fn.__name__
        app.command(name)(command)
        return fn

    return register


def main() -> None:
    try:
        app()
    except Medo1Error as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted; finished work is saved, re-run to resume", err=True)
        sys.exit(130)

