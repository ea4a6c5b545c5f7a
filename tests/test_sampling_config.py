"""Sampling exactly as configured, whatever the checkpoint's generation_config.json says.

The checkpoint here asks for the opposite of what we configure: do_sample with top-k 1, top-p 0.5,
temperature 0.1, repetition penalty 2.0, no repeated tokens, and half of the vocabulary
suppressed or banned. transformers fills every field we leave unset from it; none of it may apply: plain
temperature sampling for PPO / DPO rollouts and `hf:` sampled chat, plain argmax for greedy chat.
"""

import asyncio
import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from medo1.llm.chat_template import prompt_ids
from medo1.llm.hf import HFChatModel
from medo1.llm.sampling import owned_fields, unowned_defaults
from medo1.train.ppo import sample_responses
from tests.tiny import build_varied_model

HOSTILE = {"do_sample": True, "top_k": 1, "top_p": 0.5, "temperature": 0.1, "repetition_penalty": 2.0,
           "no_repeat_ngram_size": 1, "min_p": 0.5, "typical_p": 0.5}
PROMPT = [{"role": "user", "content": "chest pain radiating to the left arm"}]


@pytest.fixture(scope="module")
def hostile_dir(tiny_model_dir, tmp_path_factory):
    """The tiny checkpoint with larger random weights (greedy outputs vary) and the hostile generation config."""
    out = build_varied_model(tiny_model_dir, tmp_path_factory.mktemp("hostile"))
    tokenizer = AutoTokenizer.from_pretrained(out)
    config = json.loads((out / "generation_config.json").read_text())
    # Suppress a quarter of the vocabulary and ban another (bad_words_ids has no "off" but None, so only
    # hiding the model's config during our calls keeps it out): greedy must still see every token.
    first = len(tokenizer.all_special_ids) + 1
    config.update(HOSTILE, suppress_tokens=list(range(first, len(tokenizer), 4)),
                  bad_words_ids=[[t] for t in range(first + 2, len(tokenizer), 4)])
    (out / "generation_config.json").write_text(json.dumps(config))
    return out


def load(checkpoint):
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    assert model.generation_config.top_k == 1 and model.generation_config.suppress_tokens  # the file was read
    return model, AutoTokenizer.from_pretrained(checkpoint)


def record_effective_configs(model) -> list:
    """Spy on transformers: the configs generate() actually runs with, after merging the model's defaults."""
    seen, prepare = [], model._prepare_generation_config

    def spy(*args, **kwargs):
        config, model_kwargs = prepare(*args, **kwargs)
        seen.append(config)
        return config, model_kwargs

    model._prepare_generation_config = spy
    return seen


def assert_owned(config, *, do_sample: bool, temperature: float = 1.0, hidden: bool = True):
    if hidden:  # the model's config was hidden during the call: nothing of it without a neutral value came in
        assert config.bad_words_ids is None
    for key, value in owned_fields(do_sample=do_sample, temperature=temperature).items():
        assert getattr(config, key) == value, (key, getattr(config, key), value)
    if do_sample:
        assert (config.top_k, config.top_p, config.min_p, config.typical_p) == (0, 1.0, 0.0, 1.0)
    assert config.repetition_penalty == 1.0 and config.no_repeat_ngram_size == 0 and config.do_sample is do_sample


def reference_sample(model, ids: list[int], *, temperature: float, n: int, eos: set[int]) -> list[int]:
    """Plain softmax(logits / T) sampling, one torch.multinomial per step on the global generator."""
    out = []
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([ids + out])).logits[0, -1].float()
            token = torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1).item()
            out.append(token)
            if token in eos:
                break
    return out


def reference_greedy(model, ids: list[int], *, n: int, eos: set[int]) -> list[int]:
    out = []
    with torch.no_grad():
        for _ in range(n):
            token = model(torch.tensor([ids + out])).logits[0, -1].argmax().item()
            if token in eos:
                break
            out.append(token)
    return out


# ---------------------------------------------------------------- PPO / DPO rollouts


def test_ppo_rollout_samples_plain_temperature_whatever_the_checkpoint_says(hostile_dir):
    model, tokenizer = load(hostile_dir)
    eos = [tokenizer.eos_token_id]
    query = prompt_ids(tokenizer, PROMPT[0]["content"])
    seen = record_effective_configs(model)

    def rollout(seed, temperature):
        torch.manual_seed(seed)
        return sample_responses(model, [query], pad_id=tokenizer.pad_token_id, eos_ids=eos, temperature=temperature,
                                max_new_tokens=12, batch_size=1)[0]

    # top-k 1 / temperature 0.1 / penalties would make these (nearly) all the same.
    samples = [tuple(rollout(seed, 1.0)) for seed in range(6)]
    assert len(set(samples)) == 6
    # Token for token what plain temperature sampling draws: the distribution PPO's log-probs assume.
    for seed, temperature in ((0, 1.0), (1, 0.5), (2, 0.5)):
        torch.manual_seed(seed)
        expected = reference_sample(model, query, temperature=temperature, n=12, eos=set(eos))
        assert rollout(seed, temperature) == expected
    assert_owned(seen[-1], do_sample=True, temperature=0.5)
    # The model's own generation config is back, as it would be saved.
    assert model.generation_config.top_k == 1 and model.generation_config.repetition_penalty == 2.0


# ---------------------------------------------------------------- the hf: backend


def test_hf_chat_greedy_is_argmax_and_sampling_is_not_truncated(hostile_dir):
    model = HFChatModel(hostile_dir, dtype="float32", device="cpu")
    hf_model, tokenizer = model.load()
    seen = record_effective_configs(hf_model)

    async def ask(**kw):
        return (await model.chat(PROMPT, max_tokens=12, **kw)).text

    async def main():
        greedy = [await ask(temperature=0.0) for _ in range(2)]
        sampled = [await ask(temperature=1.0, seed=seed) for seed in range(6)]
        again = await ask(temperature=1.0, seed=3)
        return greedy, sampled, again

    greedy, sampled, again = asyncio.run(main())
    # Greedy: identical run to run, and exactly the argmax continuation (nothing suppressed, no penalty).
    query = tokenizer(tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False),
                      add_special_tokens=False)["input_ids"]
    expected = reference_greedy(hf_model, query, n=12, eos={tokenizer.eos_token_id})
    assert greedy[0] == greedy[1] == tokenizer.decode(expected, skip_special_tokens=True)
    # Sampled at temperature 1: distinct per seed (top-k 1 would make them identical), reproducible per seed.
    assert len(set(sampled)) == 6 and again == sampled[3]
    assert seen and all(c.do_sample is False for c in seen)
    assert_owned(seen[-1], do_sample=False)
    assert hf_model.generation_config.top_k == 1  # hidden only during the call
    asyncio.run(model.aclose())


# ---------------------------------------------------------------- TRL GRPO / RLOO


def test_trl_sampling_config_owns_every_field(hostile_dir, tmp_path):
    """What GRPOTrainer does with our GRPOConfig: its GenerationConfig, merged by transformers with the
    checkpoint's, samples at plain temperature (TRL leaves min_p, typical_p, ... to the checkpoint)."""
    pytest.importorskip("trl")
    from trl import GRPOConfig

    from medo1.train.trl_rl import TRLRLSettings, online_args

    model, _ = load(hostile_dir)
    settings = TRLRLSettings(algo="grpo", problems="unused", model=str(hostile_dir), out=str(tmp_path), temperature=0.5)
    args = online_args(settings, GRPOConfig, 2)
    # The kwargs GRPOTrainer.__init__ builds its GenerationConfig from (trl 1.16, transformers path).
    kwargs = {"max_new_tokens": args.max_completion_length, "do_sample": True, "temperature": args.temperature,
              "top_p": args.top_p, "top_k": args.top_k, "min_p": args.min_p,
              "repetition_penalty": args.repetition_penalty, **(args.generation_kwargs or {})}
    from transformers import GenerationConfig

    merged, _ = model._prepare_generation_config(GenerationConfig(**kwargs, disable_compile=True))
    # TRL hides nothing of the model's config: fields whose only "off" is None (bad_words_ids, forced
    # BOS/EOS, sequence_bias, ...) still come from the checkpoint there.
    assert_owned(merged, do_sample=True, temperature=0.5, hidden=False)
    assert merged.bad_words_ids and list(unowned_defaults(model)) == ["bad_words_ids"]  # named in a warning
