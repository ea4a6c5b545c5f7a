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
from medo1.verify.classifier import encode_pairs
from medo1.verify.data import collect, pair_id
from medo1.verify.evaluation import Agreement
from medo1.verify.verdicts import public_name
from medo1.train.verifier import VerifierTrainConfig, choose_threshold, load_parts, train_verifier
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
    parts = {part: [e for e in examples if e.split == part] for part in ("train", "calibration", "test")}
    assert sum(map(len, parts.values())) == len(examples)
    for part in ("calibration", "test"):  # about 0.25 / 2 of the rows each, both labels in each
        assert 0.06 <= len(parts[part]) / len(examples) <= 0.2 and {e.label for e in parts[part]} == {True, False}
    # whole references in one part: no problem leaks between train, calibration and test
    refs = {part: {e.reference for e in rows} for part, rows in parts.items()}
    assert not refs["train"] & refs["calibration"] and not refs["train"] & refs["test"]
    assert not refs["calibration"] & refs["test"]
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
    assert "1 pairs dropped for tied judge verdicts" in result.output
    assert all(part in result.output for part in ("train", "calibration", "test"))
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


def test_a_joined_threshold_counts_the_rules_rejections():
    """Beside a rule, the classifier need not be strict about what the rule rejects: the lowest threshold at which
    the join reaches the target is lower, and a correct row the rule rejects stays a miss."""
    probs = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2]
    labels = [True, True, False, True, True, False, True, False]
    rule = [True, True, False, True, True, False, False, True]  # rejects both high-scoring wrong rows, and one right
    alone = choose_threshold(probs, labels, 0.95)
    joined = choose_threshold(probs, labels, 0.95, gate=rule)
    assert alone.threshold == pytest.approx(0.85) and alone.recall == 0.4
    assert joined.met and joined.threshold == pytest.approx(0.4) and joined.precision == 1.0
    assert joined.recall == 0.8  # 4 of 5: the right row the rule rejected is not recalled at any threshold
    never = choose_threshold(probs, labels, 0.95, gate=[False] * len(probs))
    assert not never.met and never.threshold == 1.0


def toy_rows(n: int, seed: int) -> list[dict]:
    """Separable: a correct response states the reference; a wrong one rejects it for another answer."""
    words = ["aspirin", "heparin", "insulin", "penicillin", "pneumonia", "diabetes", "myocardial infarction"]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        ref = rng.choice(words)
        other = rng.choice([w for w in words if w != ref])
        label = i % 2 == 0
        part = {2: "calibration", 3: "calibration", 4: "test", 5: "test"}.get(i % 16, "train")
        case = f"Patient {seed}-{i}: "  # every row its own pair
        rows.append({"response": case + (f"the answer is {ref}." if label else f"not {ref}; the answer is {other}."),
                     "reference": ref, "label": label, "split": part})
    return rows


def test_a_held_out_row_that_repeats_a_seen_pair_is_left_out(tmp_path):
    rows = toy_rows(32, 0)
    train_row = next(r for r in rows if r["split"] == "train")
    rows += [{**train_row, "split": "test"}, {**train_row, "split": "calibration"}]
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parts = load_parts(VerifierTrainConfig(data=str(data), out=str(tmp_path / "out")))
    assert [len(parts[p]) for p in ("train", "calibration", "test")] == [24, 4, 4]  # the repeats are not held out
    unsplit = tmp_path / "unsplit.jsonl"
    unsplit.write_text("".join(json.dumps({k: r[k] for k in ("response", "reference", "label")}) + "\n"
                               for r in toy_rows(64, 3)))
    parts = load_parts(VerifierTrainConfig(data=str(unsplit), out=str(tmp_path / "out"), heldout=0.5))
    refs = {p: {r.reference for r in rows} for p, rows in parts.items()}  # split here, by reference
    assert all(parts.values()) and not refs["train"] & (refs["calibration"] | refs["test"])
    assert not refs["calibration"] & refs["test"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("verifier")
    base = build_tiny_model(root / "base", layers=1, hidden=32, heads=2)
    data = root / "toy.jsonl"
    rows = toy_rows(64, 0)
    # test rows the joined rule rejects (it reads a hedge) and the classifier has no reason to: they tell the
    # join's figures from the classifier's own
    rows += [{"response": f"Patient h{i}: the answer is probably {ref}.", "reference": ref, "label": True,
              "split": "test"} for i, ref in enumerate(("aspirin", "heparin", "insulin", "diabetes"))]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = train_verifier(VerifierTrainConfig(data=str(data), out=str(root / "out"), model=str(base), learning_rate=5e-3,
                                                 epochs=5, batch_size=8, patience=2, max_length=48, join="match"))
    return root, summary


def test_the_loss_does_not_grow_with_the_micro_batches(tmp_path, tiny_model_dir):
    """One optimizer step's loss is the mean over its rows, however many micro-batches they came in."""
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in toy_rows(64, 0)))
    logged = {}
    for micro in (16, 4):
        out = tmp_path / f"micro{micro}"
        train_verifier(VerifierTrainConfig(data=str(data), out=str(out), model=str(tiny_model_dir), learning_rate=0.0,
                                           max_steps=2, batch_size=16, micro_batch_size=micro, max_length=32))
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        logged[micro] = next(r["train_loss"] for r in rows if "train_loss" in r)  # the same rows, an unchanged model
    assert 0.3 < logged[16] < 1.5 and logged[4] == pytest.approx(logged[16], rel=1e-3)


def test_training_learns_a_separable_toy_set(trained):
    root, summary = trained
    test = summary["heldout"]["test"]["at_threshold"]
    assert test["n"] == 12 and test["accuracy"] >= 0.9  # chance is 0.5: a margin of at least 0.4
    assert summary["heldout"]["calibration"]["at_threshold"]["n"] == 8 and summary["rows"]["train"] == 48
    meta = json.loads((root / "out" / "medo1_verifier.json").read_text())
    assert meta["layout"] == "pair" and meta["threshold"] == summary["threshold"] and meta["target_precision"] == 0.95
    assert not (root / "out" / "checkpoints").exists()  # the best model is saved, its checkpoints removed
    verifier = load_verifier(f"classifier:{root / 'out'}")
    assert verifier.threshold == summary["threshold"]  # classifier:DIR uses the stored threshold
    fresh = toy_rows(40, seed=7)  # new pairs, never seen
    said = asyncio.run(_verify_all(verifier, [(r["response"], r["reference"]) for r in fresh]))
    assert sum(s == r["label"] for s, r in zip(said, fresh)) / len(fresh) >= 0.9


def test_the_join_is_measured_on_test_as_verifier_eval_measures_it(trained, tmp_path):
    root, summary = trained
    meta = json.loads((root / "out" / "medo1_verifier.json").read_text())
    assert meta["join"]["verifier"] == "match" and meta["join"] == summary["join"]
    rows = [json.loads(line) for line in (root / "toy.jsonl").read_text().splitlines()]
    labeled = tmp_path / "test-rows.jsonl"
    labeled.write_text("".join(json.dumps({k: r[k] for k in ("response", "reference", "label")}) + "\n"
                               for r in rows if r["split"] == "test"))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--verifier",
                                      f"match+classifier:{root / 'out'}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report, stored = json.loads(out.read_text()), meta["join"]["heldout"]["test"]["at_threshold"]
    assert report["n"] == stored["n"] == 12
    assert (report["tp"], report["fp"], report["fn"], report["tn"]) == (stored["tp"], stored["fp"], stored["fn"],
                                                                        stored["tn"])
    alone = meta["heldout"]["test"]["at_threshold"]
    assert stored["fn"] >= 4 and alone["recall"] > stored["recall"]  # the rule's misses are the join's misses


def test_a_classifier_takes_the_threshold_chosen_for_what_it_is_joined_to(trained, tmp_path):
    root, _ = trained
    out = tmp_path / "out"
    shutil.copytree(root / "out", out)
    meta = json.loads((out / "medo1_verifier.json").read_text())
    meta["threshold"], meta["join"]["threshold"] = 0.3, 0.7  # apart, so each use shows which one it took
    (out / "medo1_verifier.json").write_text(json.dumps(meta))
    assert load_verifier(f"classifier:{out}").threshold == 0.3  # alone: its own
    for spec in (f"match+classifier:{out}", f"classifier:{out} + match"):  # joined to that rule, either order
        assert next(p for p in load_verifier(spec).parts if isinstance(p, ClassifierVerifier)).threshold == 0.7
    assert load_verifier(f"match:strict+classifier:{out}").parts[1].threshold == 0.3  # another rule: its own
    assert load_verifier(f"match+classifier:{out}", threshold=0.9).parts[1].threshold == 0.9  # an explicit one wins
    labeled = tmp_path / "labels.jsonl"
    labeled.write_text("".join(json.dumps({k: r[k] for k in ("response", "reference", "label")}) + "\n"
                               for r in toy_rows(6, seed=11)))
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--compare",
                                      f"classifier:{out},match+classifier:{out}", "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output  # verifier-eval says which threshold each used
    assert f"classifier:{out} 0.3000; match+classifier:{out} 0.7000)" in result.output
    assert [r["threshold"] for r in json.loads((tmp_path / "r.json").read_text())] == [0.3, 0.7]


def test_training_stops_early_on_the_heldout_loss(trained):
    root, summary = trained
    evals = [m for m in map(json.loads, (root / "out" / "metrics.jsonl").read_text().splitlines()) if "eval_loss" in m]
    best = min(m["eval_loss"] for m in evals)
    assert summary["best_eval_loss"] == pytest.approx(best)
    if len(evals) < 5:  # stopped early: the last `patience` evaluations did not improve on the best
        assert all(m["eval_loss"] >= best for m in evals[-2:])


async def _verify_all(verifier, pairs):
    return await asyncio.gather(*(verifier.verify(r, ref) for r, ref in pairs))


def test_the_classifier_keeps_what_it_saw_and_verifier_eval_leaves_it_out(trained, tmp_path):
    root, _ = trained
    rows = [json.loads(line) for line in (root / "toy.jsonl").read_text().splitlines()]
    seen = json.loads((root / "out" / "medo1_verifier_pairs.json").read_text())
    for part in ("train", "calibration"):
        assert set(seen[part]) == {pair_id(r["response"], r["reference"]) for r in rows if r["split"] == part}
    test_ids = {pair_id(r["response"], r["reference"]) for r in rows if r["split"] == "test"}
    assert not test_ids & set(seen["train"] + seen["calibration"])  # the test rows stay unseen
    # a labelled file that overlaps: 10 rows it was trained on, 2 it was calibrated on, 6 it never saw
    train = [r for r in rows if r["split"] == "train"][:10]
    calibration = [r for r in rows if r["split"] == "calibration"][:2]
    fresh = toy_rows(6, seed=11)
    assert not {pair_id(r["response"], r["reference"]) for r in fresh} & set(seen["train"] + seen["calibration"])
    labeled = tmp_path / "labels.jsonl"
    labeled.write_text("".join(json.dumps({k: r[k] for k in ("response", "reference", "label")}) + "\n"
                               for r in train + calibration + fresh))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--verifier",
                                      f"classifier:{root / 'out'}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "12 of 18 labelled rows were used to train or calibrate the classifier" in result.output
    report = json.loads(out.read_text())
    assert report["n"] == 6 and report["left_out_seen"] == 12
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--compare",
                                      f"match,classifier:{root / 'out'}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["n"] for r in json.loads(out.read_text())] == [6, 6]  # every verifier on the same unseen rows
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--verifier", "match"])
    assert result.exit_code == 0 and "were used to train" not in result.output  # no classifier: nothing left out
    labeled.write_text("".join(json.dumps({k: r[k] for k in ("response", "reference", "label")}) + "\n"
                               for r in train))
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--verifier",
                                      f"classifier:{root / 'out'}"])
    assert result.exit_code != 0 and "never saw" in str(result.exception)


@pytest.fixture(scope="module")
def official_trained(tmp_path_factory):
    """A classifier in the official layout whose test rows are labelled against the task (every label flipped):
    the calibration rows say its threshold is precise; only the test rows can tell it is not."""
    from tests.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("official-trained")
    base = build_tiny_model(root / "base", layers=1, hidden=32, heads=2)
    rows = toy_rows(64, 0)
    for r in rows:
        if r["split"] == "test":
            r["label"] = not r["label"]
    data = root / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = train_verifier(VerifierTrainConfig(data=str(data), out=str(root / "out"), model=str(base), learning_rate=5e-3,
                                                 epochs=5, batch_size=8, patience=2, layout="official",
                                                 target_precision=0.9))
    return root, summary


def test_target_met_is_judged_on_the_test_rows(official_trained):
    _, summary = official_trained
    calibration, test = (summary["heldout"][part]["at_threshold"] for part in ("calibration", "test"))
    assert summary["calibration_target_met"] and calibration["precision"] >= 0.9  # by construction
    assert test["precision"] < 0.5 and not summary["target_met"]  # what the threshold is worth on new rows
    meta = json.loads((official_trained[0] / "out" / "medo1_verifier.json").read_text())
    assert meta["target_met"] is False and meta["heldout"]["test"]["at_threshold"]["n"] == 8


def test_official_layout_trains_and_scores_at_the_official_4000_tokens(official_trained):
    root, summary = official_trained
    assert summary["max_length"] == 4000
    verifier = load_verifier(f"classifier:{root / 'out'}")
    assert verifier.layout == "official" and verifier.max_length == 4000
    long_response = "The patient has chest pain radiating to the left arm. " * 60 + "The answer is aspirin."
    (ids,) = encode_pairs(verifier.tokenizer, [(long_response, "aspirin")], "official",
                          verifier.max_length)["input_ids"]
    assert len(ids) > 512 and ids[-1] == verifier.tokenizer.eos_token_id  # the instruction and EOS are not cut off


def test_lora_training_saves_a_merged_classifier(tmp_path, tiny_model_dir):
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in toy_rows(24, 1)))
    args = ["verifier-train", "--data", str(data), "--model", f"hf:{tiny_model_dir}", "--out", str(tmp_path / "out"),
            "--lora", "--lr", "1e-3", "--epochs", "1", "--batch-size", "8", "--max-length", "64"]
    result = CliRunner().invoke(app, [*args, "--join", "judge:openai:gpt-4o"])
    assert result.exit_code != 0 and "'judge:openai:gpt-4o' is not a rule verifier" in str(result.exception)
    assert not (tmp_path / "out").exists()  # refused before any training
    result = CliRunner().invoke(app, [*args, "--join", "match:strict"])
    assert result.exit_code == 0, result.output
    assert f"-> classifier:{tmp_path / 'out'} (or match:strict+classifier:{tmp_path / 'out'})" in result.output
    assert f"match:strict+classifier:{tmp_path / 'out'}: threshold" in result.output
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


def _official_checkpoint(path, *, id2label=None, tokenizer_pad="<|endoftext|>", config_pad=None):
    import torch
    from transformers import Qwen2Config, Qwen2ForSequenceClassification

    from tests.tiny import build_tokenizer

    tokenizer = build_tokenizer(pad_token=tokenizer_pad)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=2, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=config_pad if config_pad is not None else tokenizer.pad_token_id,
                         **({"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}} if id2label else {}))
    torch.manual_seed(1)
    Qwen2ForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _official_p_true(path, response, reference):
    """P(True) as the official reward computes it: the checkpoint as saved, column 1 of the softmax."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from medo1.verify.classifier import OFFICIAL_TEMPLATE

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    text = OFFICIAL_TEMPLATE.format(response=response, reference=reference, eos=tokenizer.eos_token)
    with torch.inference_mode():
        logits = model(**tokenizer(text, add_special_tokens=False, return_tensors="pt")).logits
    return torch.softmax(logits, -1)[0, 1].item()


def test_official_reads_p_true_from_column_1_whatever_the_labels_are_called(tmp_path):
    path = _official_checkpoint(tmp_path / "v", id2label={0: "True", 1: "False"})  # names that mislead
    verifier = load_verifier(f"classifier:official:{path}")
    expected = _official_p_true(path, "Aspirin.", "aspirin")
    assert verifier.probabilities([("Aspirin.", "aspirin")])[0] == pytest.approx(expected, abs=1e-5)


def test_official_keeps_the_checkpoint_pad_token(tmp_path):
    """The checkpoint pads with <|endoftext|>; its tokenizer has no pad token. Its head reads the last token that is
    not the pad: the EOS that ends the official input. Taking the tokenizer's EOS as the pad would move it."""
    from transformers import AutoTokenizer

    path = tmp_path / "v"
    _official_checkpoint(path, tokenizer_pad=None, config_pad=AutoTokenizer.from_pretrained(
        _official_checkpoint(tmp_path / "ids")).convert_tokens_to_ids("<|endoftext|>"))
    assert AutoTokenizer.from_pretrained(path).pad_token is None
    verifier = load_verifier(f"classifier:official:{path}")
    pairs = [("Aspirin.", "aspirin"), ("A much longer response about heparin and aspirin.", "heparin")]
    expected = [_official_p_true(path, r, ref) for r, ref in pairs]
    assert verifier.probabilities(pairs[:1]) == pytest.approx(expected[:1], abs=1e-5)
    assert verifier.probabilities(pairs) == pytest.approx(expected, abs=1e-5)  # padded in a batch, the same
    assert verifier.model.config.pad_token_id == verifier.tokenizer.pad_token_id != verifier.tokenizer.eos_token_id


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
    labeled = tmp_path / "labels.jsonl"  # every 20th bundled row, held-out ones among them
    labeled.write_text("".join(LABELS.read_text(encoding="utf-8").splitlines(keepends=True)[::20]), encoding="utf-8")
    result = CliRunner().invoke(app, ["verifier-eval", "--labeled", str(labeled), "--compare",
                                      f"match,judge:{judge},classifier:official:{official_dir}",
                                      "--recipe", str(recipe), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    lines = result.output[result.output.index("verifier "):].splitlines()  # (after any model-loading noise)
    assert lines[0].split() == ["verifier", "n", "accuracy", "precision", "recall", "f1", "kappa", "errors",
                                "verdicts/s", "$/1k"]
    reports = json.loads(out.read_text())
    assert [r["verifier"] for r in reports] == ["match", f"judge:{judge}", f"classifier:official:{official_dir}"]
    match = asyncio.run(_match_report(labeled))
    assert reports[0]["accuracy"] == pytest.approx(match.accuracy) and reports[0]["kappa"] == pytest.approx(match.kappa)
    assert all(r["n"] == match.n and r["verdicts_per_second"] > 0 for r in reports)
    assert reports[0]["cost_per_1k"] is None and reports[2]["cost_per_1k"] is None
    # the judge: the server's usage is word counts; each verdict is one call
    usage = [(len(" ".join(m["content"] for m in r.json["messages"]).split()), 1) for r in openai_server.requests]
    expected = 1000 * sum(p * 2.5 + c * 10.0 for p, c in usage) / 1e6 / len(usage)
    assert reports[1]["cost_per_1k"] == pytest.approx(expected, rel=1e-6)
    row = next(line for line in lines if line.startswith("match "))
    assert row.split()[1:4] == [str(match.n), f"{match.accuracy:.3f}", f"{match.precision:.3f}"]


async def _match_report(labeled):
    from medo1.jsonl import read_jsonl
    from medo1.verify import LabeledVerdict, evaluate_verifier

    return await evaluate_verifier(MatchVerifier(), read_jsonl(labeled, LabeledVerdict))


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
                 "  heldout: 0.25\n  lr: 1.0e-4\n  join: match\n"))
    run = run_recipe(path, tmp_path / "run", only=["curate", "split", "decontaminate", "search", "synthesize",
                                                      "verifier"], report=False)
    rows = [json.loads(line) for line in (run / "verdicts.jsonl").read_text().splitlines()]
    assert {r["source"] for r in rows} == {"search", "synthesize"}
    search_rows = [r for r in rows if r["source"] == "search"]
    assert sorted(r["verdict"] for r in search_rows) == [False] * 4 + [True] * 4  # a miss, then the answer
    assert len(rows) == sum(1 for r in openai_server.requests if r.tag == "verify")  # every verdict, once
    state = json.loads((run / "run.json").read_text())["stages"]["verifier"]["summary"]
    assert state["enabled"] and sum(state["data"]["test"].values()) > 0 and "test" in state["heldout"]
    meta = json.loads((run / "ckpt" / "verifier" / "medo1_verifier.json").read_text())
    assert meta["layout"] == "pair" and meta["join"]["verifier"] == "match"  # the section's join reached training
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe
    from medo1.stages import rl_verifier
    from medo1.verify import reward

    spec = rl_verifier(Run(load_recipe(path), run, concurrency=None, cache=False))
    assert spec == f"match+classifier:{run / 'ckpt' / 'verifier'}"  # rl is handed the trained verifier, joined
    assert load_verifier(spec).parts[1].threshold == meta["join"]["threshold"]
    path.write_text(path.read_text().replace("  join: match\n", ""))
    spec = rl_verifier(Run(load_recipe(path), run, concurrency=None, cache=False))
    assert spec == f"classifier:{run / 'ckpt' / 'verifier'}"  # without a join: the classifier alone, not the judge
    verifier = load_verifier(spec)
    assert verifier.threshold == meta["threshold"]
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


def test_a_recipes_verifier_join_rewards_rl_with_the_join_and_a_bad_one_fails_at_load(tmp_path, tiny_model_dir):
    from medo1.errors import InputError
    from medo1.pipeline import Run
    from medo1.recipe import load_recipe
    from medo1.stages import rl_verifier
    from tests.test_pipeline import recipe_text

    path = tmp_path / "recipe.yaml"
    url = "http://127.0.0.1:9/v1"
    path.write_text(recipe_text(url, tiny_model_dir, verifier="  enabled: true\n  join: match:strict\n"))
    run = Run(load_recipe(path), tmp_path / "run", concurrency=None, cache=False)
    assert rl_verifier(run) == f"match:strict+classifier:{run.paths.verifier_model}"
    text = recipe_text(url, tiny_model_dir, verifier="  enabled: true\n  join: match+classifier:x\n")
    path.write_text(text)
    line = 1 + text.splitlines().index("  join: match+classifier:x")
    with pytest.raises(InputError, match=rf"recipe.yaml:{line}: verifier.join: 'classifier:x' is not a rule verifier"):
        load_recipe(path)
