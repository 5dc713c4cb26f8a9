from __future__ import annotations

import pytest

from analyser.errors import ConfigurationError
from analyser.language import FixedLanguage, Py3LangidDetector, make_detector
from analyser.text import TextProcessor, is_placeholder, normalise


def test_normalise_entities_bullets_and_whitespace() -> None:
    raw = "R&amp;amp;D  en\u00a0Sales\u200b werken langs elkaar heen<br>• punt een\r\n  – punt twee \n\n1. nummer een"
    assert normalise(raw) == "R&D en Sales werken langs elkaar heen\npunt een\npunt twee\nnummer een"
    assert normalise("") == ""
    # A leading minus that is not a list bullet stays a sentence, without the dash.
    assert normalise("- meer overleg graag") == "meer overleg graag"


@pytest.mark.parametrize("text", ["n.v.t.", "-", "N/A", "Geen opmerkingen.", "nothing to add", "???", "0", "xxx"])
def test_placeholders(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize("text", ["Goed bezig", "Nee, niemand luistert", "No trust at all", "Meer uitleg"])
def test_real_answers_are_not_placeholders(text: str) -> None:
    assert not is_placeholder(text)


def test_sentences_lemmas_and_stop_words_per_language() -> None:
    processed = TextProcessor().process(
        [
            "Er is niets gedaan met de uitkomsten. Beloftes worden niet nagekomen!\nhet MT is gemaakt",
            "Promises were broken. Nobody asked us",
        ],
        ["nl", "en"],
    )
    dutch, english = processed
    assert dutch.sentences == [
        "Er is niets gedaan met de uitkomsten.",
        "Beloftes worden niet nagekomen!",
        "het MT is gemaakt",
    ]
    lemmas = dutch.lemmas()
    # simplemma fills what spaCy's lookup table misses (is -> zijn, gemaakt -> maken)
    assert {"zijn", "doen", "uitkomst", "belofte", "nakomen", "maken"} <= set(lemmas)
    assert "de" not in dutch.content_lemmas() and "belofte" in dutch.content_lemmas()
    assert english.sentences == ["Promises were broken.", "Nobody asked us"]
    assert {"promise", "break", "ask"} <= set(english.lemmas())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Meer duidelijkheid graag", "nl"),
        ("MT luistert niet", "nl"),
        ("Goed bezig!", "nl"),
        ("de roadmap is niet clear", "nl"),
        ("Amai, da's ne plezante ploeg hier", "nl"),
        ("Management never listens", "en"),
        ("The roadmap is not clear at all", "en"),
        ("no idea", "en"),
        ("Wir werden nie gefragt, das ist wirklich schade.", "de"),
        ("La direction ne communique jamais avec nous.", "fr"),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert Py3LangidDetector().detect([text])[0].language == language


def test_fixed_language_and_bad_choice() -> None:
    assert isinstance(make_detector("nl"), FixedLanguage)
    assert make_detector("en").detect(["Wir werden nie gefragt"])[0].language == "en"
    with pytest.raises(ConfigurationError, match="Use auto, nl or en"):
        make_detector("de")


def test_one_pass_language_detection_matches_py3langid() -> None:
    # The detector reuses one scan of the text for both questions; py3langid's
    # own two-model route must give the same answers.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    texts = [
        "Onze leidinggevende luistert nooit naar ons.",
        "Management never listens to us.",
        "Das ist ein ganz normaler deutscher Satz über die Arbeit hier.",
        "C'est une phrase en français sur le travail ici.",
        "ok",
        "",
        "Top!",
    ]
    fast = Py3LangidDetector()
    assert fast.detect(["warm"]) and fast._fast
    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    restricted = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    restricted.set_languages(["nl", "en"])
    for text, guess in zip(texts, fast.detect(texts)):
        expected = None
        if len(text.split()) >= fast.min_words_for_other:
            top, probability = full.classify(text)
            if top not in ("af", "fy", "li", "lb", "nl", "en") and probability >= fast.other_confidence:
                expected = (top, probability)
        expected = expected or restricted.classify(text)
        assert guess.language == expected[0], text
        assert guess.confidence == pytest.approx(expected[1], abs=1e-5)


def test_line_breaks_end_sentences_and_lemmas_need_no_lemmatizer_pipe() -> None:
    from analyser.text import load_pipeline

    assert "lemmatizer" not in load_pipeline("nl").pipe_names
    item = TextProcessor().process(["Eerste punt\nTweede punt zonder punt\nHet werd beloofd."], ["nl"])[0]
    assert item.sentences == ["Eerste punt", "Tweede punt zonder punt", "Het werd beloofd."]
    assert ("beloofd", "beloven", False, True) in item.tokens[2]


def test_spacy_loads_without_torch_and_torch_stays_importable() -> None:
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("torch")
    code = (
        "import sys\n"
        "from analyser.text import TextProcessor\n"
        "TextProcessor().process(['Goed werk.'], ['nl'])\n"
        "assert 'torch' not in sys.modules, 'spaCy pulled in torch'\n"
        "import torch\n"
        "print(torch.tensor([1.0]).sum().item())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0"


def test_lemma_table_read_directly_equals_spacy_lookups() -> None:
    from spacy.lookups import load_lookups

    from analyser.text import lemma_table

    for language in ("nl", "en"):
        mine = lemma_table(language)
        reference = load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")
        assert len(mine) == len(reference)
        for key in list(mine)[::97]:
            assert reference.get(key) == mine[key], key


def test_loading_from_two_threads_reads_each_language_once() -> None:
    import threading

    from analyser import text

    text.load_pipeline.cache_clear()
    text._LOADED.clear()
    threads = [threading.Thread(target=text.preload, args=(("nl",),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert text.load_pipeline.cache_info().misses == 1
    item = TextProcessor().process(["Het werd beloofd. Niets gebeurd."], ["nl"])[0]
    assert item.sentences == ["Het werd beloofd.", "Niets gebeurd."]
    assert text.load_pipeline.cache_info().misses == 1


def test_sentences_follow_spacys_sentencizer() -> None:
    import spacy

    texts = [
        "Wat?! Echt... nee. Dr. Jansen zei bijv. niks! En nu?",
        "Beloofd (in maart). Niets gebeurd!! Waarom ??? Geen idee.",
        "They said 'soon.' It never came. e.g. the bonus; i.e. nothing!",
    ]
    for language in ("nl", "en"):
        reference = spacy.blank(language)
        reference.add_pipe("sentencizer")
        for text in texts:
            expected = [span.text.strip() for span in reference(text).sents if span.text.strip()]
            assert TextProcessor().process([text], [language])[0].sentences == expected
