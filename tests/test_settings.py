"""Settings are declared once, in the stages' config dataclasses: every field is a CLI option of its
command with the same default, and a key of its recipe section with the same default; `medo1 run --set`
overrides any recipe key, type-checked."""

from __future__ import annotations

import dataclasses

import pytest
import typer
from rich.markup import escape

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
    "sft": ("medo1.train.config:SFTSettings", ()),
    "passrate": ("medo1.passrate:PassRateConfig", ("enabled",)),
    "verifier-train": ("medo1.train.verifier:VerifierTrainConfig", ()),
    "eval": ("medo1.evaluate.runner:EvalConfig", ("data", "progress")),
}
# recipe section -> (its config dataclass, fields the run wires itself: paths, the shared seed/lang/prompts)
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "curate": ("medo1.curate:CurateConfig", ("only_split", "lang", "prompts")),
    "split": ("medo1.split:SplitConfig", ()),
    "decontaminate": ("medo1.decontaminate:DecontaminateConfig", ()),
    "search": ("medo1.reasoning.config:SearchConfig", ("seed", "lang", "prompts")),
    "synthesize": ("medo1.reasoning.config:SynthConfig", ("seed", "lang", "prompts")),
    "sft": ("medo1.train.config:SFTSettings", ("data", "model", "out", "resume", "seed", "chat_template")),
    "verifier": ("medo1.train.verifier:VerifierTrainConfig", ("data", "out", "seed")),
    "passrate": ("medo1.passrate:PassRateConfig", ("temperature", "max_new_tokens", "verifier", "seed")),
    "eval": ("medo1.evaluate.runner:EvalConfig", ("lang", "prompts", "progress", "seed")),
    "rl.ppo": ("medo1.train.rl_config:PPOConfig", ("problems", "model", "out", "verifier", "resume", "seed")),
    "rl.grpo": ("medo1.train.rl_config:TRLRLSettings", ("algo", "problems", "model", "out", "verifier", "resume",
                                                        "seed")),
    "rl.dpo": ("medo1.train.rl_config:TRLRLSettings", ("algo", "problems", "model", "out", "verifier", "resume",
                                                       "seed")),
    "rl.ppo.verl": ("medo1.integrations.verl_overrides:VerlSettings", ()),
}
# `medo1 rl`: the settings of every algorithm (and verl's) as options "not given" by default
RL_CLASSES = ("medo1.train.rl_config:PPOConfig", "medo1.train.rl_config:TRLRLSettings",
              "medo1.integrations.verl_overrides:VerlSettings")


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
        assert param.help and param.help == escape(f.metadata["help"]), (command, f.name)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_field_is_a_recipe_key_with_the_same_default(section):
    config, exclude = SECTIONS[section]
    model = _section_model(section)
    for f in dataclasses.fields(_load(config)):
        if f.name in exclude:
            continue
        assert f.name in model.model_fields, f"recipe section {section} has no {f.name}"
        info = model.model_fields[f.name]
        assert info.get_default(call_default_factory=True) == default_of(f), (section, f.name)
        assert info.description == f.metadata["help"], (section, f.name)


def _section_model(section: str):
    """The pydantic model of a recipe section; `rl.<algo>` picks the rl section's member for that algo."""
    import typing

    name, _, rest = section.partition(".")
    model = build_recipe_model().model_fields[name].annotation
    if rest:
        algo, _, sub = rest.partition(".")
        union = typing.get_args(typing.get_args(model)[0]) if typing.get_origin(model) is typing.Annotated else \
            typing.get_args(model)
        model = next(m for m in union if algo in typing.get_args(m.model_fields["algo"].annotation))
        if sub:
            model = model.model_fields[sub].annotation
    return model


def test_every_rl_field_is_an_option_given_or_not():
    """`medo1 rl` has every field of PPO's, TRL's and verl's settings; not given, the algorithm's own default
    applies (named in the help), so a grpo run and a recipe with `algo: grpo` checkpoint alike."""
    params = _click_params("rl")
    for config in RL_CLASSES:
        for f in dataclasses.fields(_load(config)):
            if f.name in ("algo", "problems", "model", "out"):  # the command's own options
                continue
            param = params[f.name]
            assert flag(f.name) in param.opts and param.default in (None, [], ()), (config, f.name, param.default)
            default = default_of(f)
            if default not in (None, [], ()) and not isinstance(default, (list, tuple)):
                assert str(default) in param.help, (config, f.name, param.help)


def test_rl_settings_not_given_are_the_algorithms_defaults():
    from medo1.train.rl import rl_settings
    from medo1.train.rl_config import PPOConfig, TRLRLSettings

    paths = {"problems": "p", "model": "m", "out": "o"}
    assert rl_settings("grpo", {**paths, "save_steps": None}).save_steps == 50 == TRLRLSettings(algo="grpo", **paths).save_steps
    assert rl_settings("ppo", paths).save_steps == 20 == PPOConfig(**paths).save_steps
    with pytest.raises(Medo1Error, match=r"rl grpo: no setting ppo_epochs \(settings of ppo\)"):
        rl_settings("grpo", {**paths, "ppo_epochs": 2})
    from medo1.train.rl import check_pair

    with pytest.raises(Medo1Error, match=r"rl engine 'verl' runs ppo or grpo; algo rloo runs on engine ours"):
        check_pair("rloo", "verl")


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
