"""MiniLM on llama.cpp: the packaged safetensors converted once to a GGUF (cached like the default
model's Q8_0 copy), and the encoder `Embedder` runs on it when llama-cpp-python is installed, so a
process that only embeds and generates (`botkit serve`) never imports torch or transformers."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import threading
from pathlib import Path

import numpy as np
from filelock import FileLock

from botkit.errors import BotkitError
from botkit.models.engine_settings import cpu_threads, passive_omp_threads

# Measured against transformers on 18 varied texts: min cosine 0.9999985 in F32 (91 MB), 0.9999983 in
# F16 (46 MB, norms and position tables kept F32): half the memory for no visible difference.
GGUF_TYPE = "F16"
_PHANTOM_SPACE = "\u2581"  # llama.cpp's WordPiece marks a word's first piece with it, instead of "##" on the rest


_WRITER_VERSION = 1  # part of the cached file's key: a change to `_write_gguf` makes a new file


def _cache_key(files: list[Path]) -> str:
    stamp = f"{_WRITER_VERSION}:" + ":".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    return hashlib.sha256(stamp.encode()).hexdigest()[:10]


def minilm_gguf(model_dir: Path | str, cache_dir: Path, tensor_type: str = GGUF_TYPE, name: str | None = None) -> Path:
    """The sentence-transformers BERT in `model_dir` as a GGUF (BERT arch, WordPiece vocab, the
    model's own pooling), written once under `cache_dir`/models and reused."""
    model_dir = Path(model_dir)
    weights, vocab = model_dir / "model.safetensors", model_dir / "vocab.txt"
    if not weights.exists() or not vocab.exists():
        raise BotkitError(f"{model_dir} has no model.safetensors and vocab.txt to convert for llama.cpp")
    key = _cache_key([weights, vocab, model_dir / "config.json"])
    target = Path(cache_dir) / "models" / f"{name or model_dir.name}-{key}.{tensor_type}.gguf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # two processes starting at once write it once
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            _write_gguf(model_dir, partial, tensor_type)
            partial.rename(target)  # atomic: a crash never leaves a half-written model in place
    return target


def _pooling(model_dir: Path):
    """The sentence-transformers pooling the model was trained with (modules.json -> Pooling config)."""
    import gguf

    modules = model_dir / "modules.json"
    for module in json.loads(modules.read_text()) if modules.exists() else []:
        if module["type"].endswith("Pooling"):
            config = json.loads((model_dir / module["path"] / "config.json").read_text())
            if config.get("pooling_mode_mean_tokens"):
                return gguf.PoolingType.MEAN
            if config.get("pooling_mode_cls_token"):
                return gguf.PoolingType.CLS
            raise BotkitError(f"{model_dir}: only mean or CLS pooling runs on llama.cpp")
    return gguf.PoolingType.MEAN


def _write_gguf(model_dir: Path, out: Path, tensor_type: str) -> None:
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    if config.get("model_type") != "bert":
        raise BotkitError(f"{model_dir} is a {config.get('model_type')} model: only BERT converts for llama.cpp")
    tokenizer_config = model_dir / "tokenizer_config.json"
    lowercase = json.loads(tokenizer_config.read_text()).get("do_lower_case", True) if tokenizer_config.exists() \
        else True
    blocks = config["num_hidden_layers"]
    writer = gguf.GGUFWriter(str(out), arch=gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    writer.add_name(model_dir.name)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32 if tensor_type == "F32" else gguf.LlamaFileType.MOSTLY_F16)
    writer.add_block_count(blocks)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(_pooling(model_dir))

    # The WordPiece vocabulary in llama.cpp's spelling: a piece that starts a word carries the phantom
    # space, a continuation ("##ing") loses its "##"; special tokens stay as they are.
    words = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    special = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    tokens, types = [], []
    for word in words:
        if word in special:
            tokens.append(word)
            types.append(gguf.TokenType.CONTROL)
        else:
            tokens.append(word[2:] if word.startswith("##") else _PHANTOM_SPACE + word)
            types.append(gguf.TokenType.NORMAL)
    ids = {w: i for i, w in enumerate(words)}
    writer.add_token_type_count(config.get("type_vocab_size", 2))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_bos_token_id(ids["[CLS]"])  # llama.cpp starts a BERT input with its BOS: [CLS]
    writer.add_sep_token_id(ids["[SEP]"])
    writer.add_unk_token_id(ids["[UNK]"])
    writer.add_pad_token_id(ids["[PAD]"])
    writer.add_mask_token_id(ids["[MASK]"])
    # Only llama.cpp's own tokenizer reads it (botkit tokenizes with tokenizer.json): a complete file.
    writer.add_bool("tokenizer.ggml.normalizer.lowercase", lowercase)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, blocks)
    for name, tensor in sorted(load_file(str(model_dir / "model.safetensors")).items()):
        name = name.removeprefix("bert.")
        if name.startswith("pooler.") or name == "embeddings.position_ids":
            continue  # sentence-transformers pools the token vectors itself; BERT's pooler is unused
        new_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise BotkitError(f"{model_dir}: no llama.cpp name for the tensor {name}")
        # Norms, biases and the position and token-type tables (llama.cpp adds them to F32 activations)
        # stay F32 in any file type, as llama.cpp's own converter keeps them.
        halve = tensor_type == "F16" and tensor.ndim >= 2 and not new_name.startswith(("position_embd", "token_types"))
        dtype = np.float16 if halve else np.float32
        writer.add_tensor(new_name, tensor.astype(dtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


class WordPieceTokenizer:
    """The model's tokenizer.json on the `tokenizers` library (Rust, no torch), called as transformers'
    tokenizer is (the chunker's counts and offsets, /v1/embeddings' token counts): the same tokens as
    transformers, which llama.cpp's own WordPiece does not give for every script (it also drops spacing
    vowel signs, Unicode Mc, so Hindi read differently: cosine 0.92)."""

    def __init__(self, model_dir: Path | str, max_tokens: int):
        from tokenizers import Tokenizer

        path = Path(model_dir) / "tokenizer.json"
        if not path.exists():
            raise BotkitError(f"{model_dir} has no tokenizer.json")
        self._plain = Tokenizer.from_file(str(path))
        self._plain.no_padding()  # the packaged file pads and cuts to 128
        self._plain.no_truncation()
        self._cut = Tokenizer.from_file(str(path))  # a second copy: settings are never changed per call
        self._cut.no_padding()
        self._cut.enable_truncation(max_tokens)

    def __call__(self, text: str, add_special_tokens: bool = True, return_offsets_mapping: bool = False) -> dict:
        encoding = self._plain.encode(text, add_special_tokens=add_special_tokens)
        out = {"input_ids": encoding.ids}
        if return_offsets_mapping:
            out["offset_mapping"] = encoding.offsets
        return out

    def model_inputs(self, texts: list[str]) -> list[list[int]]:
        """[CLS] pieces [SEP] of each text, cut to `max_tokens` as the transformers path cuts them."""
        return [e.ids for e in self._cut.encode_batch(texts)]


class LlamaCppEncoder:
    """Pooled (mean, as the GGUF says), L2-normalised vectors of texts on llama.cpp. One call at a time
    (a lock): requests on the server's worker threads share one context."""

    def __init__(self, gguf: Path, tokenizer: WordPieceTokenizer, threads: int | None = None,
                 batch_tokens: int = 256):
        passive_omp_threads()  # before libgomp loads with llama.cpp
        import llama_cpp
        from llama_cpp import _internals

        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        self._llama = llama_cpp
        self.tokenizer = tokenizer
        try:
            self._model = _internals.LlamaModel(path_model=str(gguf), params=llama_cpp.llama_model_default_params(),
                                                verbose=False)
        except ValueError as exc:
            raise BotkitError(f"llama.cpp cannot load {gguf}: {exc}") from exc
        self.dimension = self._model.n_embd()
        # Non-causal attention: a sequence's tokens must all be in one micro-batch, so the micro-batch is
        # the whole batch, several short texts in it as separate sequences. Attention spans the whole
        # micro-batch (other sequences masked out), so it costs tokens^2: 256 tokens (the longest text)
        # embedded short questions and chunks as fast as 512 or faster (1 thread, loaded machine), and
        # 2048 would take 200 MB of attention scores.
        self._batch_tokens = batch_tokens
        self._max_seqs = 32
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = batch_tokens
        params.n_seq_max = self._max_seqs
        params.kv_unified = True
        params.embeddings = True
        params.n_threads = params.n_threads_batch = cpu_threads(threads)
        params.no_perf = True
        self._ctx = _internals.LlamaContext(model=self._model, params=params, verbose=False)
        self._batch = _internals.LlamaBatch(n_tokens=batch_tokens, embd=0, n_seq_max=self._max_seqs, verbose=False)
        self._lock = threading.Lock()

    def use_threads(self, threads: int) -> None:
        with self._lock:
            self._llama.llama_set_n_threads(self._ctx.ctx, threads, threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        inputs = self.tokenizer.model_inputs(texts)
        with self._lock:
            group: list[int] = []
            used = 0
            for i, ids in enumerate(inputs):
                if group and (used + len(ids) > self._batch_tokens or len(group) == self._max_seqs):
                    self._run(group, inputs, vectors)
                    group, used = [], 0
                group.append(i)
                used += len(ids)
            if group:
                self._run(group, inputs, vectors)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _run(self, group: list[int], inputs: list[list[int]], vectors: np.ndarray) -> None:
        self._batch.reset()
        for seq, i in enumerate(group):
            self._batch.add_sequence(inputs[i], seq, True)  # every token an output: pooling reads them all
        self._ctx.kv_cache_clear()
        self._ctx.decode(self._batch)
        for seq, i in enumerate(group):
            pointer = self._llama.llama_get_embeddings_seq(self._ctx.ctx, seq)
            vectors[i] = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)),
                                               shape=(self.dimension,))
