"""The features every classifier sees: texts, languages, sentences, lemmas, vectors.

One ``Features`` object describes a batch of comments. It is built once per
batch (spaCy, then the encoder over comments and their sentences) and handed
to the label and tone classifiers, so the encoder body and the classifier head
stay separate, as in setfit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .encoding import Encoder, Progress
from .text import ProcessedText, TextProcessor


@dataclass
class Features:
    texts: list[str]
    languages: list[str]
    processed: list[ProcessedText]
    embeddings: np.ndarray  # (n, d): one vector per comment
    sentence_embeddings: np.ndarray  # (m, d): one vector per sentence
    sentence_owner: np.ndarray  # (m,): the comment each sentence belongs to
    # Results computed once per batch and shared by the heads that need them
    # (cue matches, similarities), keyed by the component that made them.
    cache: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    def memo(self, name: str, owner: object, compute: Any) -> Any:
        key = (name, id(owner))
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def __len__(self) -> int:
        return len(self.texts)

    def sentences(self, i: int) -> list[str]:
        return self.processed[i].sentences

    def subset(self, index: np.ndarray | list[int]) -> Features:
        index = np.asarray(index, dtype=int)
        keep = np.isin(self.sentence_owner, index)
        remap = {old: new for new, old in enumerate(index)}
        return Features(
            texts=[self.texts[i] for i in index],
            languages=[self.languages[i] for i in index],
            processed=[self.processed[i] for i in index],
            embeddings=self.embeddings[index],
            sentence_embeddings=self.sentence_embeddings[keep],
            sentence_owner=np.array([remap[o] for o in self.sentence_owner[keep]], dtype=int),
        )


def build_features(
    texts: list[str],
    languages: list[str],
    encoder: Encoder,
    processor: TextProcessor | None = None,
    progress: Progress | None = None,
    max_sentences: int = 12,
) -> Features:
    """Process and encode a batch of comments (and the sentences of longer ones)."""
    processor = processor or TextProcessor()
    processed = processor.process(texts, languages)
    if progress:
        progress("sentences", len(texts), len(texts))
    # A one-sentence comment is its own sentence: no second vector needed.
    groups = [item.sentences if len(item.sentences) > 1 else [] for item in processed]
    in_context = getattr(encoder, "encode_in_context", None)
    if in_context is not None:
        # One forward pass gives the comment and its sentences (see
        # UniversalSentenceEncoder.encode_in_context): no second encoding.
        comment_vectors, all_sentences = in_context(list(texts), groups, progress)
        keep = np.array([k < max_sentences for group in groups for k in range(len(group))], dtype=bool)
        sentence_vectors = all_sentences[keep] if len(keep) else all_sentences
    else:
        flat = [sentence for group in groups for sentence in group[:max_sentences]]
        vectors = encoder.encode(list(texts) + flat, progress)
        comment_vectors, sentence_vectors = vectors[: len(texts)], vectors[len(texts) :]
    owners = [i for i, group in enumerate(groups) for _ in group[:max_sentences]]
    return Features(
        texts=list(texts),
        languages=list(languages),
        processed=processed,
        embeddings=comment_vectors,
        sentence_embeddings=sentence_vectors,
        sentence_owner=np.asarray(owners, dtype=int),
    )
