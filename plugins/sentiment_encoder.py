"""SetFit's first stage for the sentiment classifier: contrastive fine-tuning of the MiniLM encoder on
pairs of labelled texts, saved beside the head, and the embedder that runs the tuned copy.

sentence-transformers is imported only here, inside `tune_encoder`: serving runs MiniLM on
transformers' AutoModel (`botkit.embeddings`), and so does the tuned copy.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from botkit.embeddings import EMBEDDING_MODEL, Embedder, embedding_model_path
from botkit.errors import BotkitError

ENCODER_DIR = "encoder"
TUNED_NAME = f"{EMBEDDING_MODEL} (fine-tuned)"


@dataclass
class EncoderTuneConfig:
    loss: str = field(
        default="triplets",
        metadata={"help": "triplets: every same-/other-label triplet in a batch (BatchAllTripletLoss, each text "
                          "encoded once an epoch); pairs: SetFit's sampled pairs with CosineSimilarityLoss."})
    pairs_per_text: int = field(
        default=4, metadata={"help": "Sentence pairs built per training text, half same-label, half not."})
    epochs: int = field(default=3, metadata={"help": "Passes over the texts (triplets) or the pairs."})
    batch_size: int = field(default=16, metadata={"help": "Texts (triplets) or pairs per optimiser step."})
    max_seq_length: int = field(default=64, metadata={"help": "Tokens kept per text while tuning (tweets fit)."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate of the encoder."})
    seed: int = field(default=0, metadata={"help": "Seed of the pair sampling and of training."})


def sentence_pairs(texts: list[str], labels: list[str], pairs_per_text: int, seed: int = 0) -> dict[str, list]:
    """SetFit's pair sampling: each text is paired with `pairs_per_text` others, alternately one of
    its own label (target similarity 1) and one of another label (0), so the two kinds are balanced
    whatever the class sizes."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    pairs: dict[str, list] = {"sentence1": [], "sentence2": [], "label": []}
    for i, label in enumerate(labels):
        others = [j for other, idx in by_label.items() if other != label for j in idx]
        for k in range(pairs_per_text):
            same = k % 2 == 0
            j = rng.choice(by_label[label] if same else others)
            pairs["sentence1"].append(texts[i])
            pairs["sentence2"].append(texts[j])
            pairs["label"].append(float(same))
    return pairs


def tune_encoder(texts: list[str], labels: list[str], out_dir: Path, config: EncoderTuneConfig | None = None,
                 on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Fine-tune MiniLM so that same-label texts embed close and others apart, save it under
    `out_dir/encoder` and return that directory. `on_progress(step, steps)` after each optimiser step."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer import losses
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback

    config = config or EncoderTuneConfig()
    if config.loss not in ("triplets", "pairs"):
        raise BotkitError(f"loss {config.loss!r} is not one of triplets, pairs")
    model = SentenceTransformer(embedding_model_path(), local_files_only=True)
    model.max_seq_length = config.max_seq_length
    if config.loss == "pairs":
        data = Dataset.from_dict(sentence_pairs(texts, labels, config.pairs_per_text, config.seed))
        loss, sampler = losses.CosineSimilarityLoss(model), BatchSamplers.BATCH_SAMPLER
    else:  # batches hold several texts of each label, so every batch has triplets
        ids = {label: i for i, label in enumerate(sorted(set(labels)))}
        data = Dataset.from_dict({"text": list(texts), "label": [ids[label] for label in labels]})
        loss = losses.BatchAllTripletLoss(model, losses.BatchHardTripletLossDistanceFunction.cosine_distance,
                                          margin=0.25)
        sampler = BatchSamplers.GROUP_BY_LABEL

    class Progress(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if on_progress:
                on_progress(state.global_step, state.max_steps)

    with tempfile.TemporaryDirectory() as scratch:  # the trainer wants an output dir; nothing is kept there
        args = SentenceTransformerTrainingArguments(
            output_dir=scratch, num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
            learning_rate=config.learning_rate, warmup_steps=0.1, seed=config.seed, save_strategy="no",
            report_to="none", disable_tqdm=True, logging_strategy="no", batch_sampler=sampler,
            dataloader_pin_memory=False)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss,
                                             callbacks=[Progress()])
        trainer.remove_callback(PrinterCallback)  # it prints the run's summary on stdout, where --json goes
        trainer.train()
    encoder = Path(out_dir) / ENCODER_DIR
    model.save(str(encoder))
    return encoder


class TunedEmbedder(Embedder):
    """`Embedder` over a tuned copy of MiniLM saved by `tune_encoder` (same pooling, same vectors
    for the same weights)."""

    name = TUNED_NAME

    def __init__(self, path: Path | str, device: str | None = None):
        weights = Path(path, "model.safetensors")
        if not weights.exists():
            raise BotkitError(f"{path} has no fine-tuned encoder weights (model.safetensors): train the model again")
        super().__init__(device, path=str(Path(path).resolve()), stamp=weights.stat().st_mtime)
