"""The `medo1` Typer app, the options its commands share, and `main` (one clear line per error)."""

from __future__ import annotations

import sys

import typer

from medo1.errors import Medo1Error

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


def main() -> None:
    try:
        app()
    except Medo1Error as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted; finished work is saved, re-run to resume", err=True)
        sys.exit(130)

