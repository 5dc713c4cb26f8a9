from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyser import analyse
from analyser.errors import ConfigurationError
from analyser.pipeline import STATUSES

from .conftest import write


def test_sample_survey_every_row_in_order_with_status(sample_result, sample_path) -> None:  # type: ignore[no-untyped-def]
    source = pd.read_csv(sample_path, comment=None, skiprows=1, dtype=str, keep_default_na=False)
    comments = sample_result.comments
    assert len(comments) == len(source) >= 300
    assert comments["id"].tolist() == source["respondent_id"].tolist()
    assert comments["row"].tolist() == list(range(1, len(source) + 1))
    assert set(comments["status"]) <= set(STATUSES)
    for column in ("team", "department", "wave"):
        assert comments[column].tolist() == source[column].tolist()
    expected = [
        "id",
        "row",
        "team",
        "department",
        "wave",
        "text",
        "language",
        "status",
        "status_detail",
        "duplicate_of",
        "dimensions",
        "areas",
        "tone",
    ]
    assert list(comments.columns[: len(expected)]) == expected
    assert [c for c in comments.columns if c.startswith("score_")] == [
        f"score_{k}" for k in sample_result.taxonomy.keys
    ]
    labelled = comments[comments["status"].isin(["ok", "duplicate"])]
    assert set(labelled["language"]) == {"nl", "en"}
    assert labelled[[c for c in comments.columns if c.startswith("score_")]].notna().all().all()
    assert set(labelled["tone"]) <= {"positive", "negative", "mixed", "neutral"}
    # The sample's messy rows get the statuses they deserve.
    assert {"empty", "no_content", "unsupported_language", "duplicate"} <= set(comments["status"])
    unsupported = comments[comments["status"] == "unsupported_language"]
    assert set(unsupported["language"]) == {"de", "fr"}
    assert (comments.loc[comments["status"] == "empty", "dimensions"] == "").all()
    meta = sample_result.metadata
    assert meta.encoder["name"] == "use-multilingual"
    assert meta.taxonomy["version"].startswith("1.0+")
    assert meta.counts["ok"] > 300 and sum(meta.counts.values()) == len(comments)
    assert meta.timings["total"] > 0
    assert sample_result.embeddings.shape == (len(comments), 512)
    assert np.isnan(sample_result.embeddings[comments["status"].eq("empty").to_numpy()]).all()


def test_every_label_occurs_on_the_sample(sample_result) -> None:  # type: ignore[no-untyped-def]
    counts = sample_result.label_counts()
    assert all(counts[key] > 0 for key in counts), counts


def test_semicolon_cp1252_copy_gives_the_same_labels(analyser, sample_result, sample_path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = sample_path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text.split("\n", 1)[1])))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    path = tmp_path / "survey_excel_nl.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252", errors="replace"))
    again = analyse(path, analyser=analyser)
    assert again.metadata.input["encoding"] == "cp1252" and again.metadata.input["delimiter"] == ";"
    columns = ["id", "status", "dimensions", "areas", "tone"]
    pd.testing.assert_frame_equal(again.comments[columns], sample_result.comments[columns])


def test_unmistakable_comments_end_to_end(analyser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "s.csv",
        "id,comment\n"
        'a,"Onze directeur belooft van alles maar komt zijn beloftes nooit na, er wordt niets gedaan met de enquête."\n'
        'b,"Nobody tells us anything, we hear about every decision through the grapevine."\n'
        'c,"Ik krijg nooit een bedankje of compliment, mijn harde werk wordt niet gezien."\n'
        'd,"We were never asked for our input, the new roster was imposed from above."\n'
        'e,"De koffieautomaat op de tweede verdieping is al weken kapot."\n',
    )
    result = analyse(path, analyser=analyser)
    frame = result.comments.set_index("id")
    assert "reliability" in frame.loc["a", "dimensions"].split(";")
    assert "transparency" in frame.loc["b", "dimensions"].split(";")
    assert "recognition" in frame.loc["c", "dimensions"].split(";")
    assert "inclusive_decisions" in frame.loc["d", "dimensions"].split(";")
    assert frame.loc["e", "dimensions"] == "" and frame.loc["e", "areas"] == ""
    assert (frame.loc[["a", "b", "d"], "tone"] == "negative").all()
    assert frame.loc["a", "language"] == "nl" and frame.loc["b", "language"] == "en"
    assert "beloftes" in frame.loc["a", "evidence"] and "grapevine" in frame.loc["b", "evidence"]


def test_forced_language_and_unknown_setting(analyser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "s.csv", "comment\nWir werden nie gefragt, das ist wirklich schade und traurig.\n")
    assert analyse(path, analyser=analyser).comments["status"].tolist() == ["unsupported_language"]
    forced = analyse(path, language="nl", use_cache=False)
    assert forced.comments["status"].tolist() == ["ok"] and forced.comments["language"].tolist() == ["nl"]
    with pytest.raises(ConfigurationError, match="Unknown setting 'colour'"):
        analyse(path, colour="red")


def test_two_hundred_thousand_rows_are_handled(analyser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    phrases = [
        "Niemand vertelt ons waarom besluiten genomen worden",
        "Management never keeps its promises",
        "Fijne collega's en een goede sfeer",
        "",
        "n.v.t.",
    ]
    n = 200_000
    frame = pd.DataFrame(
        {
            "id": [f"x{i}" for i in range(n)],
            "team": [f"T{i % 40}" for i in range(n)],
            # Every comment is unique, so nothing is skipped as a duplicate.
            "comment": [f"{phrases[i % 5]} ({i})" if phrases[i % 5] else "" for i in range(n)],
        }
    )
    path = tmp_path / "big.csv"
    frame.iloc[:n].to_csv(path, index=False)
    from analyser.reading import read_survey

    started = time.perf_counter()
    table = read_survey(path)
    assert len(table.frame) == n and table.frame["id"].iloc[-1] == "x199999"
    assert time.perf_counter() - started < 60
