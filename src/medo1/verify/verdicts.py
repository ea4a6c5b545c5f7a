"""The judge verdict log: every verdict a judge gives during search and synthesis, one JSON line each.

    {"response": ..., "reference": ..., "verdict": true, "source": "search", "verifier": "judge:openai:gpt-4o",
     "time": "2025-01-01T12:00:00"}

Each verdict is appended and flushed as it is given, so a killed run keeps every verdict it paid
for; a re-run may log the same pair again (answered from the request cache), which
`medo1 verifier-data` deduplicates. These are the training labels of `medo1 verifier-train`.
Nothing secret is written: the verifier is named by its model spec with any credentials in a URL
removed, and no request headers or keys are ever seen here.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import datetime
from pathlib import Path

_URL_USER = re.compile(r"//[^/@\s]+@")
_URL_SECRET = re.compile(r"([?&](?:api[_-]?key|key|token|access_token|sig|signature)=)[^&\s]*", re.IGNORECASE)


def public_name(name: str) -> str:
    """A verifier or model name safe to write down: `user:password@` and key-like query values removed."""
    return _URL_SECRET.sub(r"\1***", _URL_USER.sub("//", name))


class VerdictLog:
    """Appends verdicts to a JSONL file (one open-append-flush per verdict: judge calls take far longer)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, response: str, reference: str, verdict: bool, *, source: str, verifier: str) -> None:
        row = {"response": response, "reference": reference, "verdict": bool(verdict), "source": source,
               "verifier": public_name(verifier), "time": datetime.now().isoformat(timespec="seconds")}
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
