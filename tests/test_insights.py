from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analyser.actions import load_playbook, plan_actions, rank_dimensions
from analyser.privacy import group_breakdown
from analyser.reports import build_report, render_html, render_markdown, t, write_report
from analyser.themes import OTHER, ThemeFinder

DIMENSIONS = ["transparency", "reliability", "empathy", "recognition", "inclusive_decisions"]
AREAS = ["collaboration", "culture", "engagement", "change", "retention"]


def _comments(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": f"c{i}", "dimensions": d, "areas": a, "tone": t, "status": "ok"} for i, (d, a, t) in enumerate(rows)]
    )


def test_ranking_weighs_negative_double_and_counts_areas_at_risk() -> None:
    rows = (
        [("reliability", "retention", "negative")] * 4  # 4 negative, all with an area at risk
        + [("transparency", "", "positive")] * 6
        + [("transparency", "", "negative")] * 2
        + [("empathy", "", "negative")] * 4  # as many negatives as reliability, no area
        + [("recognition", "", "mixed")] * 3
        + [("", "", "neutral")] * 1
    )
    standings = {s.key: s for s in rank_dimensions(_comments(rows), DIMENSIONS, AREAS)}
    order = [s.key for s in rank_dimensions(_comments(rows), DIMENSIONS, AREAS)]
    n = len(rows)
    assert standings["reliability"].stake == pytest.approx(2 * 4 / n, abs=1e-4)
    assert standings["reliability"].at_risk == pytest.approx(4 / n, abs=1e-4)
    assert standings["reliability"].areas_at_risk == {"retention": 4}
    assert standings["transparency"].stake == pytest.approx((2 * 2 - 0.5 * 6) / n, abs=1e-4)
    assert standings["transparency"].balance == pytest.approx((6 - 2 * 2) / 8, abs=1e-4)
    # Benefit areas at risk break the tie between equally negative dimensions.
    assert order[:2] == ["reliability", "empathy"]
    # Eight comments, mostly praise, weigh less than three mixed ones.
    assert order.index("recognition") < order.index("transparency")
    assert standings["inclusive_decisions"].priority == 0 and order[-1] == "inclusive_decisions"


def test_group_suppression_thresholds() -> None:
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(20)],
            "row": list(range(1, 21)),
            "team": ["Small"] * 3 + ["Five"] * 5 + ["Large"] * 12,
            "dimensions": ["transparency"] * 20,
            "areas": [""] * 20,
            "tone": ["negative"] * 20,
            "status": ["ok"] * 20,
        }
    )
    breakdown = group_breakdown(frame, "team", DIMENSIONS + AREAS)
    rows = {r.group: r for r in breakdown.rows}
    assert rows["Small"].suppressed and rows["Small"].label_counts == {}
    assert not rows["Five"].suppressed and not rows["Five"].quotes_allowed
    assert rows["Five"].label_counts["transparency"] == 5
    assert rows["Large"].quotes_allowed
    assert [r.group for r in breakdown.suppressed] == ["Small"]
    stricter = group_breakdown(frame, "team", DIMENSIONS, min_group_size=6, min_quote_size=15)
    assert {r.group for r in stricter.suppressed} == {"Small", "Five"}
    assert not any(r.quotes_allowed for r in stricter.rows)
    # Respondents, not comments: two open questions of one person are one respondent.
    doubled = pd.concat([frame, frame]).reset_index(drop=True)
    assert {r.group: r.respondents for r in group_breakdown(doubled, "team", DIMENSIONS).rows}["Five"] == 5


@pytest.fixture(scope="module")
def themes(sample_result):  # type: ignore[no-untyped-def]
    return ThemeFinder().find(sample_result)


def test_themes_cover_every_label_with_verbatim_quotes(sample_result, themes) -> None:  # type: ignore[no-untyped-def]
    comments = sample_result.comments.set_index("id")
    for key in [*sample_result.taxonomy.keys, OTHER]:
        assert themes[key], key
        for theme in themes[key]:
            assert theme.size == len(theme.comment_ids) and sum(theme.tone_counts.values()) == theme.size
            assert 1 <= len(theme.quotes) <= 3
            # Named by shared phrases, or said to have none (never a blank name).
            assert theme.name("nl") and theme.name("en")
            assert theme.key_phrases or theme.name("en") == t("theme_no_shared_phrase", "en")
            assert len({q.comment_id for q in theme.quotes}) == len(theme.quotes)
            for quote in theme.quotes:
                assert quote.comment_id in theme.comment_ids
                assert quote.text in comments.loc[quote.comment_id, "text"]  # verbatim
            for comment_id in theme.comment_ids:
                labels = set(f"{comments.loc[comment_id, 'dimensions']};{comments.loc[comment_id, 'areas']}".split(";"))
                assert key in labels if key != OTHER else labels == {""}
    languages = {q.language for key in DIMENSIONS for th in themes[key] for q in th.quotes}
    assert languages == {"nl", "en"}
    every = [th for key in themes for th in themes[key]]
    assert sum(bool(th.key_phrases) for th in every) >= 0.8 * len(every)  # most themes share words


def test_themes_are_deterministic(sample_result, themes) -> None:  # type: ignore[no-untyped-def]
    again = ThemeFinder().find(sample_result)
    assert {k: [t.to_dict() for t in v] for k, v in again.items()} == {
        k: [t.to_dict() for t in v] for k, v in themes.items()
    }


def test_action_plan_cites_existing_comments_and_themes(sample_result, themes) -> None:  # type: ignore[no-untyped-def]
    playbook = load_playbook()
    for key in DIMENSIONS:
        assert len(playbook.for_dimension(key)) >= 5
        assert playbook.keep_doing[key]["nl"] and playbook.keep_doing[key]["en"]
    plan = plan_actions(sample_result, themes)
    comments = sample_result.comments.set_index("id")
    assert plan.actions
    assert {s.key for s in plan.standings} == set(DIMENSIONS)
    for suggestion in plan.actions:
        assert suggestion.comment_ids
        for comment_id in suggestion.comment_ids:
            assert suggestion.dimension in comments.loc[comment_id, "dimensions"].split(";")
            assert comments.loc[comment_id, "tone"] in ("negative", "mixed")
        for key, index in suggestion.themes:
            theme = next(t for t in themes[key] if t.index == index)
            assert set(suggestion.comment_ids) & set(theme.comment_ids)
        assert suggestion.action.title["nl"] and suggestion.action.title["en"]
    # The most troubled dimension gets actions first.
    assert plan.actions[0].dimension == plan.standings[0].key
    # A team's own plan only cites that team's comments.
    team = sample_result.comments["team"] == "Magazijn Noord"
    team_plan = plan_actions(sample_result, themes, scope=team, scope_name="Magazijn Noord")
    team_ids = set(sample_result.comments.loc[team, "id"])
    assert all(set(a.comment_ids) <= team_ids for a in team_plan.actions)


def test_report_on_the_sample(sample_result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = build_report(sample_result, group_column="team", language="nl")
    suppressed = [r.group for r in report.groups.suppressed]
    assert suppressed == ["Juridische Zaken"]
    page = render_html(report)
    assert "Juridische Zaken" in page and "verborgen" in page
    assert "<script" not in page.lower()
    for key in DIMENSIONS:
        assert f'id="theme-{key}-1"' in page
    assert "Actieplan" in page and "<svg" in page
    english = render_html(build_report(sample_result, group_column="team", language="en"))
    assert "Action plan" in english and "Transparency" in english
    markdown = render_markdown(report)
    assert "## Actieplan" in markdown
    for suffix in (".html", ".md", ".xlsx"):
        assert write_report(report, tmp_path / f"report{suffix}").stat().st_size > 1000


def test_comment_text_is_escaped_in_reports(analyser) -> None:  # type: ignore[no-untyped-def]
    from analyser import analyse

    texts = [f"<script>alert({i})</script> **niemand** vertelt ons waarom besluiten genomen worden" for i in range(12)]
    result = analyse(pd.DataFrame({"comment": texts}), text_columns="comment", analyser=analyser)
    report = build_report(result)
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;alert(" in page
    assert "\\*\\*niemand\\*\\*" in render_markdown(report)


def test_report_cli(tmp_path: Path, sample_path: Path) -> None:
    out = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analyser",
            "report",
            str(sample_path),
            "--out",
            str(out),
            "--group-column",
            "team",
            "--lang",
            "nl",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "1 group(s) suppressed" in done.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = subprocess.run(
        [sys.executable, "-m", "analyser", "report", str(sample_path), "--out", str(tmp_path / "r.pdf")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "'.pdf'" in bad.stderr and "Traceback" not in bad.stderr


def test_report_for_one_team(sample_result) -> None:  # type: ignore[no-untyped-def]
    from analyser.errors import AnalyserError

    finance = build_report(sample_result, group_column="team", group="Finance", language="nl")
    assert finance.scope == "Finance"
    assert set(finance.result.comments["team"]) == {"Finance"}
    assert finance.plan.strengths, "a mostly positive team has strengths to keep"
    assert all(s.keep_doing["nl"] for s in finance.plan.strengths)
    with pytest.raises(AnalyserError, match="fewer than 5 respondents"):
        build_report(sample_result, group_column="team", group="Juridische Zaken")
    with pytest.raises(AnalyserError, match="no group 'Nope'"):
        build_report(sample_result, group_column="team", group="Nope")
