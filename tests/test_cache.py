"""The request cache in front of a real HTTP model: `load_model("openai:...@<url>", cache=path)`."""

import pytest

from medo1.errors import ModelError
from medo1.llm import load_model
from medo1.llm.cache import CachedChatModel
from tests.openai_server import OpenAIServer, Reply

USER = [{"role": "user", "content": "A 54-year-old man has crushing chest pain. Diagnosis?"}]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SECRET = "sk-medo1-cache-5ecret-0a1b2c3d4e5f"


@pytest.fixture
def cache_path(tmp_path):
    return tmp_path / "requests.sqlite"


def cached(server, cache_path, model="test-model"):
    return load_model(f"openai:{model}@{server.url}", cache=cache_path)


async def test_a_repeated_request_makes_no_second_http_request(openai_server, cache_path):
    model = cached(openai_server, cache_path)
    assert isinstance(model, CachedChatModel)
    first = await model.chat(USER, max_tokens=64, tag="verify")
    second = await model.chat(USER, max_tokens=64, tag="verify")
    await model.aclose()
    assert openai_server.count == 1
    assert (first.cached, second.cached) == (False, True)
    assert (second.text, second.usage, second.finish_reason) == (first.text, first.usage, first.finish_reason)
    assert (model.meter.by_tag["verify"].calls, model.meter.by_tag["verify"].cache_hits) == (1, 1)

    # A new process (a re-run) reads the same file.
    again = cached(openai_server, cache_path)
    assert (await again.chat(USER, max_tokens=64, tag="verify")).cached
    await again.aclose()
    assert openai_server.count == 1


@pytest.mark.parametrize(
    "change",
    [
        {"max_tokens": 65},
        {"temperature": 0.3, "seed": 1},
        {"seed": 7},
        {"json_schema": SCHEMA},
        {"messages": [{"role": "system", "content": "Be brief."}, *USER]},
    ],
    ids=["max_tokens", "temperature", "seed", "schema", "messages"],
)
async def test_a_different_request_misses(openai_server, cache_path, change):
    model = cached(openai_server, cache_path)
    base = {"messages": USER, "max_tokens": 64}
    await model.chat(**base)
    await model.chat(**{**base, **change})
    await model.chat(**{**base, **change})  # ...and is then cached itself
    await model.aclose()
    assert openai_server.count == 2


async def test_another_model_or_base_url_misses(openai_server, cache_path):
    with OpenAIServer() as other_server:
        for server, name in [(openai_server, "test-model"), (openai_server, "other-model"),
                             (other_server, "test-model")]:
            model = cached(server, cache_path, model=name)
            await model.chat(USER)
            await model.aclose()
        assert other_server.count == 1
    assert openai_server.count == 2
    assert [r.json["model"] for r in openai_server.requests] == ["test-model", "other-model"]


async def test_errors_are_never_cached(openai_server, cache_path):
    openai_server.script(Reply(status=400, error_message="context length exceeded"), "second time lucky")
    model = cached(openai_server, cache_path)
    with pytest.raises(ModelError, match="context length exceeded"):
        await model.chat(USER)
    assert (await model.chat(USER)).text == "second time lucky"
    assert (await model.chat(USER)).cached
    await model.aclose()
    assert openai_server.count == 2


async def test_sampled_requests_without_a_seed_are_not_cached(openai_server, cache_path):
    model = cached(openai_server, cache_path)
    for _ in range(2):
        assert not (await model.chat(USER, temperature=0.7)).cached
    for _ in range(2):
        await model.chat(USER, temperature=0.7, seed=3)
    await model.aclose()
    assert openai_server.count == 3


async def test_the_key_is_not_in_the_cache_file(openai_server, cache_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    model = cached(openai_server, cache_path)
    await model.chat(USER, tag="verify")
    await model.chat(USER, json_schema=SCHEMA, seed=1)
    await model.aclose()
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    model.cache.close()
    files = [p for p in cache_path.parent.iterdir() if p.name.startswith(cache_path.name)]  # incl. -wal/-shm
    assert files and all(SECRET.encode() not in p.read_bytes() for p in files)
    assert any(b"crushing chest pain" in p.read_bytes() for p in files)  # the echoed answer is there
