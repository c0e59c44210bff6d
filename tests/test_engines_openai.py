"""The `openai` engine against a real OpenAI-compatible server: `botkit serve --no-auth` on a free
local port with the default model, started here in its own BOTKIT_HOME."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, default_dir):
    port = _free_port()
    env = {**os.environ, "BOTKIT_HOME": str(tmp_path_factory.mktemp("served-home")), "OPENAI_API_KEY": ""}
    env.pop("BOTKIT_CONFIG", None)
    process = subprocess.Popen([sys.executable, "-m", "botkit", "serve", "--no-auth", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"botkit serve exited: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("botkit serve did not come up within 240 s")
    yield f"{url}/v1"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def engine(server):
    from botkit.models.openai_compat import OpenAIEngine

    return OpenAIEngine(server, "botkit", max_concurrency=4)


CHAT = [{"role": "user", "content": "Hello! What do you sell?"}]


def test_generates_streams_and_batches_through_the_server(engine):
    options = DecodingOptions(max_new_tokens=24)
    one = engine.generate(CHAT, options)
    assert one.text and one.prompt_tokens > 0 and one.completion_tokens > 0
    *pieces, last = list(engine.stream(CHAT, options))
    assert isinstance(last, Generation) and pieces and "".join(pieces).strip() == last.text
    batch = engine.generate_batch([CHAT, [{"role": "user", "content": "Do you ship abroad?"}], CHAT], options)
    assert len(batch) == 3 and all(g.text for g in batch)
    assert engine.count_tokens(CHAT) > 0  # approximate by design


def test_scores_by_generation_the_words_the_server_writes(engine):
    said = engine.generate(CHAT, DecodingOptions(max_new_tokens=8)).text.split()[0]
    assert engine.score(CHAT, ["zebra crossing xylophone", said]) == [float("-inf"), 0.0]


def test_a_wrong_model_name_or_an_unreachable_server_is_one_clear_error(server):
    from botkit.models.openai_compat import OpenAIEngine

    with pytest.raises(BotkitError, match="has no model 'no-such-model'.*set engines.openai.model"):
        OpenAIEngine(server, "no-such-model")
    with pytest.raises(BotkitError, match="cannot reach an OpenAI-compatible server at http://127.0.0.1:9/v1"):
        OpenAIEngine("http://127.0.0.1:9/v1", "botkit", timeout=5)
