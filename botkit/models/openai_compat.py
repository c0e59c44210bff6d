"""The `openai` engine: any OpenAI-compatible chat completions server (vLLM, llama.cpp's server,
Ollama, a hosted API, another `botkit serve`) by base URL and model name; the key comes from an
environment variable. Scoring falls back to generation (the chat API has no prompt log-probs)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation, Messages, StopScanner, score_by_generation
from botkit.usage import record


class OpenAIEngine:
    """Chat completions over HTTP; `generate_batch` sends up to `max_concurrency` requests at once."""

    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY", context_window: int = 8192,
                 timeout: float = 120.0, max_concurrency: int = 8, check: bool = True):
        try:
            import openai
        except ImportError:
            raise BotkitError("engine openai needs the openai package: `pip install 'botkit[openai]'`") from None
        self._openai = openai
        # Local servers take no key; the client insists on one, so an unset variable sends a placeholder.
        key = os.environ.get(api_key_env) or "none"
        self.client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=1)
        self.base_url, self.model, self.name = base_url, model, model
        self.context_window, self.max_concurrency = context_window, max_concurrency
        if check:
            self._check(api_key_env)

    def _check(self, api_key_env: str) -> None:
        """Fail at load, not mid-answer: the server answers and knows the model (when it lists models)."""
        try:
            served = [m.id for m in self.client.models.list()]
        except self._openai.NotFoundError:
            return  # some servers have no /models
        except Exception as exc:  # noqa: BLE001 - every failure here means the same thing to the user
            raise self._error(exc, api_key_env) from None
        if served and self.model not in served:
            raise BotkitError(f"the server at {self.base_url} has no model '{self.model}' "
                              f"(it has: {', '.join(served)}); set engines.openai.model")

    def _error(self, exc: Exception, api_key_env: str = "the API key variable") -> BotkitError:
        if isinstance(exc, self._openai.AuthenticationError):
            return BotkitError(f"the server at {self.base_url} refused the API key: set {api_key_env}")
        if isinstance(exc, self._openai.APIConnectionError):
            return BotkitError(f"cannot reach an OpenAI-compatible server at {self.base_url}: is it running?")
        if isinstance(exc, self._openai.APIStatusError):
            return BotkitError(f"the server at {self.base_url} answered {exc.status_code}: {_message(exc)}")
        return BotkitError(f"the server at {self.base_url} failed: {exc}")

    def count_tokens(self, messages: Messages) -> int:
        """Approximate (the server's tokenizer is not here): ~4 characters a token plus each
        message's framing; errs high for English, which keeps prompts inside the window."""
        return sum(len(m.get("content") or "") // 4 + 1 + 4 for m in messages) + 3

    def count_text(self, text: str) -> int:
        return len(text) // 4 + 1

    def _request(self, messages: Messages, options: DecodingOptions, stream: bool) -> dict:
        body = {"model": self.model, "messages": messages, "max_tokens": options.max_new_tokens, "stream": stream}
        if options.strategy == "sample":
            body.update(temperature=options.temperature, top_p=options.top_p)
        else:  # greedy (beam search has no API equivalent)
            body["temperature"] = 0
        if options.stop:
            body["stop"] = options.stop[:4]  # the API's limit; the rest are cut here
        if options.seed is not None:
            body["seed"] = options.seed
        return body

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        try:
            response = self.client.chat.completions.create(**self._request(messages, options, stream=False))
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        choice = response.choices[0]
        scanner = StopScanner(options.stop)
        scanner.feed(choice.message.content or "")
        return self._generation(messages, scanner, response.usage, choice.finish_reason)

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        if len(chats) <= 1:
            return [self.generate(c, options) for c in chats]
        seeded = [options if options.seed is None else options.merged(seed=options.seed + i) for i in range(len(chats))]
        with ThreadPoolExecutor(min(self.max_concurrency, len(chats))) as pool:
            return list(pool.map(self.generate, chats, seeded))

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        scanner, finish, usage = StopScanner(options.stop), None, None
        try:
            chunks = self.client.chat.completions.create(**self._request(messages, options, stream=True))
            with chunks:
                for chunk in chunks:
                    usage = getattr(chunk, "usage", None) or usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    if piece := scanner.feed(choice.delta.content or ""):
                        yield piece
                    if scanner.stopped:
                        break
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        if tail := scanner.flush():
            yield tail
        yield self._generation(messages, scanner, usage, finish)

    def _generation(self, messages: Messages, scanner: StopScanner, usage, finish: str | None) -> Generation:
        prompt = getattr(usage, "prompt_tokens", None) or self.count_tokens(messages)
        completion = getattr(usage, "completion_tokens", None) or self.count_text(scanner.text)
        record(prompt, completion)
        reason = "length" if finish == "length" and not scanner.stopped else "stop"
        return Generation(scanner.text.strip(), prompt, completion, reason)

    def score(self, messages: Messages, continuations: list[str]) -> list[float]:
        return score_by_generation(self, messages, continuations)


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(body.get("detail"), str):
            return body["detail"]
    return str(exc).splitlines()[0]
