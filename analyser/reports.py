"""Reports: the analysis, themes, action plan and group breakdown in one document.

``build_report`` gathers everything the web app and the report files show;
``write_report`` renders it as one self-contained HTML file (inline SVG
charts), Markdown, or an Excel workbook. Comment text is always escaped: a
comment is shown as text, never as markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from .actions import ActionPlan, plan_actions
from .assistant import Assistant, AssistantReport
from .errors import AnalyserError
from .export import check_output_path
from .paths import data_dir
from .pipeline import LABELLED_STATUSES, AnalysisResult
from .privacy import DEFAULT_MIN_GROUP_SIZE, DEFAULT_MIN_QUOTE_SIZE, GroupBreakdown, group_breakdown, respondents
from .themes import OTHER, Theme, ThemeFinder

TONE_COLOURS = {"positive": "#2e8b57", "mixed": "#e0a526", "neutral": "#9aa5b1", "negative": "#c0392b"}
REPORT_FORMATS = (".html", ".md", ".xlsx")


@lru_cache(maxsize=1)
def ui_strings() -> dict[str, dict[str, str]]:
    return yaml.safe_load((data_dir() / "ui_strings.yaml").read_text(encoding="utf-8"))


def t(key: str, language: str, **values: object) -> str:
    text = ui_strings()[key][language]
    return text.format(**values) if values else text


def assistant_summary(notes: AssistantReport | None, language: str) -> str:
    """What the LLM assistant did, in the report's language (the CLI prints ``summary_line``)."""
    if notes is None or not notes.enabled:
        return t("llm_off", language)
    calls = notes.calls.values()
    dropped = ", ".join(
        f"{n} {t('llm_reason_' + reason, language) if 'llm_reason_' + reason in ui_strings() else reason}"
        for reason, n in notes.dropped.most_common()
    )
    line = t(
        "llm_summary",
        language,
        model=notes.model,
        suggestions=notes.suggestions,
        asked=notes.asked,
        differ=notes.disagreements,
        themes=len(notes.theme_notes),
        actions=len(notes.actions),
        sent=sum(c.sent for c in calls),
        cached=sum(c.cached for c in calls),
        failed=sum(c.failed for c in calls),
        dropped=dropped or t("llm_dropped_nothing", language),
    )
    return f"{line} {notes.message}".strip()


@dataclass
class Report:
    result: AnalysisResult
    scope: str  # "" for the whole file, else the group reported on
    themes: dict[str, list[Theme]]
    plan: ActionPlan
    groups: GroupBreakdown | None
    language: str
    quotes_allowed: bool
    generated_at: str
    assistant: AssistantReport | None = None  # theme summaries and tailored actions, when an LLM is configured

    def label_name(self, key: str) -> str:
        if key == OTHER:
            return t("other_topics", self.language)
        return self.result.taxonomy.name(key, self.language)

    def theme(self, key: str, index: int) -> Theme:
        return next(th for th in self.themes[key] if th.index == index)


def subset(result: AnalysisResult, mask: pd.Series) -> AnalysisResult:
    """The same analysis restricted to some rows (one team, say)."""
    keep = mask.to_numpy(dtype=bool)
    return AnalysisResult(
        comments=result.comments[keep].reset_index(drop=True),
        metadata=result.metadata,
        taxonomy=result.taxonomy,
        embeddings=None if result.embeddings is None else result.embeddings[keep],
    )


def build_report(
    result: AnalysisResult,
    group_column: str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    min_quote_size: int = DEFAULT_MIN_QUOTE_SIZE,
    language: str = "en",
    theme_finder: ThemeFinder | None = None,
    group: str | None = None,
    assistant: Assistant | None = None,
) -> Report:
    """Themes, action plan and group breakdown; with ``group``, for that group of ``group_column`` only.

    With an ``assistant``, the LLM adds checked theme titles and summaries and
    tailored actions (``report.assistant``); the group names are redacted from
    what it is sent.
    """
    group_names: list[str] = []
    if assistant is not None and group_column and group_column in result.comments:
        group_names = result.comments[group_column].dropna().astype(str).unique().tolist()
    if group is not None:
        if not group_column:
            raise AnalyserError("A group was chosen without a group column.", "Pass --group-column too.")
        breakdown = group_breakdown(result.comments, group_column, result.taxonomy.keys, min_group_size, min_quote_size)
        row = next((r for r in breakdown.rows if r.group == group), None)
        if row is None:
            raise AnalyserError(
                f"There is no group '{group}' in column '{group_column}'.",
                f"Choose one of: {', '.join(repr(r.group) for r in breakdown.rows)}.",
            )
        if row.suppressed:
            raise AnalyserError(
                f"Group '{group}' has fewer than {min_group_size} respondents, so it gets no report of its own "
                "(its people could be recognised).",
                "Report on a larger group or on the whole file.",
            )
        result = subset(result, result.comments[group_column].fillna("").astype(str) == group)
        group_column = None
    themes = (theme_finder or ThemeFinder()).find(result)
    plan = plan_actions(result, themes, scope_name=group or "all comments")
    groups = (
        group_breakdown(result.comments, group_column, result.taxonomy.keys, min_group_size, min_quote_size)
        if group_column
        else None
    )
    report = Report(
        result=result,
        scope=group or "",
        themes=themes,
        plan=plan,
        groups=groups,
        language=language,
        quotes_allowed=respondents(result.comments) >= min_quote_size,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    if assistant is not None:
        helper = assistant.with_terms(group_names)
        report.assistant = result.assistant if result.assistant is not None and not group else helper.new_report()
        helper.describe_themes(report, report.assistant)
        helper.tailor_actions(report, report.assistant)
    return report


# ------------------------------------------------------------------- pieces


def _tone_counts(frame: pd.DataFrame, key: str, column: str) -> dict[str, int]:
    has = frame[column].fillna("").str.split(";").map(lambda ks: key in ks)
    counts = frame.loc[has, "tone"].value_counts()
    return {tone: int(counts.get(tone, 0)) for tone in TONE_COLOURS}


def label_table(result: AnalysisResult, language: str = "en") -> pd.DataFrame:
    """Per label: comments, tone counts and trust balance."""
    labelled = result.comments[result.comments["status"].isin(LABELLED_STATUSES)]
    rows = []
    for label in result.taxonomy.labels:
        column = "dimensions" if label.kind == "dimension" else "areas"
        counts = _tone_counts(labelled, label.key, column)
        n = sum(counts.values())
        rows.append(
            {
                "key": label.key,
                "kind": label.kind,
                "name": label.display(language),
                "comments": n,
                **counts,
                "balance": round((counts["positive"] - 2 * counts["negative"]) / n, 2) if n else None,
            }
        )
    return pd.DataFrame(rows)


def _svg_bars(rows: list[tuple[str, dict[str, int]]], width: int = 560) -> str:
    """Horizontal stacked bars of tone counts, one per row; plain SVG, no script."""
    height = 26 * len(rows) + 30
    top = max([sum(c.values()) for _, c in rows] + [1])
    label_width = 210
    scale = (width - label_width - 40) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for r, (name, counts) in enumerate(rows):
        y = 8 + r * 26
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(name)}</text>')
        x = float(label_width)
        for tone, colour in TONE_COLOURS.items():
            w = counts.get(tone, 0) * scale
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="18" fill="{colour}">'
                    f"<title>{tone}: {counts[tone]}</title></rect>"
                )
                x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}" font-size="11">{sum(counts.values())}</text>')
    legend_y = height - 8
    for k, (tone, colour) in enumerate(TONE_COLOURS.items()):
        parts.append(f'<rect x="{label_width + k * 90}" y="{legend_y - 10}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{label_width + k * 90 + 14}" y="{legend_y}" font-size="11">{tone}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#1d2733}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #e3e7ec;padding-bottom:.2em;margin-top:2em}
.llm{background:#f3f0fa;border-left:3px solid #7b61c9;padding:.3em .6em;margin:.3em 0}
table{border-collapse:collapse;margin:.6em 0} td,th{border:1px solid #d8dee4;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f7} .theme{border:1px solid #e3e7ec;border-radius:6px;padding:.6em 1em;margin:.6em 0}
blockquote{margin:.4em 0;padding:.3em .8em;border-left:3px solid #9aa5b1;background:#f8f9fa;white-space:pre-wrap}
.muted{color:#5b6b7b;font-size:.9em} .action{border-left:4px solid #2e6fb7;padding:.4em 1em;margin:.8em 0;background:#f6f9fd}
.tag{display:inline-block;background:#eef1f4;border-radius:3px;padding:0 .4em;margin-right:.3em;font-size:.85em}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _ids(ids: list[str], shown: int = 12) -> str:
    return ", ".join(ids[:shown]) + (f" (+{len(ids) - shown})" if len(ids) > shown else "")


def _tone_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{tone} {n}" for tone, n in counts.items() if n)


def _themes_html(report: Report, key: str, lines: list[str]) -> None:
    language = report.language
    themes = report.themes.get(key, [])
    if not themes:
        lines.append(f'<p class="muted">{_e(t("no_themes", language))}</p>')
        return
    for theme in themes:
        phrases = theme.key_phrases.get(language) or next(iter(theme.key_phrases.values()), [])
        lines.append(f'<div class="theme" id="theme-{_e(key)}-{theme.index}">')
        lines.append(
            f"<b>{_e(t('theme', language))} {theme.index}: {_e(', '.join(phrases[:3]))}</b> "
            f'<span class="muted">({theme.size} {_e(t("comments", language).lower())}; {_e(_tone_text(theme.tone_counts))})</span>'
        )
        other = {lang: p for lang, p in theme.key_phrases.items() if lang != language and p}
        all_phrases = "; ".join(f"{lang}: {', '.join(p)}" for lang, p in {language: phrases, **other}.items() if p)
        lines.append(f'<div class="muted">{_e(t("key_phrases", language))}: {_e(all_phrases)}</div>')
        note = report.assistant.note_for(key, theme.index) if report.assistant else None
        if note is not None:
            lines.append(
                f'<div class="llm"><b>{_e(note.title)}</b> {_e(note.summary)} <span class="muted">'
                f"({_e(t('llm_theme_note', language, ids=_ids(note.comment_ids)))})</span></div>"
            )
        if report.quotes_allowed:
            for quote in theme.quotes:
                lines.append(
                    f'<blockquote>{_e(quote.text)}<br><span class="muted">— {_e(quote.comment_id)}</span></blockquote>'
                )
        lines.append("</div>")


def render_html(report: Report) -> str:
    language = report.language
    result = report.result
    meta = result.metadata
    table = label_table(report.result, report.language)
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(t('title', language))}</title><style>{_CSS}</style></head><body>",
        f'<h1>{_e(t("title", language))}</h1><p class="muted">{_e(t("subtitle", language))} · '
        f"{_e(Path(meta.input.get('path', '')).name)}{_e(' · ' + report.scope) if report.scope else ''} · "
        f"{_e(t('generated', language))} {_e(report.generated_at)}</p>",
        f"<h2>{_e(t('overview', language))}</h2>",
        f"<p>{_e(t('respondents', language))}: {respondents(result.comments)} · {_e(t('comments', language))}: "
        f"{len(result.comments)} · {_e(t('labelled', language))}: {len(result.labelled)}</p>",
        "<table><tr>"
        + "".join(f"<th>{_e(s)}</th>" for s in meta.counts)
        + "</tr><tr>"
        + "".join(f"<td>{n}</td>" for n in meta.counts.values())
        + "</tr></table>",
    ]
    for kind, title in (("dimension", "dimensions"), ("area", "areas")):
        sub = table[table["kind"] == kind]
        lines.append(f"<h3>{_e(t(title, language))}</h3>")
        lines.append(_svg_bars([(r["name"], {k: int(r[k]) for k in TONE_COLOURS}) for _, r in sub.iterrows()]))
        lines.append(
            f"<table><tr><th></th><th>{_e(t('count', language))}</th><th>{_e(t('tone_mix', language))}</th>"
            f"<th>{_e(t('balance', language))}</th></tr>"
        )
        for _, r in sub.iterrows():
            balance = "" if r["balance"] is None or pd.isna(r["balance"]) else f"{r['balance']:+.2f}"
            lines.append(
                f"<tr><td>{_e(r['name'])}</td><td>{r['comments']}</td>"
                f"<td>{_e(_tone_text({k: int(r[k]) for k in TONE_COLOURS}))}</td><td>{balance}</td></tr>"
            )
        lines.append(f'</table><p class="muted">{_e(t("balance_help", language))}</p>')

    # Action plan first among the details: it is what leaders came for.
    plan = report.plan
    lines.append(f"<h2>{_e(t('action_plan', language))}</h2><h3>{_e(t('at_stake', language))}</h3>")
    lines.append(
        f"<table><tr><th>#</th><th></th><th>{_e(t('priority', language))}</th><th>{_e(t('count', language))}</th>"
        f"<th>{_e(t('negative', language))}</th><th>{_e(t('balance', language))}</th>"
        f"<th>{_e(t('areas_at_risk', language))}</th></tr>"
    )
    for rank, standing in enumerate(plan.standings, start=1):
        risk = ", ".join(f"{report.label_name(a)} ({n})" for a, n in standing.areas_at_risk.items())
        lines.append(
            f"<tr><td>{rank}</td><td>{_e(report.label_name(standing.key))}</td><td>{standing.priority:.3f}</td>"
            f"<td>{standing.comments}</td><td>{standing.tone_counts['negative']}</td>"
            f"<td>{standing.balance:+.2f}</td><td>{_e(risk)}</td></tr>"
        )
    lines.append(f"</table><h3>{_e(t('actions', language))}</h3>")
    for suggestion in plan.actions:
        action = suggestion.action
        themes = ", ".join(
            f'<a href="#theme-{_e(k)}-{i}">{_e(t("theme", language))} {i}: {_e(report.theme(k, i).name(language))}</a>'
            for k, i in suggestion.themes
        )
        lines.append('<div class="action">')
        lines.append(
            f"<b>{_e(action.title.get(language, action.title.get('en', '')))}</b> "
            f'<span class="tag">{_e(report.label_name(suggestion.dimension))}</span>'
            + (f'<span class="tag">{_e(t("general_step", language))}</span>' if suggestion.general else "")
        )
        lines.append(f"<p>{_e(action.steps.get(language, ''))}</p>")
        lines.append(
            f'<p class="muted">{_e(t("motivated_by", language))}: {themes or "—"}; '
            f"{len(suggestion.comment_ids)} {_e(t('comment_ids', language))}: {_e(_ids(suggestion.comment_ids))}"
            + (
                f"; {_e(t('signals', language))}: {_e(', '.join(suggestion.matched_signals))}"
                if suggestion.matched_signals
                else ""
            )
            + "</p>"
        )
        protects = ", ".join(report.label_name(a) for a in action.protects)
        lines.append(
            f'<p class="muted">{_e(t("protects", language))}: {_e(protects)} · {_e(t("success", language))}: '
            f"{_e(action.success_signal.get(language, ''))}</p></div>"
        )
    if report.assistant is not None and report.assistant.actions:
        lines.append(
            f'<h3>{_e(t("llm_actions", language))}</h3><p class="muted">{_e(t("llm_actions_help", language))}</p>'
        )
        for tailored in report.assistant.actions:
            lines.append(
                f'<div class="action llm"><b>{_e(tailored.title)}</b> <span class="tag">'
                f"{_e(report.label_name(tailored.dimension))}</span><p>{_e(tailored.steps)}</p>"
                + (
                    f'<blockquote>{_e(tailored.quote)}<br><span class="muted">— {_e(tailored.quote_id)}</span></blockquote>'
                    if report.quotes_allowed
                    else ""
                )
                + f'<p class="muted">{_e(t("llm_from_playbook", language))} {_e(tailored.playbook_id)}; '
                f"{_e(t('comment_ids', language))}: {_e(_ids(tailored.comment_ids))}</p></div>"
            )
    lines.append(f"<h3>{_e(t('strengths', language))}</h3>")
    if not plan.strengths:
        lines.append(f'<p class="muted">{_e(t("no_strengths", language))}</p>')
    for strength in plan.strengths:
        lines.append(
            f"<p><b>{_e(report.label_name(strength.dimension))}</b> ({strength.positive_share:.0%} positive): "
            f"{_e(strength.keep_doing.get(language, ''))}</p>"
        )
        for build in strength.actions:
            lines.append(
                f'<div class="action"><b>{_e(build.action.title.get(language, ""))}</b>'
                f"<p>{_e(build.action.steps.get(language, ''))}</p>"
                f'<p class="muted">{_e(t("motivated_by", language))}: {len(build.comment_ids)} '
                f"{_e(t('comment_ids', language))}: {_e(_ids(build.comment_ids))}</p></div>"
            )

    if report.groups is not None:
        groups = report.groups
        lines.append(f"<h2>{_e(t('groups', language))}: {_e(groups.column)}</h2>")
        lines.append(
            f'<p class="muted">{_e(t("suppressed_help", language, min=groups.min_group_size, quotes=groups.min_quote_size))} '
            f"{_e(t('suppressed_count', language, n=len(groups.suppressed)))}.</p>"
        )
        dims = [d.key for d in result.taxonomy.dimensions]
        lines.append(
            f"<table><tr><th>{_e(t('group', language))}</th><th>{_e(t('respondents', language))}</th>"
            + "".join(f"<th>{_e(report.label_name(k))}</th>" for k in dims)
            + "</tr>"
        )
        for row in groups.rows:
            if row.suppressed:
                lines.append(
                    f"<tr><td>{_e(row.group)}</td><td>&lt; {groups.min_group_size}</td>"
                    f'<td colspan="{len(dims)}" class="muted">{_e(t("suppressed", language))}</td></tr>'
                )
                continue
            cells = "".join(
                f"<td>{row.label_counts[k]} ({row.label_negative[k]} {_e(t('negative', language))})</td>" for k in dims
            )
            lines.append(f"<tr><td>{_e(row.group)}</td><td>{row.respondents}</td>{cells}</tr>")
        lines.append("</table>")

    lines.append(f"<h2>{_e(t('themes', language))}</h2>")
    if not report.quotes_allowed:
        lines.append(
            f'<p class="muted">{_e(t("illustrative_quotes_hidden", language, quotes=DEFAULT_MIN_QUOTE_SIZE))}</p>'
        )
    for key in [*result.taxonomy.keys, OTHER]:
        lines.append(f"<h3>{_e(report.label_name(key))}</h3>")
        if key == OTHER:
            lines.append(f'<p class="muted">{_e(t("other_topics_help", language))}</p>')
        _themes_html(report, key, lines)

    lines.append(f"<h2>{_e(t('method', language))}</h2><p>{_e(t('method_text', language))}</p>")
    method = [
        ("taxonomy", meta.taxonomy["version"]),
        ("encoder", f"{meta.encoder['name']} {meta.encoder['version']}"),
        ("classifier", f"{meta.classifier['name']} {meta.classifier['version']}"),
        ("tone", f"{meta.tone_classifier['name']} {meta.tone_classifier['version']}"),
        ("thresholds", ", ".join(f"{k} {v:.2f}" for k, v in meta.classifier["thresholds"].items())),
        ("ranking", "priority = max(0, (2·negative + mixed − 0.5·positive) / labelled) + 0.5 · at-risk share"),
        ("analyser", meta.analyser_version),
        (t("llm_assistant", language), assistant_summary(report.assistant, language)),
    ]
    lines.append("<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in method) + "</table>")
    lines.append("</body></html>")
    return "\n".join(lines)


# ----------------------------------------------------------------- Markdown


def escape_markdown(text: object) -> str:
    """Comment text as literal Markdown: markup characters escaped, one line."""
    value = " ".join(str(text).split())
    for char in "\\`*_{}[]<>()#+-!|":
        value = value.replace(char, "\\" + char)
    return value


def render_markdown(report: Report) -> str:
    language = report.language
    result = report.result
    table = label_table(report.result, report.language)
    scope = f" · {report.scope}" if report.scope else ""
    out = [f"# {t('title', language)}", "", f"_{t('subtitle', language)}_{scope} · {report.generated_at}", ""]
    out += [f"## {t('overview', language)}", ""]
    out.append(
        f"{t('respondents', language)}: {respondents(result.comments)} · {t('comments', language)}: "
        f"{len(result.comments)} · " + ", ".join(f"{s} {n}" for s, n in result.metadata.counts.items())
    )
    out += [
        "",
        f"| | {t('count', language)} | {t('tone_mix', language)} | {t('balance', language)} |",
        "|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        balance = "" if r["balance"] is None or pd.isna(r["balance"]) else f"{r['balance']:+.2f}"
        out.append(
            f"| {r['name']} | {r['comments']} | {_tone_text({k: int(r[k]) for k in TONE_COLOURS})} | {balance} |"
        )
    out += ["", f"## {t('action_plan', language)}", "", f"### {t('at_stake', language)}", ""]
    for rank, s in enumerate(report.plan.standings, start=1):
        out.append(
            f"{rank}. **{report.label_name(s.key)}**: {t('priority', language).lower()} {s.priority:.3f}, "
            f"{s.comments} {t('comments', language).lower()}, {s.tone_counts['negative']} {t('negative', language)}"
        )
    out += ["", f"### {t('actions', language)}", ""]
    for suggestion in report.plan.actions:
        action = suggestion.action
        themes = "; ".join(
            f"{t('theme', language)} {i} ({report.theme(k, i).name(language)})" for k, i in suggestion.themes
        )
        out += [
            f"- **{action.title.get(language, '')}** ({report.label_name(suggestion.dimension)})",
            f"  {action.steps.get(language, '')}",
            f"  _{t('motivated_by', language)}: {themes or '—'}; {t('comment_ids', language)}: "
            f"{_ids(suggestion.comment_ids)}_",
            f"  _{t('success', language)}: {action.success_signal.get(language, '')}_",
        ]
    if report.assistant is not None and report.assistant.actions:
        out += ["", f"### {t('llm_actions', language)}", "", f"_{t('llm_actions_help', language)}_", ""]
        for tailored in report.assistant.actions:
            out += [
                f"- **{escape_markdown(tailored.title)}** ({report.label_name(tailored.dimension)})",
                f"  {escape_markdown(tailored.steps)}",
                *([f"  > {escape_markdown(tailored.quote)} — {tailored.quote_id}"] if report.quotes_allowed else []),
                f"  _{t('llm_from_playbook', language)} {tailored.playbook_id}; {t('comment_ids', language)}: "
                f"{_ids(tailored.comment_ids)}_",
            ]
    out += ["", f"### {t('strengths', language)}", ""]
    for strength in report.plan.strengths:
        out.append(f"- **{report.label_name(strength.dimension)}**: {strength.keep_doing.get(language, '')}")
        for build in strength.actions:
            out.append(f"  - {build.action.title.get(language, '')}: {build.action.steps.get(language, '')}")
    if not report.plan.strengths:
        out.append(t("no_strengths", language))
    if report.groups is not None:
        g = report.groups
        out += [
            "",
            f"## {t('groups', language)}: {g.column}",
            "",
            t("suppressed_help", language, min=g.min_group_size, quotes=g.min_quote_size),
            "",
        ]
        for row in g.rows:
            if row.suppressed:
                out.append(f"- {row.group}: {t('suppressed', language)} (< {g.min_group_size})")
            else:
                top = sorted(row.label_negative.items(), key=lambda kv: -kv[1])[:3]
                out.append(
                    f"- {row.group}: {row.respondents} {t('respondents', language).lower()}; {t('negative', language)}: "
                    + ", ".join(f"{report.label_name(k)} {n}" for k, n in top)
                )
    out += ["", f"## {t('themes', language)}", ""]
    for key in [*result.taxonomy.keys, OTHER]:
        out += [f"### {report.label_name(key)}", ""]
        for theme in report.themes.get(key, []):
            out.append(
                f"**{t('theme', language)} {theme.index}: {theme.name(language)}** ({theme.size}; {_tone_text(theme.tone_counts)})"
            )
            out.append("")
            note = report.assistant.note_for(key, theme.index) if report.assistant else None
            if note is not None:
                out += [
                    f"{escape_markdown(note.title)}: {escape_markdown(note.summary)} _({t('llm_theme_note', language, ids=_ids(note.comment_ids))})_",
                    "",
                ]
            if report.quotes_allowed:
                out += [f"> {escape_markdown(q.text)} — {q.comment_id}" + "\n" for q in theme.quotes]
        if not report.themes.get(key):
            out += [t("no_themes", language), ""]
    meta = result.metadata
    out += [
        "",
        f"## {t('method', language)}",
        "",
        t("method_text", language),
        "",
        f"- taxonomy {meta.taxonomy['version']}; encoder {meta.encoder['name']} {meta.encoder['version']}; "
        f"classifier {meta.classifier['name']} {meta.classifier['version']}",
        "- thresholds: " + ", ".join(f"{k} {v:.2f}" for k, v in meta.classifier["thresholds"].items()),
        f"- {t('llm_assistant', language)}: " + assistant_summary(report.assistant, language),
        "",
    ]
    return "\n".join(out)


def render_assistant_markdown(report: Report) -> str:
    """What the LLM assistant added, after its checks: suggestions, theme summaries, tailored actions."""
    from .assistant import suggestions_frame

    language = report.language
    assistant = report.assistant
    out = [
        f"# {t('llm_assistant', language)}",
        "",
        assistant_summary(assistant, language),
        "",
    ]
    if assistant is None:
        return "\n".join(out)
    for task, log in assistant.calls.items():
        if log.errors:
            out += [f"- {task}: " + "; ".join(escape_markdown(e) for e in log.errors)]
    suggestions = suggestions_frame(report.result)
    out += [
        "",
        "## Second opinions",
        "",
        "| id | embedded labels | suggested labels | tone (embedded → suggested) | quotes |",
        "|---|---|---|---|---|",
    ]
    for _, row in suggestions.iterrows():
        embedded = ", ".join(k for k in (row["dimensions"] + ";" + row["areas"]).split(";") if k)
        suggested = ", ".join(k for k in (row["llm_dimensions"] + ";" + row["llm_areas"]).split(";") if k)
        out.append(
            f"| {escape_markdown(row['id'])} | {embedded or '—'} | {suggested or '—'} | {row['tone']} → {row['llm_tone'] or '?'} "
            f"| {escape_markdown(row['llm_quotes']) if report.quotes_allowed else ''} |"
        )
    out += ["", "## Theme summaries", ""]
    for note in assistant.theme_notes.values():
        out.append(
            f"- **{report.label_name(note.label)}, {t('theme', language).lower()} {note.index}: {escape_markdown(note.title)}**: "
            f"{escape_markdown(note.summary)} _({t('llm_theme_note', language, ids=_ids(note.comment_ids))})_"
        )
    out += ["", f"## {t('llm_actions', language)}", "", f"_{t('llm_actions_help', language)}_", ""]
    for tailored in assistant.actions:
        out += [
            f"- **{escape_markdown(tailored.title)}** ({report.label_name(tailored.dimension)}): {escape_markdown(tailored.steps)}",
            *([f"  > {escape_markdown(tailored.quote)} — {tailored.quote_id}"] if report.quotes_allowed else []),
            f"  _{t('llm_from_playbook', language)} {tailored.playbook_id}; {t('comment_ids', language)}: "
            f"{_ids(tailored.comment_ids)}_",
        ]
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------- Excel


def _note_cells(report: Report, key: str, index: int) -> list[str]:
    note = report.assistant.note_for(key, index) if report.assistant else None
    return [note.title, note.summary] if note else ["", ""]


def write_xlsx_report(report: Report, path: Path) -> None:
    from openpyxl import Workbook

    language = report.language
    workbook = Workbook(write_only=True)

    def sheet(title: str, header: list[str], rows: list[list[object]]) -> None:
        ws = workbook.create_sheet(title)
        ws.append(header)
        for row in rows:
            cells = []
            for value in row:
                from openpyxl.cell import WriteOnlyCell

                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula
                cells.append(cell)
            ws.append(cells)

    table = label_table(report.result, report.language)
    sheet("overview", list(table.columns), table.astype(object).where(table.notna(), None).values.tolist())
    sheet(
        "action plan",
        [
            "rank",
            "dimension",
            "priority",
            "comments",
            "negative",
            "balance",
            "action",
            "steps",
            "themes",
            "comment ids",
            "success signal",
        ],
        [
            [
                rank,
                report.label_name(s.key),
                s.priority,
                s.comments,
                s.tone_counts["negative"],
                s.balance,
                a.action.title.get(language, ""),
                a.action.steps.get(language, ""),
                "; ".join(f"{k} {i}" for k, i in a.themes),
                ", ".join(a.comment_ids),
                a.action.success_signal.get(language, ""),
            ]
            for rank, s in enumerate(report.plan.standings, start=1)
            for a in report.plan.actions
            if a.dimension == s.key
        ],
    )
    sheet(
        "themes",
        [
            "label",
            "theme",
            "size",
            "key phrases",
            *TONE_COLOURS,
            "quote 1",
            "quote 2",
            "quote 3",
            "comment ids",
            "assistant title",
            "assistant summary",
        ],
        [
            [
                report.label_name(key),
                th.index,
                th.size,
                "; ".join(f"{lang}: {', '.join(p)}" for lang, p in th.key_phrases.items()),
                *[th.tone_counts.get(tone, 0) for tone in TONE_COLOURS],
                *[(th.quotes[k].text if report.quotes_allowed and k < len(th.quotes) else "") for k in range(3)],
                ", ".join(th.comment_ids),
                *_note_cells(report, key, th.index),
            ]
            for key in [*report.result.taxonomy.keys, OTHER]
            for th in report.themes.get(key, [])
        ],
    )
    if report.assistant is not None:
        sheet(
            "tailored actions",
            ["dimension", "title", "steps", "playbook action", "comment ids", "quote", "quoted comment"],
            [
                [
                    report.label_name(a.dimension),
                    a.title,
                    a.steps,
                    a.playbook_id,
                    ", ".join(a.comment_ids),
                    a.quote if report.quotes_allowed else "",
                    a.quote_id,
                ]
                for a in report.assistant.actions
            ],
        )
    if report.groups is not None:
        keys = report.result.taxonomy.keys
        sheet(
            f"by {report.groups.column}"[:31],
            ["group", "respondents", "suppressed", *keys],
            [
                [r.group, None if r.suppressed else r.respondents, r.suppressed, *[r.label_counts.get(k) for k in keys]]
                for r in report.groups.rows
            ],
        )
    workbook.save(path)


def write_report(report: Report, path: str | Path) -> Path:
    path = check_output_path(path, REPORT_FORMATS)
    suffix = path.suffix.lower()
    if suffix == ".html":
        path.write_text(render_html(report), encoding="utf-8")
    elif suffix == ".md":
        path.write_text(render_markdown(report), encoding="utf-8")
    else:
        write_xlsx_report(report, path)
    return path
