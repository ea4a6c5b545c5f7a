"""PNG plots of the training curves (matplotlib, no display): SFT loss, RL reward and correct rate, RL KL."""

from __future__ import annotations

from pathlib import Path

from medo1.report.facts import jsonl


def _metric_series(path: Path, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in jsonl(path):
        if isinstance(row.get(key), (int, float)):
            xs.append(row.get("step", len(xs)))
            ys.append(row[key])
    return xs, ys


def plots(root: Path) -> dict[str, Path]:
    """PNG plots of the training curves that exist, in `root/plots`; returns {title: path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = root / "plots"
    out_dir.mkdir(exist_ok=True)
    wanted = [
        ("SFT loss", root / "ckpt/sft/metrics.jsonl", ["loss"]),
        ("RL reward and correct rate", root / "ckpt/rl/metrics.jsonl", ["reward", "correct_rate", "format_rate"]),
        ("RL KL to the SFT model", root / "ckpt/rl/metrics.jsonl", ["kl"]),
    ]
    made = {}
    for title, path, keys in wanted:
        series = [(key, *_metric_series(path, key)) for key in keys]
        series = [s for s in series if s[1]]
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        for key, xs, ys in series:
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=key)
        ax.set_title(title)
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend()
        fig.tight_layout()
        png = out_dir / (title.lower().replace(" ", "_") + ".png")
        fig.savefig(png)
        plt.close(fig)
        made[title] = png
    return made
