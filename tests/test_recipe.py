"""Recipe files: the bundled recipes validate, and every bad input is one line naming file, line and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medo1.errors import InputError, Medo1Error
from medo1.recipe import BUNDLED_RECIPES, load_recipe, resolve_recipe_path

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_recipes_validate():
    demo = load_recipe(None)
    assert demo.name == "demo" and demo.models.teacher == "embedded" and demo.models.verifier == "match"
    quick = load_recipe("demo", quick=True)
    assert quick.eval.limit == 6 and quick.sft.batch_size == 1 and quick.search.max_attempts == 1  # merged
    assert demo.data.limit is None

    with pytest.raises(InputError, match=r"paper-8b.yaml:\d+: data.mcq\[0\]: file not found"):
        load_recipe("paper-8b")  # a template: its data paths are the user's to fill in
    paper = load_recipe("paper-8b", check_files=False)
    assert paper.models.policy == "hf:meta-llama/Llama-3.1-8B-Instruct"
    assert (paper.sft.epochs, paper.sft.learning_rate, paper.sft.batch_size) == (3, 5e-6, 128)
    assert (paper.rl.algo, paper.rl.learning_rate, paper.rl.batch_size, paper.rl.kl_coef) == ("ppo", 5e-7, 128, 0.03)
    assert (paper.search.max_depth, paper.search.max_attempts) == (3, 3)
    # the copy users find in the repository is the bundled one
    assert (REPO / "configs" / "paper-8b.yaml").read_text() == (BUNDLED_RECIPES / "paper-8b.yaml").read_text()


def test_defaults_fill_every_stage(tmp_path):
    recipe = load_recipe(write(tmp_path, "name: tiny\n"))
    assert recipe.rl.algo == "ppo" and recipe.sft.learning_rate == 5e-6 and recipe.search.max_depth == 3
    assert recipe.eval.benches  # the stage's own defaults, not a second copy


@pytest.mark.parametrize(
    "text, line, key, problem",
    [
        ("name: x\nsft:\n  epochs: 2\n  learning_rat: 1e-5\n", 4, "sft.learning_rat", "unknown key"),
        ("name: x\nsearch:\n  max_depth: three\n", 3, "search.max_depth", "valid integer"),
        ("name: x\nmodels:\n  concurrency: 0\n", 3, "models.concurrency", "greater than or equal to 1"),
        ("name: x\nrl:\n  algo: a2c\n", 3, "rl.algo", "unknown algo"),
        ("name: x\nrl:\n  algo: grpo\n  vf_coef: 1.0\n", 4, "rl.vf_coef", "unknown key"),  # a PPO-only key
        ("name: x\ncurate: [1, 2]\n", 2, "curate", "valid dictionary"),
        ("name: x\nbogus: 1\n", 2, "bogus", "unknown key"),
        # numeric settings out of range stop at once, not after the stages before the one that reads them
        ("name: x\nsft:\n  epochs: 2\n  lr: -1e-5\n", 4, "sft.lr", "greater than or equal to 0"),  # the alias
        ("name: x\nsft:\n  batch_size: 0\n", 3, "sft.batch_size", "greater than or equal to 1"),
        ("name: x\nsft:\n  warmup_ratio: 1.5\n", 3, "sft.warmup_ratio", "less than 1"),
        ("name: x\nrl:\n  algo: ppo\n  learning_rate: -1\n", 4, "rl.learning_rate", "greater than or equal to 0"),
        ("name: x\nsearch:\n  max_tokens: 0\n", 3, "search.max_tokens", "greater than or equal to 1"),
        ("name: x\nsynthesize:\n  max_repeated: 0\n", 3, "synthesize.max_repeated", "greater than 0"),
    ],
)
def test_bad_values_name_file_line_and_key(tmp_path, text, line, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_recipe(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: {key}: ") and problem in message
    assert "\n" not in message


def test_missing_files_are_named_before_any_work(tmp_path):
    path = write(tmp_path, "name: x\ndata:\n  mcq:\n    - sample\n    - questions.jsonl\n")
    with pytest.raises(InputError, match=rf"^{path}:5: data.mcq\[1\]: file not found: questions.jsonl$"):
        load_recipe(path)
    (tmp_path / "questions.jsonl").write_text("{}\n")
    assert load_recipe(path).data.mcq == ["sample", "questions.jsonl"]  # relative to the recipe file

    path = write(tmp_path, "name: x\nmodels:\n  policy: hf:./ckpt/base\n")
    with pytest.raises(InputError, match=r":3: models.policy: file not found: ./ckpt/base"):
        load_recipe(path)
    path = write(tmp_path, "name: x\neval:\n  data:\n    medqa: medqa_test.jsonl\n")
    with pytest.raises(InputError, match=r":4: eval.data.medqa: file not found"):
        load_recipe(path)


def test_syntax_errors_and_quick_overrides(tmp_path):
    path = write(tmp_path, "name: x\nsft:\n  epochs: [1\n")
    with pytest.raises(InputError, match=rf"^{path}:\d+: \(yaml\): "):
        load_recipe(path)
    path = write(tmp_path, "name: x\nquick:\n  sft:\n    epoch: 1\n")
    assert load_recipe(path).name == "x"  # quick overrides only count with --quick
    with pytest.raises(InputError, match=r":4: sft.epoch \(with --quick\): unknown key"):
        load_recipe(path, quick=True)
    with pytest.raises(Medo1Error, match="needs a `quick:` section"):
        load_recipe(write(tmp_path, "name: x\n"), quick=True)
    path.write_bytes(b"name: \xff\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_recipe(path)


def test_unknown_recipe_name_lists_the_bundled_ones():
    with pytest.raises(Medo1Error, match="bundled recipes: demo, paper-8b"):
        resolve_recipe_path("no-such-recipe")


def test_cli_reports_a_bad_recipe_in_one_line(tmp_path):
    path = write(tmp_path, "name: x\nsft:\n  epochs: many\n")
    result = subprocess.run([sys.executable, "-m", "medo1", "run", str(path), "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"{path}:3: sft.epochs: " in result.stderr
    assert not (tmp_path / "run").exists()  # nothing started
