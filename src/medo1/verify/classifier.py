"""The `classifier:<path>` verifier: a sequence-classification checkpoint, P(correct) > threshold."""

from __future__ import annotations

import asyncio
import os

from medo1.errors import Medo1Error
from medo1.verify.base import VerifierError


class ClassifierVerifier:
    """A sequence-classification checkpoint scoring (reference, response) pairs.

    The pair is encoded as text = reference, text_pair = response. P(correct) is the
    sigmoid of a single logit, or the softmax of the label named correct/true/yes
    (else label 1). Concurrent `verify` calls are gathered into batches of up to
    `batch_size` and scored in a worker thread, so the event loop never blocks.
    """

    def __init__(self, path: str | os.PathLike, *, threshold: float = 0.5, batch_size: int = 16,
                 max_length: int = 512, device: str | None = None):
        self.path, self.threshold, self.batch_size, self.max_length = str(path), threshold, batch_size, max_length
        self.name = f"classifier:{self.path}"
        if not os.path.isdir(self.path):
            raise Medo1Error(f"classifier verifier: {self.path} is not a checkpoint directory")
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        from medo1.llm.hf import resolve_device, whole_weights

        with whole_weights():  # whole on this process's device, also inside a ZeRO-3 training launch
            self.model = AutoModelForSequenceClassification.from_pretrained(self.path)
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.device = device or resolve_device("auto")
        self.model.to(self.device).eval()
        labels = {str(v).lower(): int(k) for k, v in (self.model.config.id2label or {}).items()}
        self.correct_index = next((labels[n] for n in ("correct", "true", "yes") if n in labels), 1)
        self._pending: list[tuple[str, str, asyncio.Future]] = []
        self._batcher: asyncio.Task | None = None
        self.batches: list[int] = []  # sizes of the batches scored (for inspection)

    def probabilities(self, pairs: list[tuple[str, str]]) -> list[float]:
        """P(correct) for (response, reference) pairs, in batches; synchronous."""
        import torch

        out: list[float] = []
        for i in range(0, len(pairs), self.batch_size):
            chunk = pairs[i:i + self.batch_size]
            self.batches.append(len(chunk))
            encoded = self.tokenizer(
                [ref for _, ref in chunk], [resp for resp, _ in chunk], padding=True, truncation=True,
                max_length=self.max_length, return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                logits = self.model(**encoded).logits.float()
            if logits.shape[-1] == 1:
                probs = torch.sigmoid(logits[:, 0])
            else:
                probs = torch.softmax(logits, dim=-1)[:, self.correct_index]
            out.extend(probs.tolist())
        return out

    async def probability(self, response: str, reference: str) -> float:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((response, reference, future))
        if self._batcher is None or self._batcher.done():
            self._batcher = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the callers of this tick queue their pairs
        while self._pending:
            batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
            try:
                probs = await asyncio.to_thread(self.probabilities, [(r, ref) for r, ref, _ in batch])
            except Exception as err:  # noqa: BLE001 - handed to every waiting caller
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(VerifierError(f"classifier verifier failed: {err}"))
                continue
            for (*_, future), p in zip(batch, probs):
                if not future.done():
                    future.set_result(p)

    async def verify(self, response: str, reference: str) -> bool:
        return await self.probability(response, reference) > self.threshold
