"""Settings declared once. A stage's config dataclass is the single source of its settings: each field
has its default and `metadata={"help": ...}` (optionally `"choices"`, and `"aliases"`: other option
names, as HfArgumentParser reads them, e.g. `["--lr"]`), and from it are derived

- the stage's CLI options (`options`: typer parameters with the same names, types, defaults, help and
  ranges), as TRL builds its scripts from its configs;
- the stage's recipe section (`section_model`: a pydantic model with the same fields);
- `python -m medo1.train.*` arguments (HfArgumentParser reads the same dataclass).

Ranges are declared once too, by field name (`BOUNDS`): `lr: -1` fails in a recipe, on the command
line and in `--set` alike. `apply_sets` is `medo1 run --set section.key=value` (torchtune's
`key=value` overrides): each value is read as YAML and checked against the recipe schema.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import types
import typing
from typing import Any, Callable, Literal, Union

import typer
import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model

from medo1.errors import Medo1Error

# The ranges of numeric settings, by name: the CLI options, the recipe and `--set` enforce the same.
_AT_LEAST_ONE = ("batch_size", "micro_batch_size", "rollout_batch_size", "max_tokens", "difficulty_max_tokens",
                 "max_new_tokens", "max_prompt_length", "max_length", "max_attempts", "logging_steps", "save_steps",
                 "num_mini_batches", "ppo_epochs", "lora_r", "lora_alpha", "min_lines", "patience", "n_gpus_per_node",
                 "nnodes", "tensor_parallel_size", "judge_max_concurrent", "eval_steps", "runs", "limit", "samples",
                 "concurrency", "num_iterations")
_AT_LEAST_ZERO = ("lr", "learning_rate", "critic_lr", "weight_decay", "kl_coef", "dpo_beta", "temperature",
                  "max_grad_norm", "vf_coef", "clip_range", "value_clip_range", "retries", "answer_retries",
                  "max_depth", "keep_checkpoints", "response_max_chars", "min_words", "warmup_steps",
                  "max_answer_words", "missing_eos_penalty", "clip_range_high")
BOUNDS: dict[str, dict[str, float]] = {
    **{name: {"ge": 1} for name in _AT_LEAST_ONE},
    **{name: {"ge": 0} for name in _AT_LEAST_ZERO},
    "epochs": {"gt": 0},
    "max_steps": {"ge": -1},
    "warmup_ratio": {"ge": 0, "lt": 1},
    "lora_dropout": {"ge": 0, "lt": 1},
    "heldout": {"gt": 0, "lt": 1},
    "rl_fraction": {"ge": 0, "le": 1},
    "span": {"ge": 8},
    "max_repeated": {"gt": 0, "le": 1},
    "gamma": {"ge": 0, "le": 1},
    "lam": {"ge": 0, "le": 1},
    "target_precision": {"gt": 0, "le": 1},
    "gpu_memory_utilization": {"gt": 0, "le": 1},
    "vllm_gpu_memory_utilization": {"gt": 0, "le": 1},
    "min_pass_rate": {"ge": 0, "lt": 1},
    "max_pass_rate": {"gt": 0, "le": 1},
}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def help_of(f: dataclasses.Field) -> str | None:
    return f.metadata.get("help")


def default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


# ---------------------------------------------------------------- CLI options


@dataclasses.dataclass
class CliField:
    """How one dataclass field appears on the command line, and how its value comes back."""

    name: str
    annotation: Any  # what typer parses
    default: Any  # what typer shows and returns when the option is not given
    to_value: Callable[[Any], Any]  # CLI value -> field value


def cli_field(f: dataclasses.Field, hint: Any, default: Any = None) -> CliField:
    """The CLI form of a field: lists and tuples of strings are comma-separated (one option), a
    mapping is a repeated `key=value` option, `choices` and `Literal`s become a closed set."""
    default = default_of(f) if default is None else default
    base, optional = _unwrap_optional(hint)
    origin = typing.get_origin(base)
    if origin is list and f.metadata.get("repeat"):  # one option per item (items may hold commas)
        return CliField(f.name, list[str], [], lambda value: list(value or []) or list(default or []))
    if origin in (tuple, list) and typing.get_args(base)[:1] in ((str,),):
        kind = tuple if origin is tuple else list

        def to_seq(value: Any) -> Any:
            if value is None:
                return None
            return kind(s.strip() for s in str(value).split(",") if s.strip())

        shown = ",".join(default) if isinstance(default, (list, tuple)) else default
        return CliField(f.name, Union[str, None] if optional else str, shown, to_seq)
    if origin is dict:
        def to_map(value: list[str]) -> dict[str, str]:
            out = {}
            for item in value or []:
                key, sep, val = item.partition("=")
                if not sep or not key.strip():
                    raise Medo1Error(f"{flag(f.name)} {item!r}: expected key=value")
                out[key.strip()] = val.strip()
            return out or dict(default or {})

        return CliField(f.name, list[str], [], to_map)
    return CliField(f.name, hint, default, lambda value: value)


def options(cls: type, *, skip: tuple[str, ...] = (), defaults: dict[str, Any] | None = None,
            helps: dict[str, str] | None = None) -> list[tuple[inspect.Parameter, CliField]]:
    """Typer parameters for the fields of dataclass `cls` (without `skip`): `--field-name` with the
    field's type, default (or `defaults[name]`), help (or `helps[name]`), choices and BOUNDS."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        cf = cli_field(f, hints[f.name], (defaults or {}).get(f.name))
        required = cf.default is dataclasses.MISSING
        bounds = BOUNDS.get(f.name, {})
        kwargs: dict[str, Any] = {"help": (helps or {}).get(f.name) or help_of(f)}
        base, _ = _unwrap_optional(hints[f.name])
        if base in (int, float) and bounds:
            kwargs.update(min=bounds.get("ge", bounds.get("gt")), max=bounds.get("le", bounds.get("lt")))
        annotation = cf.annotation
        choices = f.metadata.get("choices")
        if choices and typing.get_origin(base) is not Literal:  # typer shows and checks a Literal as a closed set
            annotation = Literal[tuple(choices)]
            annotation = Union[annotation, None] if _unwrap_optional(hints[f.name])[1] else annotation
            cf = dataclasses.replace(cf, annotation=annotation)
        names = [flag(f.name), *f.metadata.get("aliases", ())]
        if base is bool:  # --lora/--no-lora
            names = [f"{name}/--no-{name[2:]}" for name in names]
        option = typer.Option(... if required else cf.default, *names, **kwargs)
        out.append((inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                      annotation=annotation), cf))
    return out


def union_options(classes: dict[str, type], *, skip: tuple[str, ...] = ()) -> list[tuple[inspect.Parameter, CliField]]:
    """Options for the fields of several dataclasses at once (`medo1 rl`: PPO's, TRL's and verl's settings),
    each once, with default None: "not given", so the dataclass that is used applies its own default, which
    the help names per class (`classes`: label -> dataclass)."""
    seen: dict[str, tuple[inspect.Parameter, CliField]] = {}
    defaults: dict[str, dict[str, list[str]]] = {}
    for label, cls in classes.items():
        for param, cf in options(cls, skip=skip):
            seen.setdefault(param.name, (param, cf))
            shown = param.default.default
            if shown is not ... and shown is not None and shown != []:
                defaults.setdefault(param.name, {}).setdefault(str(shown), []).append(label)
    out = []
    for name, (param, cf) in seen.items():
        found = defaults.get(name, {})
        if len(found) == 1 and len(next(iter(found.values()))) == len([c for c in classes.values()
                                                                       if name in {f.name for f in dataclasses.fields(c)}]):
            said = next(iter(found))  # one default wherever the field is
        else:
            said = "; ".join(f"{', '.join(labels)} {value}" for value, labels in found.items())
        info = copy.copy(param.default)
        info.help = f"{info.help} (default: {said})" if said else info.help
        repeated = cf.annotation == list[str]
        info.default = [] if repeated else None
        annotation = param.annotation
        if not repeated and not _unwrap_optional(annotation)[1]:
            annotation = Union[annotation, None]
        out.append((param.replace(default=info, annotation=annotation), dataclasses.replace(cf, annotation=annotation)))
    return out


def given(values: dict[str, Any], converters: dict[str, CliField], names: set[str]) -> dict[str, Any]:
    """The options among `names` that were given on the command line (not None, not an empty list), as
    field values."""
    out = {}
    for name in names:
        value = values.get(name)
        if value is None or value == []:
            continue
        out[name] = converters[name].to_value(value) if name in converters else value
    return out


def make_command(fn: Callable[..., Any], params: list[inspect.Parameter], doc: str | None = None) -> Callable:
    """`fn(**values)` with the signature typer reads: the generated options (and any CLI-only ones). Help
    texts are shown literally (`medo1[vllm]`, `openai:NAME[@URL]` are not rich markup)."""
    from rich.markup import escape

    def literal(param: inspect.Parameter) -> inspect.Parameter:
        info = param.default
        if getattr(info, "help", None):
            info = copy.copy(info)
            info.help = escape(info.help)
        return param.replace(default=info)

    params = [literal(p) for p in params]

    def command(**values: Any) -> Any:
        return fn(**values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = doc or fn.__doc__
    command.__name__ = fn.__name__
    return command


def from_cli(cls: type, values: dict[str, Any], converters: dict[str, CliField], **fixed: Any) -> Any:
    """An instance of `cls` from parsed CLI values (the fields of `cls` among them) and `fixed` ones."""
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {name: converters[name].to_value(value) if name in converters else value
              for name, value in values.items() if name in names}
    return cls(**{**kwargs, **fixed})


# ---------------------------------------------------------------- recipe sections


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def section_model(cls: type, name: str, exclude: tuple[str, ...] = (), **extra: Any) -> type[BaseModel]:
    """A pydantic model with the fields (types, defaults, help, `BOUNDS`) of a stage's config dataclass."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = dict(extra)
    for f in dataclasses.fields(cls):
        if f.name in exclude or not f.init:
            continue
        bounds = BOUNDS.get(f.name, {})
        tp = hints[f.name]
        if (choices := f.metadata.get("choices")) and _unwrap_optional(tp)[0] is str:
            tp = Literal[tuple(choices)] | None if _unwrap_optional(tp)[1] else Literal[tuple(choices)]
        if aliases := f.metadata.get("aliases"):  # other names of the option (`--lr`): a recipe may use them too
            names = [a.lstrip("-").replace("-", "_") for a in aliases]
            bounds = {**bounds, "validation_alias": AliasChoices(f.name, *names)}
        if f.default is not dataclasses.MISSING:
            fields[f.name] = (tp, Field(default=f.default, description=help_of(f), **bounds))
        elif f.default_factory is not dataclasses.MISSING:
            fields[f.name] = (tp, Field(default_factory=f.default_factory, description=help_of(f), **bounds))
    return create_model(name, __base__=Strict, **fields)


# ---------------------------------------------------------------- --set section.key=value


def apply_sets(raw: dict[str, Any], sets: list[str], schema: type[BaseModel]) -> dict[str, Any]:
    """`raw` (a recipe as read from YAML) with each `section.key=value` of `sets` applied; the value is
    read as YAML (`1e-5`, `true`, `[a, b]`). An unknown key is one line naming the valid ones; the
    types are checked when the recipe is validated, as for keys in the file."""
    out = dict(raw)
    for item in sets:
        path, sep, text = item.partition("=")
        keys = [k for k in path.strip().split(".") if k]
        if not sep or not keys:
            raise Medo1Error(f"--set {item!r}: expected section.key=value")
        _check_key(keys, schema, item, out)
        node = out
        for key in keys[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[keys[-1]] = yaml.safe_load(text) if text.strip() else None
    return out


def _check_key(keys: list[str], schema: type[BaseModel], item: str, raw: dict[str, Any]) -> None:
    model: Any = schema
    for depth, key in enumerate(keys):
        fields = _fields_of(model, raw, keys[:depth])
        if fields is None:
            return  # a free-form mapping (e.g. eval.data): any key
        if key not in fields:
            where = ".".join(keys[:depth]) or "the recipe"
            raise Medo1Error(f"--set {item!r}: {where} has no key {key!r}; valid keys: {', '.join(sorted(fields))}")
        model = fields[key]


def _fields_of(model: Any, raw: dict[str, Any], prefix: list[str]) -> dict[str, Any] | None:
    """The keys (and their types) a part of the schema takes; a tagged union (the rl section) by the
    tag in the recipe, else every member's keys."""
    model, _ = _unwrap_optional(model)
    if typing.get_origin(model) is typing.Annotated:
        model = typing.get_args(model)[0]
    members = typing.get_args(model) if typing.get_origin(model) in (Union, types.UnionType) else (model,)
    members = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if not members:
        return None
    if len(members) > 1:
        node: Any = raw
        for key in prefix:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        tag = node.get("algo") if isinstance(node, dict) else None
        chosen = [m for m in members if tag in typing.get_args(m.model_fields["algo"].annotation)] or members
        members = chosen
    out: dict[str, Any] = {}
    for m in members:
        for name, info in m.model_fields.items():
            out[name] = info.annotation
            aliases = info.validation_alias.choices if isinstance(info.validation_alias, AliasChoices) else ()
            out.update({alias: info.annotation for alias in aliases if isinstance(alias, str)})
    return out


def dump_defaults(cls: type) -> dict[str, Any]:
    """Field name -> default of a dataclass (required fields left out)."""
    return {f.name: default_of(f) for f in dataclasses.fields(cls) if default_of(f) is not dataclasses.MISSING}


__all__ = ["BOUNDS", "CliField", "Strict", "apply_sets", "dump_defaults", "flag", "from_cli", "make_command",
           "options", "section_model"]
