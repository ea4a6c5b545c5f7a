"""The `classifier:` verifier: a sequence-classification checkpoint, P(correct) > threshold.

Specs:
    classifier:<dir-or-hub-id>            medo1's layout: text = reference, text_pair = response
    classifier:official:<dir-or-hub-id>   the input layout of the released `medical_o1_verifier_3B`
                                          (FreedomIntelligence), which the official PPO used as reward

The official layout is one text: the final response inside <Model Response> tags, the reference
answer inside <Reference Answer> tags, then the instruction the checkpoint was trained with and
the tokenizer's EOS token, tokenized without added special tokens and cut at 4000 tokens; P(True)
is column 1 of the softmax of the logits, whatever the checkpoint names its labels, and above 0.4
counts as correct; the checkpoint keeps its own pad token id, which its head uses to find the last
token (HuatuoGPT-o1 RL_stage2.py and ppo_utils/ppo_trainer_medo1.py, `get_reward_o1`). A checkpoint
written by `medo1 verifier-train` keeps its layout, its chosen threshold and its maximum length in
`medo1_verifier.json` next to the weights (an explicit `threshold` overrides it), and the pair ids
it was trained and calibrated on in `medo1_verifier_pairs.json`. Trained with `--join RULE`, it also
stores the threshold chosen for `RULE+classifier:DIR`; joined to that rule it uses that one.

Batching: concurrent `verify` calls queue up; a batcher takes what is waiting (up to
`batch_size` rows) and scores it on the verifier's own worker thread, in length-sorted
sub-batches of at most `max_batch_tokens` padded tokens, so short pairs are not padded to the
longest one and the event loop never blocks. While a batch runs, new calls gather for the next.
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from medo1.errors import Medo1Error
from medo1.verify.base import VerifierError

META_FILE = "medo1_verifier.json"
SEEN_FILE = "medo1_verifier_pairs.json"  # pair ids of the train and calibration rows
LAYOUTS = ("pair", "official")
OFFICIAL_THRESHOLD = 0.4
OFFICIAL_MAX_LENGTH = 4000  # get_reward_o1's max_length
# The input the released checkpoint was trained on (HuatuoGPT-o1, ppo_utils/ppo_trainer_medo1.py,
# get_reward_o1): it must be reproduced exactly for the released weights to give their verdicts.
OFFICIAL_TEMPLATE = (
    "<Model Response>\n{response}\n</Model Response>\n\n<Reference Answer>\n{reference}\n</Reference Answer>\n\n"
    "Your task is to evaluate the model response by comparing it to the reference answer. If the model response "
    "is correct and aligns with the reference answer, output \"True\" . If it is incorrect or fails to select the "
    "correct option (if options are provided), output \"False\" . {eos}"
)


def read_meta(path: str | os.PathLike) -> dict:
    """What `medo1 verifier-train` stored next to the weights (layout, threshold, held-out figures); {} if none."""
    meta = Path(path) / META_FILE
    return json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}


def default_max_length(layout: str) -> int:
    return OFFICIAL_MAX_LENGTH if layout == "official" else 512


def read_seen(path: str | os.PathLike) -> set[str]:
    """The pair ids a `medo1 verifier-train` checkpoint was trained or calibrated on; empty if none are stored."""
    seen = Path(path) / SEEN_FILE
    if not seen.is_file():
        return set()
    return {pair for ids in json.loads(seen.read_text(encoding="utf-8")).values() for pair in ids}


def encode_pairs(tokenizer, pairs: list[tuple[str, str]], layout: str, max_length: int, **kwargs):
    """Tokenize (response, reference) pairs in a layout; shared by training and scoring."""
    if layout == "official":
        texts = [OFFICIAL_TEMPLATE.format(response=resp, reference=ref, eos=tokenizer.eos_token or "")
                 for resp, ref in pairs]
        return tokenizer(texts, add_special_tokens=False, truncation=True, max_length=max_length, **kwargs)
    return tokenizer([ref for _, ref in pairs], [resp for resp, _ in pairs], truncation=True,
                     max_length=max_length, **kwargs)


def _same_join(stored: str | None, join: str) -> bool:
    """The same rules, whatever their order or spacing (a conjunction does not depend on it)."""
    from medo1.verify.combined import split_spec

    return stored is not None and sorted(split_spec(stored)) == sorted(split_spec(join))


def _looks_local(target: str) -> bool:
    return target.startswith((".", "/", "~")) or os.path.exists(target) or target.count("/") != 1


class ClassifierVerifier:
    """A sequence-classification checkpoint scoring (response, reference) pairs.

    P(correct) is the sigmoid of a single logit, else column 1 of the softmax in the official layout
    (as the official reward reads it), else the label named correct/true/yes (else label 1).
    Threshold: the argument, else the one `medo1 verifier-train` chose for the verifiers it is joined to
    (`join`: the other parts of a joined spec, when it was trained with that `--join`), else the one it
    chose for the classifier alone, else 0.4 (official layout) or 0.5.
    """

    def __init__(self, path: str | os.PathLike, *, threshold: float | None = None, layout: str | None = None,
                 batch_size: int = 32, max_batch_tokens: int = 16384, max_length: int | None = None,
                 device: str | None = None, gather_window_s: float = 0.002, join: str | None = None):
        target = str(path)
        if target.startswith("official:"):
            target, layout = target.removeprefix("official:"), layout or "official"
        local = Path(target).expanduser()
        if not local.is_dir() and _looks_local(target):
            raise Medo1Error(f"classifier verifier: {target} is not a checkpoint directory (nor a hub repo id)")
        meta = read_meta(local) if local.is_dir() else {}
        self.layout = layout or meta.get("layout", "pair")
        if self.layout not in LAYOUTS:
            raise Medo1Error(f"classifier verifier {target}: layout {self.layout!r}, expected one of {LAYOUTS}")
        default = OFFICIAL_THRESHOLD if self.layout == "official" else 0.5
        joined = meta.get("join") or {}
        if threshold is None and join is not None and _same_join(joined.get("verifier"), join):
            threshold = joined.get("threshold")
        self.threshold = threshold if threshold is not None else float(meta.get("threshold", default))
        self.max_length = max_length or int(meta.get("max_length") or default_max_length(self.layout))
        self.path, self.batch_size, self.max_batch_tokens = target, batch_size, max_batch_tokens
        self.gather_window_s = gather_window_s
        self.name = f"classifier:{'official:' if self.layout == 'official' else ''}{target}"
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        source = str(local) if local.is_dir() else target
        from medo1.llm.hf import resolve_device, whole_weights

        self.device = device or resolve_device("auto")  # this process's GPU under a launch
        dtype = torch.bfloat16 if self.device.startswith("cuda") and torch.cuda.is_bf16_supported() else None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            with whole_weights():  # whole on this process's device, also inside a ZeRO-3 training launch
                self.model = AutoModelForSequenceClassification.from_pretrained(
                    source, **({"dtype": dtype} if dtype else {}))
        except (OSError, ValueError) as err:  # not on the hub / offline / not a classifier checkpoint
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise Medo1Error(f"classifier verifier: cannot load {target}: {first}") from None
        pad_id = self.model.config.pad_token_id
        pad = self.tokenizer.convert_ids_to_tokens(int(pad_id)) if isinstance(pad_id, int) else None
        if pad is not None:  # the checkpoint's own: its head reads the last token that is not it; pad with it
            self.tokenizer.pad_token = pad
        else:
            if self.tokenizer.pad_token is None:
                self.tokenizer.pad_token = self.tokenizer.eos_token
            self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.model.to(self.device).eval()
        labels = {str(v).lower(): int(k) for k, v in (self.model.config.id2label or {}).items()}
        self.correct_index = 1 if self.layout == "official" else next(
            (labels[n] for n in ("correct", "true", "yes") if n in labels), 1)
        self.batches: list[int] = []  # rows of each forward pass (for inspection and benchmarks)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medo1-classifier")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._batcher: asyncio.Task | None = None

    # ------------------------------------------------------------ scoring

    def probabilities(self, pairs: list[tuple[str, str]]) -> list[float]:
        """P(correct) for (response, reference) pairs; synchronous. Rows are sorted by length and
        scored in sub-batches of at most `batch_size` rows and `max_batch_tokens` padded tokens."""
        import torch

        if not pairs:
            return []
        lengths = [len(ids) for ids in encode_pairs(self.tokenizer, pairs, self.layout, self.max_length)["input_ids"]]
        order = sorted(range(len(pairs)), key=lambda i: lengths[i])
        out: list[float] = [0.0] * len(pairs)
        start = 0
        while start < len(order):
            end = start + 1  # rows of similar length, within both limits (one row always fits)
            while (end < len(order) and end - start < self.batch_size
                   and (end - start + 1) * lengths[order[end]] <= self.max_batch_tokens):
                end += 1
            chunk = order[start:end]
            self.batches.append(len(chunk))
            encoded = encode_pairs(self.tokenizer, [pairs[i] for i in chunk], self.layout, self.max_length,
                                   padding=True, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                logits = self.model(**encoded).logits.float()
            if logits.shape[-1] == 1:
                probs = torch.sigmoid(logits[:, 0])
            else:
                probs = torch.softmax(logits, dim=-1)[:, self.correct_index]
            for i, p in zip(chunk, probs.tolist()):
                out[i] = p
            start = end
        return out

    async def probability(self, response: str, reference: str) -> float:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue_for(loop).put_nowait((response, reference, future))
        return await future

    async def verify(self, response: str, reference: str) -> bool:
        return await self.probability(response, reference) > self.threshold

    async def aclose(self) -> None:
        if self._batcher is not None and self._loop is asyncio.get_running_loop():
            self._batcher.cancel()
        self._batcher = self._queue = self._loop = None

    # ------------------------------------------------------------ batching

    def _queue_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Queue:
        # One batcher per event loop: the model outlives any one asyncio.run().
        if self._loop is not loop or self._batcher is None or self._batcher.done():
            self._loop, self._queue = loop, asyncio.Queue()
            self._batcher = loop.create_task(self._batch_loop(self._queue), name=f"medo1-verifier:{self.name}")
        return self._queue

    async def _batch_loop(self, queue: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(self.gather_window_s)  # let callers that started together join this batch
            while len(batch) < self.batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            batch = [item for item in batch if not item[2].done()]  # cancelled while waiting
            if not batch:
                continue
            try:
                probs = await loop.run_in_executor(self._worker, self.probabilities, [(r, ref) for r, ref, _ in batch])
            except Exception as err:  # noqa: BLE001 - handed to every waiting caller
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(VerifierError(f"{self.name} failed: {type(err).__name__}: {err}"))
                continue
            for (*_, future), p in zip(batch, probs):
                if not future.done():
                    future.set_result(p)
