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
PromptsOpt = typer.Option(None, "--prompts", help="Folder overriding the bundled prompts.")


def command(generated: list, *, name: str | None = None, build: Callable[[dict[str, Any]], Any] | None = None
            ) -> Callable:
    """Register a command whose options are its own typer parameters (paths, model specs) followed by the
    `generated` ones (medo1.settings.options). With `build`, the function gets `build(generated values)`
    first; without, the generated values as keyword arguments (`**values`)."""
    def register(fn: Callable) -> Callable:
        hints = typing.get_type_hints(fn)
        signature = list(inspect.signature(fn).parameters.values())
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation))
               for p in signature[1 if build else 0:] if p.kind is not inspect.Parameter.VAR_KEYWORD]
        own_names = {p.name for p in own}

        def call(**values: Any) -> Any:
            mine = {k: v for k, v in values.items() if k in own_names}
            rest = {k: v for k, v in values.items() if k not in own_names}
            return fn(build(rest), **mine) if build else fn(**mine, **rest)

        command = make_command(call, own + [p for p, _ in generated], fn.__doc__)
        command.__name__ = fn.__name__
        app.command(name)(command)
        return fn

    return register


def config_command(config: type, *, name: str | None = None, skip: tuple[str, ...] = (),
                   defaults: dict[str, Any] | None = None) -> Callable:
    """A command whose options are the fields of dataclass `config`; the function takes the built config
    first: `def curate(cfg: CurateConfig, input: Path = typer.Option(...), ...)`."""
    generated = options(config, skip=skip, defaults=defaults)
    converters = {cf.name: cf for _, cf in generated}
    return command(generated, name=name, build=lambda values: from_cli(config, values, converters))


def main() -> None:
    try:
        app()
    except Medo1Error as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted; finished work is saved, re-run to resume", err=True)
        sys.exit(130)

