"""Rejection sampling for the warm start of `botkit train rl --reward grounding` (ReST / RAFT / expert
iteration): sample K drafts of each grounded training chat from the current model, keep the ones the grounding
reward pays its top tier (shown in the model's own checked words, saying and citing the fact, short, no copy),
cut to what chat shows, as SFT completions beside the phrasing targets."""

from __future__ import annotations

import json
import re

from botkit.decoding import DecodingOptions
from botkit.feedback.training.data import as_chat
from botkit.feedback.training.rewards import SHORT_WORDS, judge_draft

# A sentence ends at . ! or ? followed by a space, unless citations of it follow ("... 1.7 liters. [1]").
SHOWN_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![a-z]\.[a-z]\.)\s+(?!\[\d)")
# A whole sentence: it ends at . ! or ?, its citations after it (a draft cut at the token limit is not).
WHOLE = re.compile(r"[.!?](?:\s*\[\d+\])*\.?$")


def shown_part(draft: str, sentences: int = 1) -> str:
    """The draft's first `sentences` sentences with their citations, as the model wrote them: what chat shows of
    it (the rest is never seen, and training on it would teach the model to keep writing)."""
    first = draft.strip().split("\n\n")[0]
    return " ".join(SHOWN_SENTENCE_END.split(first, maxsplit=sentences)[:sentences]).strip()


def sampling_engine(spec: str, settings, k: int):
    """The engine drafts are sampled on: llama.cpp when `spec` (a model or a version) has a GGUF, with up to `k`
    copies of a chat decoded together after one read of its prompt; else transformers. The weights are the
    same either way (the default model is the GGUF transformers de-quantizes)."""
    from botkit.models.loading import llamacpp_installed, load_engine, resolve_gguf

    engine = "llamacpp" if llamacpp_installed() and resolve_gguf(spec, settings.cache_dir)[0] else "transformers"
    engines = settings.engines.model_copy(update={
        "llamacpp": settings.engines.llamacpp.model_copy(update={"max_batch": min(max(k, 1), 64)})})
    settings = settings.model_copy(update={"engines": engines})
    return load_engine(spec, settings.cache_dir, engine=engine, settings=settings)


def sample_drafts(engine, rows: list[dict], k: int, options: DecodingOptions, progress: bool = True) -> list[list[str]]:
    """`k` sampled drafts for each row's chat (`prompt`), seeded per row so a rerun samples the same drafts."""
    from tqdm import tqdm

    drafts = []
    seed = options.seed or 0
    for i, row in enumerate(tqdm(rows, desc="Sampling drafts", unit="chat", disable=not progress)):
        chats = [as_chat(row["prompt"])] * k
        drafts.append([g.text for g in engine.generate_batch(chats, options.merged(seed=seed + i * k))])
    return drafts


def top_tier(row: dict, drafts: list[str], embedder, answer_sentences: int = 1, keep: int = 2) -> list[str]:
    """Up to `keep` distinct drafts of a grounded `row` the grounding reward pays in full, each cut to its
    `shown_part`: the real grounding check shows it in the model's words, it says the fact and cites a source
    holding it, it is no copy of a source sentence, it is whole (not cut at the token limit) and at most SHORT_WORDS
    words. Shortest first."""
    data = json.loads(row["sources"])
    kept = []
    for text in sorted({shown_part(d, answer_sentences) for d in drafts if d.strip()}, key=len):
        if len(kept) == keep:
            break
        if not WHOLE.search(text) or len(text.split()) > SHORT_WORDS:
            continue
        verdict = judge_draft(data, text, embedder, answer_sentences)
        if verdict["phrased"] and verdict["cites_fact"]:
            kept.append(text)
    return kept


def sampled_examples(rows: list[dict], drafts: list[list[str]], embedder, answer_sentences: int = 1,
                     keep: int = 2, progress: bool = True) -> tuple[list[dict], dict]:
    """SFT rows (the serving chat whole, a kept draft as the completion) from each grounded row's sampled
    `drafts`, and what was kept: drafts sampled, kept, chats with at least one kept."""
    from tqdm import tqdm

    out, chats = [], 0
    bar = tqdm(list(zip(rows, drafts)), desc="Checking drafts", unit="chat", disable=not progress)
    for row, sampled in bar:
        kept = top_tier(row, sampled, embedder, answer_sentences, keep)
        chats += bool(kept)
        bar.set_postfix(kept=len(out) + len(kept), chats=chats)
        out += [{"prompt": row["prompt"], "completion": text, "question": row["question"], "sources": row["sources"]}
                for text in kept]
    return out, {"sampled": sum(map(len, drafts)), "kept": len(out), "chats_with_kept": chats, "chats": len(rows)}
