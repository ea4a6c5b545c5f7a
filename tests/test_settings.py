"""Settings are declared once, in the stages' config dataclasses: every field is a CLI option of its
command with the same default, and a key of its recipe section with the same default; `medo1 run --set`
overrides any recipe key, type-checked."""

from __future__ import annotations

import dataclasses

import pytest
import typer

from medo1.cli import app
from medo1.errors import Medo1Error
from medo1.recipe import build_recipe_model, load_recipe
from medo1.settings import default_of, flag

# command -> (its config dataclass, fields that are not options of that command: wired by the command itself)
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "curate": ("medo1.curate:CurateConfig", ()),
    "split": ("medo1.split:SplitConfig", ()),
    "decontaminate": ("medo1.decontaminate:DecontaminateConfig", ("enabled",)),
    "search": ("medo1.reasoning.config:SearchConfig", ()),
    "synthesize": ("medo1.reasoning.config:SynthConfig", ()),
}
# recipe section -> (its config dataclass, fields the run wires itself: paths, the shared seed/lang/prompts)
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "curate": ("medo1.curate:CurateConfig", ("only_split", "lang", "prompts")),
    "split": ("medo1.split:SplitConfig", ()),
    "decontaminate": ("medo1.decontaminate:DecontaminateConfig", ()),
    "search": ("medo1.reasoning.config:SearchConfig", ("seed", "lang", "prompts")),
    "synthesize": ("medo1.reasoning.config:SynthConfig", ("seed", "lang", "prompts")),
}


def _load(dotted: str) -> type:
    import importlib

    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def _click_params(command: str) -> dict[str, object]:
    group = typer.main.get_command(app)
    return {p.name: p for p in group.commands[command].params}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_field_is_an_option_with_the_same_default(command):
    config, skip = COMMANDS[command]
    params = _click_params(command)
    for f in dataclasses.fields(_load(config)):
        if f.name in skip:
            continue
        assert f.name in params, f"medo1 {command} has no {flag(f.name)}"
        param = params[f.name]
        assert flag(f.name) in param.opts, (command, f.name, param.opts)
        default = default_of(f)
        if default is dataclasses.MISSING:
            assert param.required, (command, f.name)
            continue
        shown = ",".join(default) if isinstance(default, tuple) else default
        assert param.default == shown, (command, f.name, param.default, default)
        assert param.help and param.help == f.metadata["help"], (command, f.name)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_field_is_a_recipe_key_with_the_same_default(section):
    config, exclude = SECTIONS[section]
    model = build_recipe_model().model_fields[section].annotation
    for f in dataclasses.fields(_load(config)):
        if f.name in exclude:
            continue
        assert f.name in model.model_fields, f"recipe section {section} has no {f.name}"
        info = model.model_fields[f.name]
        assert info.get_default(call_default_factory=True) == default_of(f), (section, f.name)
        assert info.description == f.metadata["help"], (section, f.name)


def test_a_field_declared_once_changes_everywhere(monkeypatch):
    """The CLI and the recipe read the dataclass itself: a new default shows up in both."""
    from medo1.reasoning.config import SearchConfig

    field = next(f for f in dataclasses.fields(SearchConfig) if f.name == "max_depth")
    monkeypatch.setattr(field, "default", 7)
    model = build_recipe_model().model_fields["search"].annotation
    assert model.model_fields["max_depth"].default == 7
    from medo1.settings import options

    (param, _), = [(p, cf) for p, cf in options(SearchConfig) if p.name == "max_depth"]
    assert param.default.default == 7


def test_set_overrides_any_recipe_key_type_checked():
    recipe = load_recipe("demo", check_files=False,
                         sets=["sft.epochs=1", "search.strategies=[correction]", "models.concurrency=4",
                               "eval.data.medqa=local.jsonl", "split.rl_fraction=0.3"])
    assert recipe.sft.epochs == 1.0 and recipe.search.strategies == ("correction",)
    assert recipe.models.concurrency == 4 and recipe.eval.data == {"medqa": "local.jsonl"}
    assert recipe.split.rl_fraction == 0.3
    with pytest.raises(Medo1Error, match=r"--set 'sft.epochz=1': sft has no key 'epochz'; valid keys: .*epochs"):
        load_recipe("demo", check_files=False, sets=["sft.epochz=1"])
    with pytest.raises(Medo1Error, match=r"--set 'sft.epochs=-1': Input should be greater than 0"):
        load_recipe("demo", check_files=False, sets=["sft.epochs=-1"])
    with pytest.raises(Medo1Error, match=r"--set 'rl.kl_coef=abc': Input should be a valid number"):
        load_recipe("demo", check_files=False, sets=["rl.kl_coef=abc"])
    with pytest.raises(Medo1Error, match=r"expected section.key=value"):
        load_recipe("demo", check_files=False, sets=["sft.epochs"])
