"""The top of the report: the run's story in a summary box, and what the run can and cannot show.

    Went in      12 MCQs (the bundled sample bank); teacher embedded (SmolLM2-135M-Instruct), ...
    Came out     12 MCQs -> 7 problems -> 5 traces -> 1 SFT example -> 2 RL problems; ...
    Format rate  base 0.0% -> after SFT 75.0% -> after RL 75.0% (20 outputs each)
    Accuracy     base 20.0% [8.1, 41.6] -> ... (too few items to compare)
    Cost, wall time, run directory size
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medo1.report.facts import (MODELS, TOO_WIDE, cost_line, disk_usage, eval_outputs, eval_results, funnel,
                                hacking_warning, human_bytes, output_stats, paired_steps, pct, recipe_of,
                                stages_of, too_wide, usage_rows)
from medo1.report.plots import HACKING

TOO_FEW = "too few items to compare"


@dataclass
class Fact:
    """One line of the summary box."""

    label: str
    text: str
    note: str = ""  # a warning read with the line ("too few items to compare")


def _model(spec: str | None) -> str:
    from medo1.embedded import EMBEDDED_NAME

    return f"{spec} ({EMBEDDED_NAME})" if spec == "embedded" else str(spec)


def _uses_embedded(spec: str | None) -> bool:
    from medo1.embedded import EMBEDDED_NAME

    return bool(spec) and (spec == "embedded" or EMBEDDED_NAME in spec)


def _seconds(s: float) -> str:
    s = round(s)
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(root: Path) -> list[Fact]:
    recipe, stages = recipe_of(root), stages_of(root)
    models, facts = recipe.get("models", {}), []
    counts = dict(funnel(root))
    sources = ["the bundled sample bank" if s == "sample" else Path(str(s)).name
               for s in recipe.get("data", {}).get("mcq", [])]
    roles = [f"{role} {_model(models[role])}" for role in ("teacher", "policy", "verifier") if models.get(role)]
    facts.append(Fact("Went in", f"{_plural(counts['MCQs'], 'MCQ')}{' from ' + ', '.join(sources) if sources else ''}"
                                 + ("; " + ", ".join(roles) if roles else "")))
    flow = (f"{_plural(counts['MCQs'], 'MCQ')} → {_plural(counts['verifiable problems'], 'problem')} → "
            f"{_plural(counts['traces found'], 'trace')} → {_plural(counts['SFT examples'], 'SFT example')} → "
            f"{_plural(counts['RL problems (after decontamination)'], 'RL problem')}")
    trained = []
    if "sft" in stages:
        trained.append(f"SFT model ckpt/sft ({_plural(int(stages['sft']['summary'].get('steps') or 0), 'step')})")
    if "rl" in stages:
        rl = stages["rl"]["summary"]
        trained.append(f"RL model ckpt/rl ({rl.get('algo', '').upper()}, {_plural(int(rl.get('steps') or 0), 'step')})")
    facts.append(Fact("Came out", flow + ("; " + ", ".join(trained) if trained else "")))

    results = eval_results(root)
    labels = dict(MODELS)
    stats = {key: output_stats(eval_outputs(root, key)) for key in results}
    if stats:
        sizes = {s["n"] for s in stats.values()}
        facts.append(Fact("Format rate", " → ".join(f"{labels[k]} {pct(s['format_rate'])}%" for k, s in stats.items())
                          + (f" ({_plural(sizes.pop(), 'output')} each)" if len(sizes) == 1 else "")))
    steps = paired_steps(root)
    for bench in sorted({b for r in results.values() for b in r["benches"]}):
        scored = {k: r["benches"][bench] for k, r in results.items() if bench in r["benches"]}
        first = next(iter(scored.values()))
        text = " → ".join(f"{labels[k]} {pct(s['accuracy'])}% [{pct(s['ci_low'])}, {pct(s['ci_high'])}], "
                          f"unparsed {pct(s.get('unparsed_rate'))}%" for k, s in scored.items())
        # did each step really change it? a paired test on the same questions
        text += "".join(f"; {test.line(step, detail=False)}" for b, step, test in steps if b == bench)
        wide = any(too_wide(s) for s in scored.values())
        facts.append(Fact(f"Accuracy, {first.get('title', bench)} (n={first['n']})", text, TOO_FEW if wide else ""))

    facts.append(Fact("Cost", cost_line(usage_rows(root, recipe))))
    if stages:
        from medo1.rundir import STAGES

        total = sum(s.get("seconds", 0) for s in stages.values())
        parts = ", ".join(f"{name} {_seconds(stages[name].get('seconds', 0))}" for name in STAGES
                          if stages.get(name, {}).get("seconds", 0) >= 1)
        facts.append(Fact("Wall time", f"{_seconds(total)} over the stages ({parts})"))
    size, parts = disk_usage(root)
    big = ", ".join(f"{name} {human_bytes(n)}" for name, n in sorted(parts.items(), key=lambda p: -p[1])
                    if n >= 0.05 * size)
    facts.append(Fact("Run directory", f"{human_bytes(size)} on disk" + (f" ({big})" if big else "")))
    return facts


def caveats(root: Path) -> list[str]:
    """Plain sentences: what this run's set-up can show and what it cannot."""
    from medo1.embedded import EMBEDDED_NAME
    from medo1.rundir import STAGES

    recipe, stages = recipe_of(root), stages_of(root)
    models, said = recipe.get("models", {}), []
    warning = hacking_warning(root)
    if warning:  # first: it says the RL model's figures may not be what they seem
        said.append(f"{warning} (the plot *{HACKING}* below).")
    small = [role for role in ("teacher", "policy") if _uses_embedded(models.get(role))]
    if small:
        who = " and the ".join(small)
        said.append(
            f"The {who} {'are' if len(small) > 1 else 'is'} the embedded {EMBEDDED_NAME}, a 135M-parameter "
            "model. It teaches the format, not medicine: this run can show every stage of the recipe working end to "
            "end and whether the policy learns the output format (`## Thinking` … `## Final Response`); it cannot "
            "show medical reasoning, because a model this small does not reason soundly about medicine. Its "
            "accuracy here does not measure what the recipe does with a capable teacher and policy (the paper: "
            "GPT-4o as teacher, 8B and 70B policies).")
    verified = verifier_note(recipe)
    if verified:
        said.append(verified)
    search = stages.get("search", {}).get("summary") or {}
    found, hinted = search.get("found", 0), search.get("label_hint", 0)
    if found and hinted:
        said.append(f"{hinted} of {found} search traces reached the reference answer only after the teacher was told "
                    "it (the label-hint round): their reasoning was steered to the answer, not found by the search.")
    results = eval_results(root)
    scored = [s for r in results.values() for s in r["benches"].values()]
    if scored:
        n = sorted({s["n"] for s in scored})
        said.append(f"Each model answered {n[0] if len(n) == 1 else f'{n[0]} to {n[-1]}'} questions per benchmark. "
                    "Accuracy comes with its 95% interval; a result whose interval spans "
                    f"more than {100 * TOO_WIDE:.0f} points is marked *{TOO_FEW}*: with so few items a difference "
                    "between models can be chance.")
        said.append("An output with no answer, or one that states several different answers (a loop through the "
                    "options), counts as unparsed and wrong: neither its first nor its last answer is taken.")
    optional_off = set() if (recipe.get("passrate") or {}).get("enabled") else {"passrate"}  # runs made before it
    missing = [s for s in STAGES if s not in stages and s not in optional_off]
    if missing:
        said.append(f"The run has not finished: {', '.join(missing)} {'has' if len(missing) == 1 else 'have'} not run "
                    "yet; the figures below cover the stages that have.")
    return said


def verifier_note(recipe: dict[str, Any]) -> str | None:
    """Which verifiers scored the run and, for `match` and `match:strict`, their figures on the bundled
    labelled set (measured with the rules of the day, or read back from `verify.measured`'s cache of that)."""
    models = recipe.get("models", {})
    spec = models.get("verifier")
    if not spec:
        return None
    trained = (recipe.get("verifier") or {}).get("enabled")
    reward = None if trained else models.get("reward")
    reward = reward if reward and reward != spec else None
    join = (recipe.get("verifier") or {}).get("join") if trained else None
    rl = (f"`{join}` joined to the classifier the verifier stage trained (at the threshold it chose for that join)"
          if join else "the classifier the verifier stage trained" if trained else f"`{reward}`" if reward else None)
    text = (f"Verdicts came from the verifier `{spec}` (search, synthesis" + ("" if rl else ", the RL reward")
            + (f"); the RL reward from {rl}." if rl else ")."))
    if spec == "option":
        text += (" `option` decides by rules, without a model: the RL problems keep their lettered options, and a "
                 "response is correct when its final response commits to the one correct letter and names no other "
                 "(the strict reading evaluation uses; a hedge, list, question or chain of letters earns nothing).")
    from medo1.verify.combined import split_spec

    for joined in dict.fromkeys(s for s in (spec, reward) if s and len(split_spec(s)) > 1):
        text += (f" `{joined}` counts a response as correct only when each of "
                 + ", ".join(f"`{part}`" for part in split_spec(joined)) + " accepts it.")
    for used in dict.fromkeys(s for s in (spec, reward) if s in ("match", "match:strict")):
        from medo1.verify.measured import measured_match

        f = measured_match(strict=used == "match:strict")
        text += (" `match:strict` reads one answer line, a sentence that states the answer alone ('The answer is "
                 "X.'), and pays only when it is the reference: a response is paid for one answer at most, though a "
                 "hedge written after a correct line is not always caught, by it or by the hacking watch (read a "
                 "sample of rewarded responses)."
                 if used == "match:strict" else "")
        text += (f" `{used}` decides by rules, without a model. Measured on the bundled labelled set ({f['n']} "
                 f"answers), its precision is {pct(f['precision'])}%, it accepts {pct(f['uncommitted_accepted'])}% of "
                 f"answers that do not commit to one answer, and it recalls {pct(f['short_recall'])}% of short correct "
                 f"answers and {pct(f['long_recall'])}% of long free-text ones ({f['long_n']}); on the "
                 f"{f['heldout_n']} answers written after its rules and never tuned on, its precision is "
                 f"{pct(f['heldout_precision'])}%. A correct answer it cannot read counts as wrong.")
        if used == "match":
            text += (" Where free-text answers decide the RL reward, `match:strict` (for responses that state their "
                     "answer alone, as synthesized ones do), a judge or a trained classifier is the better verifier.")
    return text


# ---------------------------------------------------------------- rendering


def summary_markdown(facts: list[Fact]) -> str:
    rows = ["| | |", "|---|---|"]
    for f in facts:
        note = f" — **{f.note}**" if f.note else ""
        rows.append(f"| **{f.label}** | {f.text.replace('|', '/')}{note} |")
    return "\n".join(rows)


def summary_html(facts: list[Fact]) -> str:
    items = []
    for f in facts:
        note = f' <span class="warn">{html.escape(f.note)}</span>' if f.note else ""
        items.append(f"<dt>{html.escape(f.label)}</dt><dd>{html.escape(f.text)}{note}</dd>")
    return '<dl class="summary">' + "".join(items) + "</dl>"


def caveats_markdown(said: list[str]) -> str:
    return "\n".join(f"- {s}" for s in said)


def mark(result: dict[str, Any]) -> str:
    """The warning an accuracy cell carries, if any."""
    return f" *{TOO_FEW}*" if too_wide(result) else ""
