"""Shared fixtures: a throwaway BOTKIT_HOME, the real MiniLM embedder, a tiny random Llama with the
default model's tokenizer (fast unit tests), the real default model (a few end-to-end tests), servers
and a browser for the app and HTTP tests, synthetic preference data; and the test tiers' markers."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from botkit.config import load_settings
from botkit.models.default import default_model_dir
from botkit.models.transformers_engine import TransformersEngine
from botkit.prompting.brand import sample_brand_dir

SAMPLE_KNOWLEDGE = sample_brand_dir() / "knowledge"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# Tiers: `make test-fast` runs `-m "not e2e and not browser and not slow"`. Marked here by file and
# fixture, so a new test lands in its tier without anyone remembering a mark.
SLOW_MODULES = {  # real training: over a few seconds a test (pytest --durations)
    "test_train_sft.py", "test_train_dpo.py", "test_train_rm.py", "test_train_rl.py", "test_train_resume.py",
    "test_compare.py",  # its `versions` fixture trains a DPO policy and a reward model for each test
}
SLOW_TESTS = {  # several processes (each imports torch) or a long fuzzing run: 15-110 s each under load
    "test_schemathesis_finds_no_server_errors", "test_cli_eval_task_on_the_tiny_model",
    "test_a_running_bot_sees_documents_ingested_by_another_process",
    "test_generate_pairs_two_versions_from_a_prompt_file", "test_cli_run_on_the_tiny_model",
    "test_third_party_plugin_is_discovered_through_its_entry_point",
    "test_example_plugin_tests_pass_with_the_task_runner_fixture",
    "test_eight_writers_lose_nothing_and_duplicate_nothing", "test_concurrent_processes_lose_no_messages",
    "test_a_mistyped_flag_is_one_error_line",
    # many requests through a real server at once (batching, the queue bound): 10-25 s on a quiet machine
    "test_concurrent_requests_share_batched_calls_and_each_gets_its_own_answer",
    "test_requests_past_the_queue_bound_get_429_with_retry_after",
}
SLOW_FIXTURES = {"botkit_server"}  # a `botkit serve` process of its own


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in item.path.name:
            item.add_marker(pytest.mark.browser)
        if "default_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
        fixtures = set(getattr(item, "fixturenames", ()))
        if (item.path.name in SLOW_MODULES or getattr(item, "originalname", item.name) in SLOW_TESTS
                or fixtures & SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("BOTKIT_HOME", str(path))
    monkeypatch.delenv("BOTKIT_CONFIG", raising=False)
    return path


@pytest.fixture
def settings(home):
    return load_settings()


@pytest.fixture(scope="session")
def embedder():
    """The real MiniLM embedder, remembering every text's vector for the session: tests ingest the
    same sample documents again and again, and MiniLM is the slowest part of that on 2 cores."""
    import numpy as np

    from botkit.embeddings import Embedder

    class RememberingEmbedder(Embedder):
        def __init__(self):
            super().__init__()
            self._seen: dict[str, np.ndarray] = {}

        def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
            new = list(dict.fromkeys(t for t in texts if t not in self._seen))
            if new:
                self._seen.update(zip(new, super().encode(new, progress)))
            return super().encode([]) if not texts else np.stack([self._seen[t] for t in texts])

    return RememberingEmbedder()


@pytest.fixture(scope="session")
def default_dir() -> Path:
    return default_model_dir(load_settings().cache_dir)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, default_dir) -> Path:
    """A randomly initialised 2-layer Llama saved with the default model's tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(default_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir) -> TransformersEngine:
    from botkit.models.loading import load_engine

    return load_engine(str(tiny_model_dir))


@pytest.fixture(scope="session")
def default_engine(default_dir) -> TransformersEngine:
    from botkit.models.loading import load_engine

    return load_engine("default")


@pytest.fixture
def knowledge_dir(tmp_path) -> Path:
    """A copy of the sample brand's documents the test may change."""
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE_KNOWLEDGE, target)
    return target


@pytest.fixture
def tiny_bot(settings, tiny_engine, embedder):
    from botkit.dialogue import Bot

    return Bot(settings, engine=tiny_engine, embedder=embedder)


@pytest.fixture
def bot_with(tiny_bot, tmp_path):
    """The tiny bot over one document the test writes: `bot_with("prices.md", TEXT)`."""
    def ingested(name: str, text: str):
        folder = tmp_path / "kb"
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text)
        tiny_bot.knowledge.ingest(folder)
        return tiny_bot

    return ingested


@pytest.fixture
def docs(tmp_path) -> Path:
    """Three of the sample brand's documents: enough to answer from, quick to ingest."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("warranty.md", "pricing-and-bundles.md", "shipping.md"):
        shutil.copy(SAMPLE_KNOWLEDGE / name, folder)
    return folder


@pytest.fixture
def bot(settings, tiny_engine, embedder, docs):
    """A bot on the tiny model over `docs` that logs its replies in the ranking store (reply ids)."""
    from botkit.dialogue import Bot

    bot = Bot.from_config(settings, engine=tiny_engine, embedder=embedder)
    bot.knowledge.ingest(docs)
    return bot


@pytest.fixture
def sample_knowledge() -> Path:
    """The sample brand's knowledge folder (read-only: copy it, as `knowledge_dir` does, to change it)."""
    return SAMPLE_KNOWLEDGE


# Synthetic preference data: a preference any reward or policy model can learn quickly.
PRODUCTS = ["kettle", "toaster", "grinder", "gift card", "descaler", "travel mug", "teapot", "milk frother"]
ASKS = ["Write a line about our {p}.", "Describe the {p} for a newsletter.", "Tell a customer about the {p}.",
        "Give me ad copy for the {p}.", "Say something nice about the {p}."]
POLITE = ["Thank you for choosing our {p}; we hope it brightens your mornings.",
          "We would be delighted to help you find the right {p} for your kitchen.",
          "Our {p} is made with care, and we are happy to answer any question.",
          "Please enjoy the {p}, and let us know how we can make it even better."]
SHOUTING = ["BUY THE {P} NOW!!! BEST DEAL EVER!!!", "THE {P} IS AMAZING, DON'T MISS OUT!!!",
            "HURRY!!! {P} SALE ENDS TODAY!!!", "YOU NEED THIS {P} RIGHT NOW!!!"]


def _polite_vs_shouting(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        product = rng.choice(PRODUCTS)
        rows.append({"prompt": rng.choice(ASKS).format(p=product) + f" (brief {seed}-{i})",
                     "chosen": rng.choice(POLITE).format(p=product),
                     "rejected": rng.choice(SHOUTING).format(P=product.upper())})
    return rows


@pytest.fixture(scope="session")
def polite_vs_shouting():
    """`polite_vs_shouting(n, seed=0)`: `n` TRL preference rows, each with its own prompt; the polite
    answer is chosen over SHOUTING copy."""
    return _polite_vs_shouting


@pytest.fixture
def reward_version(settings, polite_vs_shouting):
    """A registered MiniLM reward version, "brand-rm", that learned polite copy over SHOUTING copy."""
    from botkit.feedback.training.config import load_config
    from botkit.feedback.training.reward import RewardRunConfig, train_reward_model

    config = load_config(RewardRunConfig, max_length=64, max_prompt_length=32, num_train_epochs=2,
                         per_device_train_batch_size=8, learning_rate=2e-3, test_fraction=0.3)
    train_reward_model(config, polite_vs_shouting(40), "brand-rm", source="pairs.jsonl")
    return "brand-rm"


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="session")
def write_jsonl():
    """`write_jsonl(path, rows)` writes one JSON object a line and returns `path`."""
    return _write_jsonl


@pytest.fixture
def weight_watch():
    """A TrainerCallback recording the trainable (adapter) parameters before and after training;
    `weight_watch.changed(part)` names those that changed."""
    import torch
    from transformers import TrainerCallback

    class WeightWatch(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

        def on_train_end(self, args, state, control, model=None, **kwargs):
            self.after = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

        def changed(self, part: str = "") -> list[str]:
            return [n for n in self.before if part in n and not torch.equal(self.before[n], self.after[n])]

    return WeightWatch()


class ServerProcess:
    """A server subprocess (`botkit serve`, `streamlit run`) on a free local port, its output in `log`;
    ready once `health` answers 200. "{port}" in `argv` becomes the port."""

    def __init__(self, argv: list[str], log: Path, health: str, env: dict | None = None, timeout: float = 120):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url, self.log, name = f"http://127.0.0.1:{self.port}", log, " ".join(argv[2:4])
        environment = {**os.environ, **(env or {})}
        if "BOTKIT_CONFIG" not in (env or {}):
            environment.pop("BOTKIT_CONFIG", None)
        with log.open("w") as out:
            self.proc = subprocess.Popen([a.replace("{port}", str(self.port)) for a in argv], env=environment,
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{name} exited with {self.proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"{name} did not answer on {self.url}{health} within {timeout}s:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def start_server():
    """`start_server(argv, log, health, env=None)` -> a ready ServerProcess; any still running when the
    session ends is stopped (session-scoped, so module-scoped fixtures can use it too)."""
    started: list[ServerProcess] = []

    def start(argv: list[str], log: Path, health: str, env: dict | None = None) -> ServerProcess:
        started.append(ServerProcess(argv, log, health, env))
        return started[-1]

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.stop()


@pytest.fixture
def streamlit_app(tmp_path, start_server):
    """`streamlit_app(env)` -> the app (`streamlit run apps/main.py`) served with `env` added; stopped
    after the test."""
    main = Path(__file__).parents[1] / "apps" / "main.py"
    servers = []

    def run(env: dict) -> ServerProcess:
        servers.append(start_server(
            [sys.executable, "-m", "streamlit", "run", str(main), "--server.headless", "true",
             "--server.port", "{port}", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            tmp_path / f"streamlit-{len(servers)}.log", "/_stcore/health", env))
        return servers[-1]

    yield run
    for server in servers:
        server.stop()


@pytest.fixture
def chromium():
    """Debian's chromium launched through Playwright (never `playwright install`); skips without it."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install chromium) to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


SERVED_DOCS = ("warranty.md", "care-and-descaling.md", "shipping.md", "pricing-and-bundles.md")


@pytest.fixture(scope="session")
def prepare_served_home(embedder):
    """`prepare_served_home(home, docs_dir)` copies four sample documents to `docs_dir`, ingests them
    into `home` and creates API keys; returns {name: key} for support-desk (chat, feedback),
    feedback-only and admin."""
    from botkit.database import open_database
    from botkit.dialogue import Bot
    from botkit.server.keys import KeyStore

    def prepare(home: Path, docs_dir: Path) -> dict[str, str]:
        docs_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVED_DOCS:
            shutil.copy(SAMPLE_KNOWLEDGE / name, docs_dir)
        settings = load_settings(home=home)
        Bot(settings, embedder=embedder).knowledge.ingest(docs_dir)
        keys = KeyStore(open_database(settings.database_path))
        return {"support-desk": keys.create("support-desk", "chat,feedback"),
                "feedback-only": keys.create("feedback-only", "feedback"), "admin": keys.create("admin", "admin")}

    return prepare


@pytest.fixture(scope="session")
def botkit_server(start_server, tiny_model_dir):
    """`botkit_server(home, log, *args, env=None)` -> `botkit serve *args` on the tiny model over `home`,
    ready; `.home` is `home`. Stopped at the end of the session at the latest."""

    def serve(home: Path, log: Path, *args: str, env: dict | None = None) -> ServerProcess:
        env = {"BOTKIT_HOME": str(home), "BOTKIT_MODEL": str(tiny_model_dir), **(env or {})}
        argv = [sys.executable, "-m", "botkit", "serve", "--port", "{port}", *args]
        server = start_server(argv, log, "/healthz", env)
        server.home = home
        return server

    return serve


@pytest.fixture(scope="session")
def botkit_cli():
    """`botkit_cli(*args, home, env=None, check=True, site=None, input=None)` runs the botkit CLI in a
    new process over `home` (never the user's BOTKIT_CONFIG); `site` is a folder of extra installed
    packages. With `check`, a non-zero exit fails the test with the command's stderr."""

    def run(*args: str, home: Path, env: dict | None = None, check: bool = True, site: Path | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "BOTKIT_HOME": str(home), **(env or {})}
        if site:
            full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        full_env.pop("BOTKIT_CONFIG", None)
        proc = subprocess.run([sys.executable, "-m", "botkit", *args], capture_output=True, text=True, env=full_env,
                              input=input, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"botkit {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    return run
