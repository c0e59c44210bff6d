"""Per-engine settings (`engines:` in config.yaml, BOTKIT_ENGINES__<ENGINE>__<FIELD>) and the CPU
thread policy shared by llama.cpp and torch."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LlamaCppSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context: int = Field(
        768, ge=256,
        description="The context window of one chat (prompt and reply), in KV cache cells (23 KB a cell on the "
                    "default model, allocated up front). With kv_unified off each chat decoding or kept (max_batch "
                    "+ 1 + parked_chats of them: 17 x 768 cells, 287 MiB) has this many cells of its own (rounded "
                    "up to a multiple of 256); with it on, the chats of a batch share this many (4096 holds 8 "
                    "grounded answers).",
    )
    kv_unified: bool = Field(
        False,
        description="One pool of `context` KV cells for every chat (a lone chat may use all of it: a long "
                    "window in little memory) instead of a stream of cells per chat. Off: each row of a batch "
                    "attends over its own cells only, not over every chat's (0.77x the CPU a request serving 8 "
                    "clients: bench/README.md).",
    )
    max_batch: int = Field(8, ge=1, le=64, description="Chats decoded together in one batched call.")
    parked_chats: int = Field(
        8, ge=0, le=128,
        description="Finished chats whose cells `botkit serve` keeps (least recently used dropped first, and, in "
                    "one pool of cells, whenever cells run short) so a chat asked again reads only its last prompt "
                    "token; 0: none. With a stream of cells a chat each takes `context` cells (8 rather than 12: "
                    "peak RSS serving 8 and 32 clients 886-893 MiB, not 942-960, at 0.9x the requests/s: "
                    "bench/README.md).",
    )
    default_quantization: Literal["Q8_0", "Q4_0", "F16", "Q4_1"] = Field(
        "Q8_0",
        description="The default model's weights on llama.cpp: a copy of the shipped Q4_1 file requantized "
                    "once and cached (Q8_0 reads prompts ~1.7x faster on AVX2 CPUs), or Q4_1: the shipped "
                    "file as it is. GGUF files you name always run as they are.",
    )


class OpenAISettings(BaseModel):
    """Any OpenAI-compatible server: vLLM, llama.cpp's server, Ollama, a hosted API, `botkit serve`."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field("http://127.0.0.1:8000/v1", description="The server's API root, ending in /v1.")
    model: str = Field("", description="The model name the server knows; empty: botkit's `model` setting.")
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        description="Name of the environment variable that holds the API key (the key never goes in a file).",
    )
    context_window: int = Field(8192, ge=256, description="The served model's context window.")
    timeout: float = Field(120.0, gt=0, description="Seconds one request may take.")
    max_concurrency: int = Field(8, ge=1, le=256, description="Requests in flight for one batched call.")


class VLLMSettings(BaseModel):
    """vLLM on a GPU: one engine, one LoRA adapter per model version (optional extra `botkit[vllm]`)."""

    model_config = ConfigDict(extra="forbid")

    gpu_memory_utilization: float = Field(0.85, gt=0, le=1)
    max_model_len: int | None = Field(None, ge=256, description="Context window; the model's own when unset.")
    max_lora_rank: int = Field(64, ge=1, description="Largest LoRA rank of an adapter it will serve.")
    max_loras: int = Field(4, ge=1, description="Adapters (model versions) resident on the GPU at once.")
    dtype: str = Field("auto", description="Weights' dtype: auto, bfloat16, float16.")


class EngineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threads: int | None = Field(
        None, ge=1,
        description="CPU threads for generation (llama.cpp and torch); unset: the physical cores. "
                    "Lower it when the server shares the machine with training.",
    )
    llamacpp: LlamaCppSettings = Field(default_factory=LlamaCppSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    vllm: VLLMSettings = Field(default_factory=VLLMSettings)


def cpu_threads(threads: int | None = None) -> int:
    """`threads`, else the physical cores this process may run on: hyper-threads slow token
    generation down (two threads fight over one core's memory bandwidth)."""
    if threads:
        return threads
    import psutil

    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else physical
    return max(1, min(physical, allowed))


def passive_omp_threads() -> None:
    """Make OpenMP threads (torch's and llama.cpp's) sleep when they wait instead of spinning.

    Spinning threads steal the cores the other runtime, or another process, needs: measured in one
    process under load, a MiniLM query embedding on 2 torch threads took 2-3 s spinning and 0.12-0.19 s
    passive (1 thread: 0.11-0.22 s). Each OpenMP runtime reads this once, when it is loaded, so it is
    called before torch and llama_cpp are imported; a value the user set wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas for a many-threaded server (every worker thread otherwise
    gets its own, and the peak RSS grew by ~200 MB under load). No-op off glibc."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass

