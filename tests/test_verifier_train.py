"""A verifier you can train and measure: the judge verdict log, `verifier-data`, `verifier-train`
(threshold for a target precision), the official medical_o1_verifier_3B layout, `verifier-eval --compare`
and the `verifier` recipe stage. Real tiny models, a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import shutil

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.data import VERIFIER_LABELS
from medo1.errors import Medo1Error
from medo1.verify import ClassifierVerifier, MatchVerifier, load_verifier
from medo1.verify.data import collect
from medo1.verify.evaluation import Agreement
from medo1.verify.verdicts import public_name
from medo1.verify.train import VerifierTrainConfig, choose_threshold, train_verifier
from tests.openai_server import last_user_message

LABELS = VERIFIER_LABELS


def judge_by_containment(body, headers):
    """A judge that says True when the response block holds the reference answer (case-insensitive)."""
    prompt = last_user_message(body)
    response = re.search(r"<response>\n(.*?)\n</response>", prompt, re.S).group(1)
    reference = re.search(r"<reference answer>\n(.*?)\n</reference answer>", prompt, re.S).group(1)
    return "True" if reference.lower() in response.lower() else "False"


# ---------------------------------------------------------------- the verdict log


async def test_judge_verdicts_are_logged_as_given_without_secrets(openai_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-key-123")
    openai_server.handler = judge_by_containment
    log = tmp_path / "run" / "verdicts.jsonl"
    judge = load_verifier(f"judge:openai:judge@{openai_server.url}", cache=False, verdict_log=log, source="search")
    assert await judge.verify("It is aspirin.", "Aspirin") is True
    assert log.read_text().count("\n") == 1  # flushed at once, not when the judge closes
    assert await judge.verify("Heparin", "Aspirin") is False
    await judge.model.aclose()
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["response"], r["reference"], r["verdict"], r["source"]) for r in rows] == [
        ("It is aspirin.", "Aspirin", True, "search"), ("Heparin", "Aspirin", False, "search")]
    text = log.read_text()
    assert "sk-secret-key-123" not in text
    assert rows[0]["verifier"] == f"judge:openai:judge@{openai_server.url}"
    assert public_name("judge:openai:m@https://user:hunter2@host/v1?api_key=abc&x=1") == \
        "judge:openai:m@https://host/v1?api_key=***&x=1"


def test_verifier_data_deduplicates_and_splits(tmp_path):
    log = tmp_path / "verdicts.jsonl"
    rows = [("A is aspirin", "aspirin", True), ("A is aspirin", "aspirin", True),  # duplicate
            ("heparin", "aspirin", False), ("heparin", "aspirin", True), ("heparin", "aspirin", False),  # majority False
            ("maybe insulin", "insulin", True), ("maybe insulin", "insulin", False),  # tie: dropped
            ("penicillin", "insulin", True)]  # overruled by a human label below
    rows += [(f"answer {i}", f"ref {i % 20}", i % 3 == 0) for i in range(60)]
    log.write_text("".join(json.dumps({"response": r, "reference": ref, "verdict": v, "source": "search",
                                       "verifier": "judge:openai:x"}) + "\n" for r, ref, v in rows))
    human = tmp_path / "human.jsonl"
    human.write_text(json.dumps({"response": "penicillin", "reference": "insulin", "label": "wrong", "kind": "x",
                                 "note": "kept"}) + "\n")
    examples, summary = collect([log], [human], heldout=0.25, seed=1)
    by_pair = {(e.response, e.reference): e for e in examples}
    assert len(examples) == 3 + 60 and ("maybe insulin", "insulin") not in by_pair
    assert by_pair[("heparin", "aspirin")].label is False
    assert by_pair[("penicillin", "insulin")].label is False and by_pair[("penicillin", "insulin")].source == "human"
    assert by_pair[("penicillin", "insulin")].meta["note"] == "kept"  # extra columns are kept
    assert (summary.duplicates, summary.conflicts, summary.overruled) == (1 + 2 + 1, 1, 1)
    held = [e for e in examples if e.split == "heldout"]
    assert 0.15 <= len(held) / len(examples) <= 0.35 and {e.label for e in held} == {True, False}
    # whole references on one side: no problem leaks between train and held-out
    assert not {e.reference for e in held} & {e.reference for e in examples if e.split == "train"}
    again, _ = collect([log], [human], heldout=0.25, seed=1)
    assert [e.split for e in again] == [e.split for e in examples]  # seeded
    other, _ = collect([log], [human], heldout=0.25, seed=2)
    assert [e.split for e in other] != [e.split for e in examples]
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(log, run / "verdicts.jsonl")
    out = tmp_path / "data.jsonl"
    result = CliRunner().invoke(app, ["verifier-data", str(run), "--labeled", str(human), "--out", str(out),
                                      "--heldout", "0.25", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["split"] for line in out.read_text().splitlines()] == [e.split for e in examples]
    assert "1 pairs dropped for tied judge verdicts" in result.output and "heldout" in result.output
    (tmp_path / "empty-run").mkdir()
    with pytest.raises(Medo1Error, match="no verdicts.jsonl"):
        collect([tmp_path / "empty-run"], [])


# ---------------------------------------------------------------- threshold and training


def test_choose_threshold_reaches_the_target_precision_with_the_most_recall():
    probs = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2]
    labels = [True, True, False, True, True, False, True, False]
    choice = choose_threshold(probs, labels, 0.75)  # accept the top 5: 4 of 5 correct (0.8), recall 4/5
    assert choice.met and choice.threshold == pytest.approx(0.55) and choice.precision == 0.8 and choice.recall == 0.8
    choice = choose_threshold(probs, labels, 0.95)  # only the top 2 are all correct
    assert choice.met and choice.threshold == pytest.approx(0.85) and choice.recall == 0.4
    choice = choose_threshold([0.9, 0.8], [False, True], 0.95)  # never reached: the most precise threshold
    assert not choice.met and choice.precision == 0.5 and choice.threshold < 0.8


def toy_rows(n: int, seed: int) -> list[dict]:
    """Separable: a correct response states the reference; a wrong one rejects it for another answer."""
    words = ["aspirin", "heparin", "insulin", "penicillin", "pneumonia", "diabetes", "myocardial infarction"]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        ref = rng.choice(words)
        other = rng.choice([w for w in words if w != ref])
        label = i % 2 == 0
        rows.append({"response": f"The answer is {ref}." if label else f"Not {ref}; the answer is {other}.",
                     "reference": ref, "label": label, "split": "heldout" if i % 8 in (3, 4) else "train"})
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("verifier")
    base = build_tiny_model(root / "base", layers=1, hidden=32, heads=2)
    data = root / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in toy_rows(64, 0)))
    summary = train_verifier(VerifierTrainConfig(data=str(data), out=str(root / "out"), model=str(base), lr=5e-3,
                                                 epochs=5, batch_size=8, patience=2, max_length=48))
    return root, summary


def test_training_learns_a_separable_toy_set(trained):
    root, summary = trained
    held = summary["heldout"]["at_threshold"]
    assert held["n"] == 16 and held["accuracy"] >= 0.9  # chance is 0.5: a margin of at least 0.4
    meta = json.loads((root / "out" / "medo1_verifier.json").read_text())
    assert meta["layout"] == "pair" and meta["threshold"] == summary["threshold"] and meta["target_precision"] == 0.95
    assert not (root / "out" / "checkpoints").exists()  # the best model is saved, its checkpoints removed
    verifier = load_verifier(f"classifier:{root / 'out'}")
    assert verifier.threshold == summary["threshold"]  # classifier:DIR uses the stored threshold
    fresh = toy_rows(40, seed=7)  # new pairs, never seen
    said = asyncio.run(_verify_all(verifier, [(r["response"], r["reference"]) for r in fresh]))
    assert sum(s == r["label"] for s, r in zip(said, fresh)) / len(fresh) >= 0.9


def test_training_stops_early_on_the_heldout_loss(trained):
    root, summary = trained
    evals = [m for m in map(json.loads, (root / "out" / "metrics.jsonl").read_text().splitlines()) if "eval_loss" in m]
    best = min(m["eval_loss"] for m in evals)
    assert summary["best_eval_loss"] == pytest.approx(best)
    if len(evals) < 5:  # stopped early: the last `patience` evaluations did not improve on the best
        assert all(m["eval_loss"] >= best for m in evals[-2:])


async def _verify_all(verifier, pairs):
    return await asyncio.gather(*(verifier.verify(r, ref) for r, ref in pairs))


def test_lora_training_saves_a_merged_classifier(tmp_path, tiny_model_dir):
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in toy_rows(24, 1)))
    result = CliRunner().invoke(app, ["verifier-train", "--data", str(data), "--model", f"hf:{tiny_model_dir}",
                                      "--out", str(tmp_path / "out"), "--lora", "--lr", "1e-3", "--epochs", "1",
                                      "--batch-size", "8", "--max-length", "64"])
    assert result.exit_code == 0, result.output
    assert f"-> classifier:{tmp_path / 'out'}" in result.output and "threshold" in result.output
    assert json.loads((tmp_path / "out" / "medo1_verifier.json").read_text())["settings"]["lora"] is True
    from safetensors import safe_open

    with safe_open(str(tmp_path / "out" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert not any("lora" in k for k in keys) and any(k.startswith("score") for k in keys)
    assert isinstance(load_verifier(f"classifier:{tmp_path / 'out'}"), ClassifierVerifier)


# ---------------------------------------------------------------- the official verifier


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory):
    """A tiny random Qwen2 sequence classifier with two labels: the shape of medical_o1_verifier_3B's config."""
    import torch
    from transformers import Qwen2Config, Qwen2ForSequenceClassification

    from tests.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=2,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = Qwen2ForSequenceClassification(config)
    path = tmp_path_factory.mktemp("official")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_official_layout_encodes_the_released_verifier_input(official_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    verifier = load_verifier(f"classifier:official:{official_dir}")
    assert verifier.layout == "official" and verifier.threshold == 0.4
    tokenizer = AutoTokenizer.from_pretrained(official_dir)
    model = AutoModelForSequenceClassification.from_pretrained(official_dir).eval()
    response, reference = "Vitamin B12 deficiency.", "Vitamin B12 deficiency"
    text = ("<Model Response>\nVitamin B12 deficiency.\n</Model Response>\n\n<Reference Answer>\nVitamin B12 "
            "deficiency\n</Reference Answer>\n\nYour task is to evaluate the model response by comparing it to the "
            "reference answer. If the model response is correct and aligns with the reference answer, output "
            "\"True\" . If it is incorrect or fails to select the correct option (if options are provided), output "
            "\"False\" . <|im_end|>")
    with torch.inference_mode():
        logits = model(**tokenizer(text, add_special_tokens=False, return_tensors="pt")).logits
    expected = torch.softmax(logits, -1)[0, 1].item()  # label 1 is "True"
    assert verifier.probabilities([(response, reference)])[0] == pytest.approx(expected, abs=1e-5)
    batched = verifier.probabilities([("x", "y"), (response, reference), ("a much longer response " * 5, "z")])
    assert batched[1] == pytest.approx(expected, abs=1e-4)
    pair = load_verifier(f"classifier:{official_dir}")  # the same weights in medo1's own layout
    assert pair.layout == "pair" and pair.probabilities([(response, reference)])[0] != pytest.approx(expected, abs=1e-6)


async def test_official_threshold_is_0_4(official_dir):
    import torch

    verifier = ClassifierVerifier(f"official:{official_dir}")
    with torch.no_grad():  # a head that cannot tell: equal logits, P(True) = 0.5 for every input
        verifier.model.score.weight.zero_()
    assert await verifier.probability("anything", "else") == pytest.approx(0.5)
    assert await verifier.verify("a", "b") is True  # 0.5 > 0.4, the official threshold
    assert ClassifierVerifier(official_dir).threshold == 0.5  # medo1's own layout defaults to 0.5 ...
    verifier.threshold = 0.5
    assert await verifier.verify("a", "b") is False  # ... under which the same score is not enough


def test_bad_classifier_specs_are_clear(tmp_path):
    for bad in ("classifier:official:", "classifier:"):
        with pytest.raises(Medo1Error, match="verifier spec"):
            load_verifier(bad)
    with pytest.raises(Medo1Error, match="not a checkpoint directory"):
        load_verifier(f"classifier:official:{tmp_path / 'missing'}")
    with pytest.raises(Medo1Error, match="cannot load no-such-org/no-such-verifier"):  # a hub id, offline here
        load_verifier("classifier:official:no-such-org/no-such-verifier")


# ---------------------------------------------------------------- batching


def test_classifier_batches_by_length_within_a_token_budget(official_dir):
    verifier = ClassifierVerifier(official_dir, batch_size=8, max_batch_tokens=400)
    pairs = [("short", "s"), ("a much longer response " * 20, "r"), ("mid length answer here", "m"), ("tiny", "t")]
    lengths = [len(verifier.tokenizer(ref, resp)["input_ids"]) for resp, ref in pairs]
    assert max(lengths) * 2 > 400 >= max(lengths)  # the long pair cannot share a batch of two
    alone = [verifier.probabilities([pair])[0] for pair in pairs]
    verifier.batches.clear()
    together = verifier.probabilities(pairs)
    assert together == pytest.approx(alone, abs=1e-4)  # each result back in its own place
    assert verifier.batches == [3, 1]  # the three short pairs together, the long one alone

    async def burst():
        return await asyncio.gather(*(verifier.probability(r, ref) for r, ref in pairs * 5))

    verifier.batches.clear()
    assert asyncio.run(burst()) == pytest.approx(alone * 5, abs=1e-4)
    assert max(verifier.batches) > 1 and sum(verifier.batches) == 20  # concurrent calls were gathered


# ---------------------------------------------------------------- measuring verifiers


def test_kappa():
    a = Agreement(tp=20, fp=5, fn=10, tn=15)  # accuracy 0.7, chance agreement 0.5
    assert a.kappa == pytest.approx(0.4)
    assert math.isnan(Agreement().kappa) and math.isnan(Agreement(tp=3).kappa)


def test_compare_table_on_the_labelled_set(openai_server, tmp_path, official_dir):
    openai_server.handler = judge_by_containment
    recipe = tmp_path / "prices.yaml"
    judge = f"openai:judge@{openai_server.url}"
    recipe.write_text(f"report:\n  prices:\n    \"{judge}\": [2.5, 10.0]\n")
    out = tmp_path / "compare.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(LABELS), "--compare",
                                      f"match,judge:{judge},classifier:official:{official_dir}",
                                      "--recipe", str(recipe), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    lines = result.output[result.output.index("verifier "):].splitlines()  # (after any model-loading noise)
    assert lines[0].split() == ["verifier", "n", "accuracy", "precision", "recall", "f1", "kappa", "errors",
                                "verdicts/s", "$/1k"]
    reports = json.loads(out.read_text())
    assert [r["verifier"] for r in reports] == ["match", f"judge:{judge}", f"classifier:official:{official_dir}"]
    match = asyncio.run(_match_report())
    assert reports[0]["accuracy"] == pytest.approx(match.accuracy) and reports[0]["kappa"] == pytest.approx(match.kappa)
    assert all(r["n"] == match.n and r["verdicts_per_second"] > 0 for r in reports)
    assert reports[0]["cost_per_1k"] is None and reports[2]["cost_per_1k"] is None
    # the judge: the server's usage is word counts; each verdict is one call
    usage = [(len(" ".join(m["content"] for m in r.json["messages"]).split()), 1) for r in openai_server.requests]
    expected = 1000 * sum(p * 2.5 + c * 10.0 for p, c in usage) / 1e6 / len(usage)
    assert reports[1]["cost_per_1k"] == pytest.approx(expected, rel=1e-6)
    row = next(line for line in lines if line.startswith("match "))
    assert row.split()[1:4] == [str(match.n), f"{match.accuracy:.3f}", f"{match.precision:.3f}"]


async def _match_report():
    from medo1.jsonl import read_jsonl
    from medo1.verify import LabeledVerdict, evaluate_verifier

    return await evaluate_verifier(MatchVerifier(), read_jsonl(LABELS, LabeledVerdict))


# ---------------------------------------------------------------- the recipe stage


def test_a_run_logs_judge_verdicts_and_its_verifier_stage_trains_the_rl_reward(tmp_path, openai_server,
                                                                                  tiny_model_dir):
    from medo1.pipeline import run_recipe
    from tests.test_pipeline import Teacher, cot, recipe_text  # the scripted teacher of the pipeline tests

    class WrongFirst(Teacher):
        """The first search reply misses; the refinement finds the answer. The judge checks containment."""

        def __call__(self, body, headers):
            tag = headers.get("x-medo1-tag", "")
            if tag == "search.init":
                return cot("Some other disease entirely")
            if tag.startswith("search."):  # a refinement: reject the previous conclusion, reach the answer
                right = json.loads(super().__call__(body, headers).text)["CoT"]
                return json.dumps({"CoT": [{"action": "Verification", "title": "Check", "content": "That was wrong."},
                                           *right]})
            if tag == "verify":
                return judge_by_containment(body, headers)
            return super().__call__(body, headers)

    openai_server.handler = WrongFirst()
    path = tmp_path / "recipe.yaml"
    path.write_text(recipe_text(
        openai_server.url, tiny_model_dir, models=f"  teacher: openai:teacher@{openai_server.url}\n"
        f"  difficulty: [openai:small@{openai_server.url}]\n  policy: hf:{tiny_model_dir}\n"
        f"  verifier: judge:openai:judge@{openai_server.url}\n  concurrency: 4\n",
        verifier=f"  enabled: true\n  model: hf:{tiny_model_dir}\n  epochs: 1\n  batch_size: 4\n  max_length: 128\n"
                 "  heldout: 0.25\n  lr: 1.0e-4\n"))
    run = run_recipe(path, tmp_path / "run", only=["curate", "split", "decontaminate", "search", "synthesize",
                                                      "verifier"], report=False)
    rows = [json.loads(line) for line in (run / "verdicts.jsonl").read_text().splitlines()]
    assert {r["source"] for r in rows} == {"search", "synthesize"}
    search_rows = [r for r in rows if r["source"] == "search"]
    assert sorted(r["verdict"] for r in search_rows) == [False] * 4 + [True] * 4  # a miss, then the answer
    assert len(rows) == sum(1 for r in openai_server.requests if r.tag == "verify")  # every verdict, once
    state = json.loads((run / "run.json").read_text())["stages"]["verifier"]["summary"]
    assert state["enabled"] and sum(state["data"]["heldout"].values()) > 0
    assert json.loads((run / "ckpt" / "verifier" / "medo1_verifier.json").read_text())["layout"] == "pair"
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe
    from medo1.stages import rl_verifier
    from medo1.verify import reward

    spec = rl_verifier(Run(load_recipe(path), run, concurrency=None, cache=False))
    assert spec == f"classifier:{run / 'ckpt' / 'verifier'}"  # rl is handed the trained verifier, not the judge
    verifier = load_verifier(spec)
    assert verifier.threshold == json.loads((run / "ckpt" / "verifier" / "medo1_verifier.json").read_text())["threshold"]
    openai_server.reset()
    assert await_(reward("## Thinking\n\nHmm.\n\n## Final Response\n\nAspirin.", "Aspirin", verifier)) in (1.0, 0.1)
    assert openai_server.count == 0  # rewards without a judge call


def await_(coroutine):
    return asyncio.run(coroutine)


def test_rl_depends_on_the_verifier_section_only_when_that_stage_is_on(tmp_path, tiny_model_dir):
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe
    from tests.test_pipeline import recipe_text

    def prints(verifier: str) -> dict[str, str]:
        path = tmp_path / "recipe.yaml"
        path.write_text(recipe_text("http://127.0.0.1:9/v1", tiny_model_dir, verifier=verifier))
        run = Run(load_recipe(path), tmp_path / "run", concurrency=None, cache=False)
        return {stage: run.fingerprint(stage) for stage in ("verifier", "rl")}

    off, off_other = prints("  enabled: false\n"), prints("  enabled: false\n  lr: 1.0e-3\n")
    on, on_other = prints("  enabled: true\n"), prints("  enabled: true\n  lr: 1.0e-3\n")
    assert off["rl"] == off_other["rl"]  # a stage that is off changes nothing downstream (old runs resume)
    assert on["rl"] != off["rl"] and on_other["rl"] != on["rl"]  # rl rewards with what that stage trains
    assert len({off["verifier"], off_other["verifier"], on["verifier"], on_other["verifier"]}) == 4
