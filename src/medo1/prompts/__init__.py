"""Prompt templates, stored as text files beside this module and loaded by name.

    load_prompt("search/init")                  -> prompts/en/search/init.txt
    load_prompt("search/init", lang="zh")       -> prompts/zh/search/init.txt
    load_prompt("search/init", override="DIR")  -> DIR/en/search/init.txt, or DIR/search/init.txt,
                                                   falling back to the bundled one

Templates use `{name}` placeholders filled with `render(template, **values)`; literal
braces (JSON examples) are written `{{` and `}}`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from medo1.errors import Medo1Error

BUNDLED = Path(__file__).parent


@lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() + "\n"


def prompt_path(name: str, *, lang: str = "en", override: str | os.PathLike | None = None) -> Path:
    candidates = []
    if override:
        override = Path(override)
        if not override.is_dir():
            raise Medo1Error(f"{override}: prompts folder does not exist")
        candidates += [override / lang / f"{name}.txt", override / f"{name}.txt"]
    candidates.append(BUNDLED / lang / f"{name}.txt")
    for path in candidates:
        if path.is_file():
            return path
    raise Medo1Error(f"prompt {name!r} (lang {lang!r}) not found; looked in: {', '.join(map(str, candidates))}")


def load_prompt(name: str, *, lang: str = "en", override: str | os.PathLike | None = None) -> str:
    return _read(prompt_path(name, lang=lang, override=override))


def render(template: str, **values: object) -> str:
    try:
        return template.format(**values)
    except KeyError as err:
        raise Medo1Error(f"prompt template needs a value for {err.args[0]!r}") from None
    except (IndexError, ValueError) as err:
        raise Medo1Error(f"prompt template is malformed ({err}); write literal braces as {{{{ and }}}}") from None
