"""PEFT LoRA adapters as llama.cpp GGUF adapters, so a trained model version runs on llama.cpp over
its quantized base (no merge, no re-quantization). Converted once, cached beside the adapter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from filelock import FileLock

from botkit.errors import BotkitError

# GGUF architectures we convert for, and whether their GGUF stores q/k rows in llama.cpp's rotary
# order (HF's llama conversion permutes them; the LoRA B matrices must be permuted alike).
_ARCHES = {"llama": True, "qwen2": False, "qwen3": False}
GGUF_NAME = "adapter.botkit.gguf"


def gguf_adapter(adapter_dir: Path, base_gguf: Path) -> Path:
    """The llama.cpp adapter for the PEFT adapter in `adapter_dir`, converting it when it is missing
    or older than the adapter's weights."""
    adapter_dir = Path(adapter_dir)
    weights = _weights_file(adapter_dir)
    target = adapter_dir / GGUF_NAME
    if target.exists() and target.stat().st_mtime_ns >= weights.stat().st_mtime_ns:
        return target
    with FileLock(str(target) + ".lock"):  # two processes starting at once write it once
        if target.exists() and target.stat().st_mtime_ns >= weights.stat().st_mtime_ns:
            return target
        partial = target.with_name(target.name + ".partial")
        convert_adapter(adapter_dir, base_gguf, partial)
        partial.replace(target)
    return target


def _weights_file(adapter_dir: Path) -> Path:
    for name in ("adapter_model.safetensors", "adapter_model.bin"):
        if (adapter_dir / name).exists():
            return adapter_dir / name
    raise BotkitError(f"{adapter_dir} has no adapter weights (adapter_model.safetensors)")


def convert_adapter(adapter_dir: Path, base_gguf: Path, out: Path) -> None:
    """Write `adapter_dir`'s LoRA as a GGUF adapter for `base_gguf` to `out`.

    Tensors are named after the base's (blk.N.attn_q.weight.lora_a / .lora_b) with PEFT's shapes
    (A: rank x in, B: out x rank); adapter.lora.alpha carries the scale (llama.cpp uses alpha/rank).
    """
    import gguf

    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    if config.get("peft_type", "LORA") != "LORA" or config.get("use_dora"):
        raise BotkitError(f"{adapter_dir} is not a plain LoRA adapter: llama.cpp cannot apply it")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise BotkitError(f"{adapter_dir} uses per-module ranks: llama.cpp takes one alpha per adapter")
    base = _base_hparams(base_gguf)
    if base["arch"] not in _ARCHES:
        raise BotkitError(f"cannot convert LoRA adapters for {base['arch']} models; supported: {', '.join(_ARCHES)}")
    rank, alpha = int(config["r"]), float(config["lora_alpha"])
    if config.get("use_rslora"):  # PEFT scales by alpha/sqrt(r); llama.cpp by alpha/r
        alpha *= rank ** 0.5
    arch = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == base["arch"])
    names = gguf.get_tensor_name_map(arch, base["blocks"])

    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, tensor in _load_weights(_weights_file(adapter_dir)).items():
        if ".lora_A." not in key and ".lora_B." not in key:
            raise BotkitError(f"{adapter_dir} holds {key}: only LoRA A/B matrices convert to llama.cpp")
        module, part = key.split(".lora_")
        hf_name = module.removeprefix("base_model.model.") + ".weight"
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight",))
        if gguf_name is None:
            raise BotkitError(f"{adapter_dir}: no llama.cpp tensor for {hf_name}")
        pairs.setdefault(gguf_name, {})[part[0].lower()] = tensor.astype(np.float32)

    writer = gguf.GGUFWriter(str(out), base["arch"])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for name, ab in sorted(pairs.items()):
        if set(ab) != {"a", "b"}:
            raise BotkitError(f"{adapter_dir}: {name} lacks its lora_A or lora_B matrix")
        b = ab["b"]
        if _ARCHES[base["arch"]] and ".attn_q." in name:
            b = _rotary_order(b, base["heads"])
        elif _ARCHES[base["arch"]] and ".attn_k." in name:
            b = _rotary_order(b, base["kv_heads"])
        writer.add_tensor(name + ".lora_a", np.ascontiguousarray(ab["a"]))
        writer.add_tensor(name + ".lora_b", np.ascontiguousarray(b))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _rotary_order(rows: np.ndarray, heads: int) -> np.ndarray:
    """HF keeps each head's rotary halves apart ([x0..x31, y0..y31]); llama.cpp interleaves them
    ([x0, y0, x1, y1...]). Reorders the output rows of a q/k projection (or of its LoRA B)."""
    out, rest = rows.shape[0], rows.shape[1:]
    return rows.reshape(heads, 2, out // heads // 2, *rest).swapaxes(1, 2).reshape(rows.shape)


def _base_hparams(base_gguf: Path) -> dict:
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))

    def value(key: str):
        field = reader.get_field(key)
        if field is None:
            raise BotkitError(f"{base_gguf} lacks {key}: not a model GGUF")
        return field.contents()

    arch = value("general.architecture")
    heads = int(value(f"{arch}.attention.head_count"))
    kv = reader.get_field(f"{arch}.attention.head_count_kv")
    return {"arch": arch, "blocks": int(value(f"{arch}.block_count")), "heads": heads,
            "kv_heads": int(kv.contents()) if kv is not None else heads}


def _load_weights(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        try:
            return load_file(str(path))
        except TypeError:  # bfloat16 has no numpy dtype: go through torch
            pass
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file as load_torch

        tensors = load_torch(str(path))
    else:
        tensors = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float().numpy() for k, v in tensors.items()}
