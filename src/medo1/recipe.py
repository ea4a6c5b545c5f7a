"""A recipe: one YAML file that names the data, the models and every stage's settings.

Each stage section takes exactly the fields of that stage's config dataclass (CurateConfig,
SearchConfig, SynthConfig, VerifierTrainConfig, SFTSettings, PassRateConfig, PPOConfig / TRLRLSettings,
EvalConfig), so the documented defaults live in one place. What the run wires between stages (input and output
paths, resume flags) and what is shared (seed, lang, prompts) is set at the top level, not
per stage. An unknown key, a wrong type or a missing file is a one-line error naming the
file, line and key.

Input paths are relative to the recipe file; `sample` names the bundled question bank.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, create_model

from medo1.curate import CurateConfig
from medo1.decontaminate import DecontaminateConfig
from medo1.errors import InputError, Medo1Error
from medo1.evaluate import EvalConfig
from medo1.passrate import PassRateConfig
from medo1.reasoning.config import SearchConfig, SynthConfig
from medo1.settings import Strict, apply_sets, section_model
from medo1.split import SplitConfig
from medo1.train.verifier import RULES, VerifierTrainConfig

BUNDLED_RECIPES = Path(__file__).parent / "recipes"
SAMPLE = "sample"  # the bundled question bank in `data.mcq`
RL_ALGOS = ("ppo", "grpo", "rloo", "dpo")
ENGINE_HELP = ("ppo, grpo: ours (torch + accelerate for ppo, TRL for grpo; one machine) or verl (Ray, vLLM "
               "rollouts, FSDP; pip install -e '.[verl]').")


def _training_sections():
    # Imported here: the training modules pull in transformers/TRL, which the data stages do not need.
    from medo1.integrations.verl_settings import VerlSettings
    from medo1.train.config import SFTSettings
    from medo1.train.rl_config import PPOConfig, TRLRLSettings

    sft = section_model(SFTSettings, "SFTSection", ("data", "model", "out", "resume", "seed", "chat_template"))
    verl = section_model(VerlSettings, "VerlSection", ())
    engine = dict(engine=(Literal["ours", "verl"], Field(default="ours", description=ENGINE_HELP)),
                  verl=(verl, Field(default_factory=verl, description="rl.engine verl: cluster and rollout settings.")))
    ppo = section_model(PPOConfig, "PPOSection", ("problems", "model", "out", "verifier", "resume", "seed"),
                        algo=(Literal["ppo"], "ppo"), **engine)
    trl_exclude = ("algo", "problems", "model", "out", "verifier", "resume", "seed")
    grpo = section_model(TRLRLSettings, "GRPOSection", trl_exclude, algo=(Literal["grpo"], ...), **engine)
    trl = section_model(TRLRLSettings, "TRLSection", trl_exclude, algo=(Literal["rloo", "dpo"], ...))
    return sft, ppo, grpo, trl


class DataSection(Strict):
    mcq: list[str] = Field(default_factory=lambda: [SAMPLE], description="MCQ files (ours, MedQA, MedMCQA); `sample` = bundled bank.")
    split: str | None = Field(default="train", description="Keep only questions whose `split` field is this (None: all).")
    limit: int | None = Field(default=None, ge=1, description="Keep the first N questions (quick runs).")
    cop_base: int | None = Field(default=None, ge=0, le=1, description="MedMCQA `cop` counts from 0 (hub release) "
                                 "or 1 (original release); None: detected per file.")


class ModelsSection(Strict):
    teacher: str = Field(default="embedded", description="Writes filters, rewrites, reasoning trajectories and responses.")
    difficulty: list[str] = Field(default_factory=lambda: ["embedded"], description="Small models of the difficulty filter.")
    policy: str = Field(default="embedded", description="The base model that is trained (SFT, then RL).")
    verifier: str = Field(default="match", description="match | option (the committed option letter: problems "
                          "curated with reformat options) | judge:<model spec> | classifier:<path>, or several joined "
                          "by + (match+classifier:<path>: correct when every part is).")
    reward: Union[str, None] = Field(default=None, description="The RL reward's verifier, when it differs from "
                                  "`verifier` (which search and synthesis use): match:strict (only an answer "
                                  "statement that is the reference alone: the hardest to game), judge:<model spec> "
                                  "or classifier:<path>, or several joined by + (match+classifier:<path>). None: "
                                  "`verifier`.")
    concurrency: int = Field(default=32, ge=1, description="Model requests in flight at once (hf: batch size).")


SplitSection = section_model(SplitConfig, "SplitSection")
DecontaminateSection = section_model(DecontaminateConfig, "DecontaminateSection")
_EvalSection = section_model(EvalConfig, "EvalSection", ("lang", "prompts", "progress", "seed"))


class ReportSection(Strict):
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="USD per 1M (prompt, completion) tokens per model spec, for the cost column."
    )


def build_recipe_model() -> type[BaseModel]:
    sft, ppo, grpo, trl = _training_sections()
    rl = Annotated[Union[ppo, grpo, trl], Field(discriminator="algo")]
    curate = section_model(CurateConfig, "CurateSection", ("only_split", "lang", "prompts"))
    search = section_model(SearchConfig, "SearchSection", ("seed", "lang", "prompts"))
    synthesize = section_model(SynthConfig, "SynthSection", ("seed", "lang", "prompts"))
    passrate = section_model(PassRateConfig, "PassRateSection", ("temperature", "max_new_tokens", "verifier", "seed"))
    verifier = section_model(
        VerifierTrainConfig, "VerifierSection", ("data", "out", "seed"),
        enabled=(bool, Field(default=False, description="Train a classifier verifier on the judge's verdicts of "
                                                        "search and synthesis; `rl` then uses it instead of the judge.")),
        labeled=(list[str], Field(default_factory=list, description="Files of human labels (response, reference, "
                                                                    "label) added to the verdicts; they win.")),
    )
    return create_model(
        "Recipe",
        __base__=Strict,
        name=(str, "run"),
        out=(str | None, None),
        seed=(int, 0),
        lang=(Literal["en", "zh"], "en"),
        prompts=(str | None, None),
        data=(DataSection, Field(default_factory=DataSection)),
        models=(ModelsSection, Field(default_factory=ModelsSection)),
        curate=(curate, Field(default_factory=curate)),
        split=(SplitSection, Field(default_factory=SplitSection)),
        decontaminate=(DecontaminateSection, Field(default_factory=DecontaminateSection)),
        search=(search, Field(default_factory=search)),
        synthesize=(synthesize, Field(default_factory=synthesize)),
        verifier=(verifier, Field(default_factory=verifier)),
        sft=(sft, Field(default_factory=sft)),
        passrate=(passrate, Field(default_factory=passrate)),
        rl=(rl, Field(default_factory=ppo)),
        eval=(_EvalSection, Field(default_factory=_EvalSection)),
        report=(ReportSection, Field(default_factory=ReportSection)),
    )


class Recipe:
    """A validated recipe: `.config` (the pydantic model), `.path`, `.base` (folder for relative paths)."""

    def __init__(self, config: BaseModel, path: Path | None, raw: dict[str, Any]):
        self.config, self.path, self.raw = config, path, raw
        self.base = path.parent if path else Path.cwd()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.config, name)

    def input_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base / path

    def model_spec(self, spec: str) -> str:
        """A model spec with a relative local path (`hf:./ckpt`, `gguf:m.gguf`) made absolute."""
        kind, sep, target = spec.partition(":")
        if sep and kind in ("hf", "gguf") and (kind == "gguf" or target.startswith((".", "~"))):
            return f"{kind}:{self.input_path(target)}"
        return spec

    def dump(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")


# ---------------------------------------------------------------- loading


def resolve_recipe_path(recipe: str | os.PathLike | None) -> Path:
    """A recipe file, or the name of a bundled one (`demo`, `paper-8b`); None is the demo."""
    if recipe is None:
        return BUNDLED_RECIPES / "demo.yaml"
    path = Path(recipe)
    if path.exists():
        return path
    bundled = BUNDLED_RECIPES / f"{recipe}.yaml"
    if bundled.exists() and path.suffix == "":
        return bundled
    names = ", ".join(sorted(p.stem for p in BUNDLED_RECIPES.glob("*.yaml")))
    raise Medo1Error(f"{recipe}: no such recipe file (bundled recipes: {names})")


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _find_line(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, bool]:
    """The 1-based line of the YAML node at `loc` (or of the deepest existing one), and whether it exists."""
    node, line = root, (root.start_mark.line + 1 if root is not None else 1)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                return line, False
            node = match[1]
            line = match[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line, False
    return line, True


def _node_line(root: yaml.Node | None, loc: tuple[Any, ...], quick: bool = False) -> int:
    """The line of `loc`; with --quick, the line of its override in the `quick:` section when it has one."""
    if quick:
        line, found = _find_line(root, ("quick",) + loc)
        if found:
            return line
    return _find_line(root, loc)[0]


def _loc_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(recipe)"


def _validation_error(path: Path, root: yaml.Node | None, err: ValidationError, quick: bool,
                      sets: tuple[str, ...] = ()) -> Medo1Error:
    first = err.errors()[0]
    # Tagged unions put the tag in the location (rl.PPOSection.lr); drop what is not a key.
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.endswith("Section")) and p not in RL_ALGOS)
    given = [item for item in sets if item.partition("=")[0].strip() == _loc_name(loc)]
    if given:  # the value came from the command line, not the file
        return Medo1Error(f"--set {given[-1]!r}: {first['msg']}")
    kind = first["type"]
    if kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "missing":
        problem = "missing"
    elif kind == "union_tag_invalid":
        problem = f"unknown algo; choose one of {', '.join(RL_ALGOS)}"
        loc = loc + ("algo",)
    else:
        problem = f"{first['msg']}, got {first.get('input')!r}"
    line = _node_line(root, loc, quick)
    where = f"{_loc_name(loc)}{' (with --quick)' if quick else ''}"
    return InputError(path, line, where, problem)


def load_recipe(recipe: str | os.PathLike | None = None, *, quick: bool = False, check_files: bool = True,
                sets: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read and validate a recipe. `quick=True` applies the recipe's `quick:` overrides first, then
    `sets` (`section.key=value`, as `medo1 run --set` gives them) are applied; `check_files=False`
    skips checking that the input files it names exist (e.g. for templates)."""
    path = resolve_recipe_path(recipe)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(path, 1, "(encoding)", f"not valid UTF-8 ({err.reason})") from None
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise InputError(path, line, "(yaml)", str(getattr(err, "problem", None) or err).strip()) from None
    if not isinstance(raw, dict):
        raise InputError(path, 1, "(recipe)", f"expected a mapping of sections, got {type(raw).__name__}")
    overrides = raw.pop("quick", None)
    if quick:
        if not isinstance(overrides, dict):
            raise Medo1Error(f"{path}: --quick needs a `quick:` section of overrides in the recipe")
        raw = _deep_merge(raw, overrides)
    schema = build_recipe_model()
    if sets:
        raw = apply_sets(raw, list(sets), schema)
    try:
        config = schema.model_validate(raw)
    except ValidationError as err:
        raise _validation_error(path, root, err, quick, tuple(sets)) from None
    result = Recipe(config, path, raw)
    if check_files:
        _check_files(result, root, quick)
    return result


def _check_files(recipe: Recipe, root: yaml.Node | None, quick: bool) -> None:
    """Input files named in the recipe must exist (before hours of work start)."""
    def missing(loc: tuple[Any, ...], value: str) -> InputError:
        return InputError(recipe.path, _node_line(root, loc, quick), _loc_name(loc), f"file not found: {value}")

    for i, value in enumerate(recipe.data.mcq):
        if value != SAMPLE and not recipe.input_path(value).is_file():
            raise missing(("data", "mcq", i), value)
    for i, value in enumerate(recipe.verifier.labeled):
        if not recipe.input_path(value).is_file():
            raise missing(("verifier", "labeled", i), value)
    if recipe.verifier.join:  # the stage scores it offline on every held-out row; a bad one would fail hours in
        from medo1.verify.combined import split_spec

        bad = next((part for part in split_spec(recipe.verifier.join) if part not in RULES), None)
        if bad is not None:
            raise InputError(recipe.path, _node_line(root, ("verifier", "join"), quick), "verifier.join",
                             f"{bad!r} is not a rule verifier ({', '.join(RULES)}, or several joined by '+')")
    for bench, value in recipe.eval.data.items():
        if not recipe.input_path(value).is_file():
            raise missing(("eval", "data", bench), value)
    if recipe.prompts and not recipe.input_path(recipe.prompts).is_dir():
        raise missing(("prompts",), recipe.prompts)
    for key in ("policy", "teacher"):
        spec = getattr(recipe.models, key)
        if spec.startswith(("hf:", "gguf:")):
            target = spec.split(":", 1)[1]
            looks_local = target.startswith((".", "/", "~")) or spec.startswith("gguf:")
            if looks_local and not recipe.input_path(target).exists():
                raise missing(("models", key), target)
