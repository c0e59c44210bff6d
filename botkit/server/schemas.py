"""Request and response bodies of the HTTP API. The chat ones follow OpenAI's chat completions
format: fields botkit cannot honour (tools, response_format, logprobs, n > 1) are declared so they
get a 400, other unknown fields are ignored; botkit's additions are named in their descriptions.
Requests are validated strictly (no "1" for 1, no 0 for false), as OpenAI's own API does."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from botkit.feedback.store import Verdict
from botkit.replies import Citation  # the one definition: the dialogue core's dataclass, served as is


def _valid_unicode(text: str) -> str:
    # JSON can carry lone surrogates ("\ud800"); SQLite and tokenizers cannot store them.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


Text = Annotated[str, AfterValidator(_valid_unicode)]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: str
    text: Text | None = None

    @model_validator(mode="after")
    def _text_parts_have_text(self):
        if self.type == "text" and self.text is None:
            raise ValueError("a text part needs its text")
        return self


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    include_usage: StrictBool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra={"examples": [
        {"model": "botkit", "messages": [{"role": "user", "content": "How long is the warranty?"}], "max_tokens": 16}]})

    model: Text = Field("botkit", max_length=500, description="'botkit' (or the active model's name) for the active "
                        "model; otherwise any model `botkit models use` accepts that is available on the server.")
    messages: list[ChatMessage] = Field(min_length=1, description="At most `server.max_messages` (64 by default; "
                                        "more is a 400): continue a long chat with session_id.")
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2, description="0 or unset: the configured decoding (greedy by "
                                      "default); above 0: sampling at that temperature.")
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    stop: Text | list[Text] | None = Field(None, description="Up to 4 stop sequences.")
    n: int = Field(1, ge=1, description="Only 1: one choice per request (more is a 400).")
    tools: list[Any] | None = Field(None, description="Not supported (400): botkit calls no tools.")
    tool_choice: Any = Field(None, description="Not supported (400) unless 'none'.")
    functions: list[Any] | None = Field(None, description="Not supported (400).")
    function_call: Any = Field(None, description="Not supported (400) unless 'none'.")
    response_format: dict[str, Any] | None = Field(None, description="Only {'type': 'text'}; others are a 400.")
    logprobs: StrictBool | None = Field(None, description="Not supported (400): the checked answer is not raw output.")
    top_logprobs: int | None = Field(None, description="Not supported (400).")
    session_id: Text | None = Field(None, min_length=1, max_length=64, description="botkit: continue this stored "
                                    "conversation (its history is used; only the last message is new).")
    include_draft: StrictBool = Field(False, description="botkit, streaming: also send the model's draft as it is "
                                "written, in `botkit.draft` of chunks with an empty delta (the checked answer follows "
                                "as content).")




EMBEDDING_MODELS = ("all-MiniLM-L6-v2", "botkit")


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra={"examples": [
        {"model": "all-MiniLM-L6-v2", "input": ["How long is the warranty?"]}]})

    input: Text | list[Text] = Field(description="A text or up to 2048 texts (not token ids), each non-empty.")
    model: Text = Field(EMBEDDING_MODELS[0], max_length=500, description="all-MiniLM-L6-v2 (or 'botkit').")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="Only 384, the model's own.")
    user: Text | None = Field(None, max_length=500)

    @field_validator("input")
    @classmethod
    def _non_empty(cls, value):
        texts = [value] if isinstance(value, str) else value
        if not 1 <= len(texts) <= 2048:
            raise ValueError("give 1 to 2048 texts")
        if any(not t.strip() for t in texts):
            raise ValueError("a text is empty")
        return value


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="The vector, or base64 of its little-endian float32 bytes.")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[Citation] = Field(default_factory=list,
                                      description="botkit: the sources the answer cites, [n] in the text.")


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class BotkitInfo(BaseModel):
    response_id: str | None = Field(None, description="The id feedback names (POST /v1/feedback).")
    grounding: str = Field(description="generated | quoted | dont-know | empty-knowledge-base | plugin")
    plugin: str | None = None
    route: str = ""
    session_id: str


class ChatCompletion(BaseModel):
    id: str = Field(description="The response id in botkit's ranking store: name it in POST /v1/feedback.")
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    botkit: BotkitInfo


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "botkit"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class TaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"text": "Spring sale on kettles", "options": {"n": 2}}]})

    text: Text = Field(min_length=1, max_length=100_000)
    options: dict[str, Any] = Field(default_factory=dict, description="The task's options (GET /v1/plugins).")
    model: Text = Field("botkit", max_length=500)


class TaskResponse(BaseModel):
    id: str = Field(description="The response id in the ranking store, for feedback.")
    plugin: str
    model: str
    output: Any
    text: str
    citations: list[Citation] = Field(default_factory=list)
    usage: Usage


class PluginOption(BaseModel):
    name: str
    type: str
    help: str
    default: Any = None


class PluginInfo(BaseModel):
    name: str
    description: str
    plugin: str
    options: list[PluginOption]


class PluginList(BaseModel):
    object: Literal["list"] = "list"
    data: list[PluginInfo]


class FeedbackRequest(BaseModel):
    """Thumbs: `response_id` + `rating`. A preference: `response_id` (a) + `other_id` (b) + `verdict`."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"response_id": "r_0123456789abcdef", "rating": -1, "reason": "wrong price"}]})

    response_id: Text = Field(min_length=1, max_length=100)
    rating: Literal[1, -1, "up", "down"] | None = None
    other_id: Text | None = Field(None, min_length=1, max_length=100)
    verdict: Verdict | None = None
    reason: Text = Field("", max_length=10_000)
    seconds: float | None = Field(None, ge=0, le=86_400, description="How long the judgement took.")


class FeedbackResponse(BaseModel):
    kind: Literal["rating", "comparison"]
    annotator: str
    response_id: str | None = None
    value: int | None = None
    pair_id: int | None = None
    verdict: str | None = None


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str
    queued: int = Field(description="Requests waiting for or using a model right now.")
    auth: bool


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class Error(BaseModel):
    """OpenAI's error shape."""

    error: ErrorBody
