"""Typed settings: defaults < BOTKIT_HOME/config.yaml (or BOTKIT_CONFIG) < BOTKIT_* environment variables.

pydantic-settings gives us env parsing and validation; unknown keys are rejected so a typo never
silently does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from platformdirs import user_cache_dir, user_data_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, YamlConfigSettingsSource

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.jsonl import read_text
from botkit.models.engine_settings import EngineSettings


class ServerSettings(BaseModel):
    """`botkit serve`: where it listens and the limits that protect it (BOTKIT_SERVER__<FIELD>)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Interface to listen on; 0.0.0.0 exposes the server to the network.")
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Larger request bodies get 413.")
    generation_timeout: float = Field(120.0, gt=0, description="Seconds a request may wait and generate before 504.")
    max_tokens: int = Field(1024, ge=1, description="Largest max_tokens a client may ask for (400 above it).")
    max_queue: int = Field(16, ge=1, description="Requests in progress at once (generating or waiting); more get 429 "
                           "with Retry-After.")
    max_batch: int = Field(8, ge=1, le=64, description="Concurrent requests generated together in one batched call.")
    batch_window: float = Field(0.005, ge=0, le=1, description="Seconds a lone request waits for others to batch "
                                "with (not on llama.cpp: requests join its running batch).")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Web origins allowed to call the API from a browser (widget keys add their own origins).",
    )
    requests_per_minute: int = Field(600, ge=1, description="Requests a key may make a minute, unless the key "
                                     "sets its own (botkit keys create --rpm); more get 429 with Retry-After.")
    tokens_per_minute: int = Field(200_000, ge=1, description="Tokens a key may use a minute (prompt estimated "
                                   "from its characters, plus max_tokens), unless the key sets its own (--tpm).")
    widget_requests_per_minute: int = Field(10, ge=1, description="Requests a minute per visitor (client address) "
                                            "of a public widget key.")
    max_messages: int = Field(64, ge=1, description="Messages a chat completion request may carry (400 above).")
    metrics: Literal["admin", "public", "off"] = Field("admin", description="Who may read /metrics: keys with the "
                                                       "admin scope, anyone (a private network), or nobody.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Server log level; the "
                                                                   "access log (one line a request) is at info.")


class FeedbackSettings(BaseModel):
    """Preference data: which annotators are trusted and what exports keep (BOTKIT_FEEDBACK__<FIELD>)."""

    model_config = ConfigDict(extra="forbid")

    min_gold_accuracy: float = Field(0.7, ge=0, le=1, description="Annotators right on fewer gold pairs than this "
                                     "share are flagged: left out of exports and training unless included.")
    min_gold_pairs: int = Field(5, ge=1, description="Gold pairs an annotator must have judged before their "
                                "gold accuracy can flag them.")
    min_agreement: float = Field(0.65, ge=0, le=1, description="Annotators who agree with the other (unflagged) "
                                 "annotators on fewer shared pairs than this share are flagged.")
    min_shared_pairs: int = Field(10, ge=1, description="Pairs an annotator must share with other annotators "
                                  "before their agreement can flag them.")
    redact_pii: bool = Field(True, description="Replace e-mail addresses, phone numbers and card numbers in "
                             "exported and trained-on text with [email], [phone], [card].")
    phone_region: str = Field("US", min_length=2, max_length=2, description="Country (ISO code) whose phone "
                              "numbers written without a +country prefix are recognised.")
    pii_keep: list[str] = Field(default_factory=list, description="E-mail addresses and phone numbers never "
                                "redacted: the brand's own public contact details.")
    fewshot_min_annotators: int = Field(2, ge=1, description="Annotators who must all pick the same answer of a "
                                        "pair before its winner can become a few-shot example.")
    fewshot_auto: bool = Field(False, description="Add a pair's winner to the few-shot examples as soon as it is "
                               "agreed (on the Rank page), without an admin's click on the Data page.")


def default_home() -> Path:
    return Path(os.environ.get("BOTKIT_HOME") or user_data_dir("botkit"))


def config_path() -> Path:
    return Path(os.environ.get("BOTKIT_CONFIG") or default_home() / "config.yaml")


class Settings(BaseSettings):
    """Everything botkit can be configured with. Each field is also the env var BOTKIT_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="BOTKIT_", env_nested_delimiter="__", extra="forbid")

    home: Path = Field(default_factory=default_home, description="Holds the database, Chroma and adapters.")
    cache_dir: Path = Field(
        default_factory=lambda: Path(user_cache_dir("botkit")),
        description="Converted models, shared by every home.",
    )
    model: str = Field(
        "default",
        description="'default' (embedded SmolLM2-135M), a hub id, a directory or a .gguf file.",
    )
    adapter: str | None = Field(None, description="A PEFT adapter directory applied on top of `model`.")
    copy_model: str | None = Field(None, description="The model copy tasks (subject lines, ad copy, social posts) "
                                   "write with: a version, a model spec, or 'chat' for the chat model; unset: the "
                                   "'brand-voice' version when one is trained on the chat model's base.")
    copy_ideas: bool = Field(False, description="Copy tasks also list the small copy model's own lines, set apart "
                             "as unchecked ideas (a reader found 3 of 78 usable); a task's option ideas=true: once.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    engine: str = Field(
        "auto",
        description="auto (llama.cpp on CPU when installed and the model is a GGUF, else transformers), "
                    "llamacpp, transformers, openai, vllm, or an engine a plugin registers.",
    )
    engines: EngineSettings = Field(default_factory=EngineSettings, description="Per-engine settings and CPU threads.")
    embeddings_engine: Literal["auto", "llamacpp", "transformers"] = Field(
        "auto",
        description="What runs MiniLM: llamacpp (a GGUF copy made once in cache_dir; no torch in `botkit serve`), "
                    "transformers, or auto: llamacpp when installed and device is not cuda. Same vectors either way.",
    )
    brand: Path | None = Field(None, description="Brand profile YAML; unset: BOTKIT_HOME/brand.yaml (botkit init), "
                               "else the sample brand over its own documents, else a generic assistant.")
    fewshot: Path | None = Field(None, description="Few-shot examples YAML; unset: the one beside the brand profile.")
    fewshot_k: int = Field(2, ge=0, le=16)
    fewshot_selection: Literal["fixed", "similarity", "mmr"] = Field(
        "fixed", description="fixed: the same typical examples every time (the prompt's start is read once: "
        "~2x requests/s); similarity / mmr: the most relevant per message.")
    top_k: int = Field(4, ge=1, le=20, description="Chunks retrieved per question.")
    min_relevance: float = Field(0.3, ge=0, le=1, description="Cosine similarity below which a chunk is ignored.")
    min_evidence: float = Field(
        0.35, ge=0, le=1,
        description="Similarity a source sentence needs to count as an answer.",
    )
    answer_sentences: int = Field(
        1, ge=1, le=10,
        description="Sentences of the model's draft kept before checking; "
                    "extra sentences are where small models invent.",
    )
    answer_candidates: int = Field(
        1, ge=1, le=16,
        description="Drafts sampled per grounded chat answer; over 1, the best checked draft is shown "
                    "(ranked by the promoted reward version, else by similarity to the sources) in one piece.",
    )
    route_threshold: float = Field(
        0.5, ge=0, le=1,
        description="Similarity to a plugin's description/examples that routes a chat message to it.",
    )
    chunk_tokens: int = Field(160, ge=32, le=256)
    chunk_overlap: int = Field(32, ge=0, le=128)
    context_window: int | None = Field(
        None, ge=256,
        description="Prompt + reply token limit; the model's own when unset.",
    )
    decoding: DecodingOptions = Field(default_factory=DecodingOptions)
    server: ServerSettings = Field(default_factory=ServerSettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    passcode: str = Field(
        "",
        description="Shared passcode annotators type to sign in to the app; empty: none asked. "
                    "Set it with BOTKIT_PASSCODE.",
    )
    admins: list[str] = Field(
        default_factory=list,
        description="Annotators (names or OIDC e-mails) with the app's admin role: Train page, promotion, exports. "
                    "Empty: the first annotator to sign in to the app (or `botkit feedback annotators add --admin`).",
    )
    signin_days: float = Field(14.0, gt=0, description="Days an app sign-in lasts across reloads (a signed cookie).")
    promotion_min_win_rate: float = Field(
        0.5, ge=0, le=1,
        description="Promotion gate: the share of human judgements a version must win against the active model.",
    )
    promotion_min_judgements: int = Field(
        10, ge=0,
        description="Promotion gate: the human judgements against the active model a version needs.",
    )
    reward_model: str | None = Field(
        None, description="The promoted reward version (`botkit models promote REWARD`): it ranks best-of-N copy and "
                          "orders the Rank queue when it beat brand similarity on its held-out pairs.",
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return (init_settings, env_settings, _YamlFile(settings_cls))

    @property
    def database_path(self) -> Path:
        return self.home / "botkit.db"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"


class _YamlFile(YamlConfigSettingsSource):
    """config.yaml, found at load time (so BOTKIT_HOME / BOTKIT_CONFIG set just before loading count)
    and read with `read_settings_yaml`, so bad YAML is one error line."""

    def __init__(self, settings_cls):
        super().__init__(settings_cls, yaml_file=config_path())

    def _read_file(self, file_path: Path) -> dict:
        return read_settings_yaml(file_path, "model: default")


def read_settings_yaml(path: Path, example: str) -> dict:
    """The mapping of settings in the YAML file `path`; bad YAML or anything but a mapping is one
    readable error line (`example` shows a valid line)."""
    try:
        data = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        raise BotkitError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise BotkitError(f"{path} must hold a mapping of settings, e.g. '{example}'")
    return data


def load_settings(**overrides) -> Settings:
    """Load settings, turning validation errors into one readable line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown setting '{where}'")
            else:
                problems.append(f"{where}: {err['msg']}")
        allowed = ", ".join(Settings.model_fields)
        raise BotkitError(f"bad configuration ({config_path()}): {'; '.join(problems)} (settings: {allowed})") from None


def save_setting(key: str, value) -> Path:
    """Write one setting into config.yaml (used by `botkit models use`), keeping the others."""
    if key not in Settings.model_fields:
        raise BotkitError(f"unknown setting '{key}'")
    path = config_path()
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    data = data or {}
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=True))
    tmp.replace(path)
    return path
