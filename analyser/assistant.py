"""The LLM assistant: optional, local-first, and checked against the comments.

Three tasks, each built on what the embedded pipeline already found:

1. ``second_opinion``: comments whose label scores sit near the thresholds
   are sent in batches with the label spec; the answer (labels, tone, and
   for each label the verbatim phrase that justifies it) is kept beside the
   embedded labels as a suggestion, never in their place.
2. ``describe_themes``: a short title and a two-sentence summary per theme,
   in the language of the theme's comments.
3. ``tailor_actions``: per dimension at stake, playbook actions adapted to
   the themes found, each citing the comments that motivate it.

Nothing an answer says is taken on trust: cited ids must be ids that were
sent, quotes must be verbatim substrings of the cited comment, labels must be
keys of the taxonomy and playbook ids keys of the playbook. What fails is
dropped and counted by reason. Before anything is sent, texts are redacted
(``privacy.Redactor``) and respondent ids are replaced by request-local
aliases (c1, c2, ...), so neither ids nor group columns ever leave the
machine; ``preview`` returns exactly the messages that would be sent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from .errors import ConfigurationError
from .llm import CachedProvider, CallLog, LLMConfig, LLMError, LLMProvider, make_provider
from .paths import data_dir
from .privacy import Redactor

if TYPE_CHECKING:
    from .pipeline import AnalysisResult
    from .reports import Report

MAX_TEXT_CHARS = 700  # a longer comment is cut for the prompt (quotes are still checked on the full text)
THEME_COMMENTS = 8
ACTION_COMMENTS = 10
ACTIONS_PER_DIMENSION = 2
SUGGESTION_COLUMNS = ("llm_status", "llm_dimensions", "llm_areas", "llm_tone", "llm_quotes", "llm_dropped")
TASKS = ("second_opinion", "theme_summary", "tailored_actions")
Progress = Callable[[str, int, int], None]


# ------------------------------------------------------------------ prompts
@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: dict[str, str]
    user: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, language: str, **values: str) -> list[dict[str, str]]:
        language = language if language in self.user else "en"
        return [
            {"role": "system", "content": self.system[language].strip()},
            {"role": "user", "content": Template(self.user[language]).safe_substitute(values).strip()},
        ]


@lru_cache(maxsize=8)
def load_prompt(name: str, folder: str | None = None) -> Prompt:
    path = Path(folder) if folder else data_dir() / "prompts"
    file = path / f"{name}.yaml"
    if not file.is_file():
        raise ConfigurationError(f"The prompt file {file} does not exist.", "Restore data/prompts/.")
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    try:
        return Prompt(name=raw["name"], version=str(raw["version"]), system=dict(raw["system"]), user=dict(raw["user"]))
    except (KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"The prompt file {file} lacks {exc}.", "It needs name, version, system, user."
        ) from exc


# ------------------------------------------------------------------ records
@dataclass
class Request:
    """One request: what is sent, and what is needed to check the answer."""

    task: str
    prompt_id: str
    language: str
    messages: list[dict[str, str]]
    schema: dict[str, Any]  # sent to the server: ids and keys as enums, so a grammar can only produce valid ones
    aliases: dict[str, str]  # alias sent -> respondent/comment id
    context: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # The preview: exactly what goes over the wire (aliases stay here).
        return {"task": self.task, "prompt": self.prompt_id, "language": self.language, "messages": self.messages}


@dataclass
class ThemeNote:
    label: str
    index: int
    language: str
    title: str
    summary: str
    comment_ids: list[str]


@dataclass
class TailoredAction:
    dimension: str
    playbook_id: str
    language: str
    title: str
    steps: str
    comment_ids: list[str]
    quote: str
    quote_id: str


@dataclass
class AssistantReport:
    """What the assistant did in one run: kept, dropped, failed, redacted."""

    enabled: bool
    model: str = ""
    message: str = ""  # why it is off or could not run; empty when it ran
    calls: dict[str, CallLog] = field(default_factory=dict)
    dropped: Counter[str] = field(default_factory=Counter)
    redactions: Counter[str] = field(default_factory=Counter)
    asked: int = 0  # comments sent for a second opinion
    suggestions: int = 0  # comments whose suggestion passed the checks
    disagreements: int = 0  # of those, how many differ from the embedded labels
    theme_notes: dict[str, ThemeNote] = field(default_factory=dict)  # "label:index" -> note
    actions: list[TailoredAction] = field(default_factory=list)

    def note_for(self, label: str, index: int) -> ThemeNote | None:
        return self.theme_notes.get(f"{label}:{index}")

    def summary_line(self) -> str:
        """One line in English for the command line and the run's notes (the app and reports localise it)."""
        if not self.enabled:
            return f"LLM assistant: off ({self.message})" if self.message else "LLM assistant: off."
        from .reports import assistant_summary

        return assistant_summary(self, "en")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dropped"] = dict(self.dropped)
        data["redactions"] = dict(self.redactions)
        return data


# ------------------------------------------------------------------ checks
_SPACE = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|URL|IBAN|PHONE|ID|NAME|REDACTED)\]")


def find_verbatim(quote: str, text: str) -> str | None:
    """The quote as it stands in the text, or None if it is not a verbatim substring.

    Runs of whitespace count as one space (models re-flow line breaks); nothing
    else is forgiven, and a quote carrying a redaction placeholder is not the
    employee's words.
    """
    quote = quote.strip().strip("\"'“”‘’").strip()
    if len(quote) < 3 or _PLACEHOLDER.search(quote):
        return None
    if quote in text:
        return quote
    pattern = r"\s+".join(re.escape(part) for part in _SPACE.split(quote) if part)
    found = re.search(pattern, text)
    return found.group(0) if found else None


def _with_ids(schema: dict[str, Any], path: tuple[str, ...], values: list[str]) -> dict[str, Any]:
    """A copy of ``schema`` whose string at ``path`` (property names; "[]" for array items) is one of ``values``."""
    import copy

    result = copy.deepcopy(schema)
    node = result
    for step in path:
        node = node["items"] if step == "[]" else node["properties"][step]
    node["enum"] = list(values)
    return result


def _schema_second_opinion(label_keys: list[str], tones: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "comments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "labels": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "label": {"type": "string", "enum": label_keys},
                                    "quote": {"type": "string"},
                                },
                                "required": ["label", "quote"],
                            },
                        },
                        "tone": {"type": "string", "enum": tones},
                    },
                    "required": ["id", "labels", "tone"],
                },
            }
        },
        "required": ["comments"],
    }


# No maxLength in the schemas: llama.cpp turns it into a grammar too large to parse.
# Lengths are checked on the answer instead (MAX_TITLE, MAX_SUMMARY).
MAX_TITLE = 120
MAX_SUMMARY = 900
THEME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "comment_ids": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "summary", "comment_ids"],
}

ACTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "playbook_id": {"type": "string"},
                    "title": {"type": "string"},
                    "steps": {"type": "string"},
                    "comment_ids": {"type": "array", "items": {"type": "string"}},
                    "quote": {"type": "string"},
                },
                "required": ["playbook_id", "title", "steps", "comment_ids", "quote"],
            },
        }
    },
    "required": ["actions"],
}


def _echoes(request: Request, *texts: str) -> bool:
    """True when a text only repeats the prompt's own instructions (a model filling in the example)."""
    instructions = request.messages[-1]["content"].split("\n")[-3:]  # the answer format is at the end
    tail = " ".join(instructions).casefold()
    return any(len(text.strip()) < 40 and text.strip().casefold() in tail for text in texts if text.strip())


# ------------------------------------------------------------------ the assistant
class Assistant:
    """Asks a configured language model, checks every answer, reports what it kept and dropped."""

    def __init__(
        self,
        config: LLMConfig,
        provider: LLMProvider | None = None,
        redactor: Redactor | None = None,
        prompt_folder: str | None = None,
    ) -> None:
        self.config = config
        self.redactor = redactor or Redactor()
        self.prompt_folder = prompt_folder
        self._provider = provider
        self._cached: CachedProvider | None = None

    @property
    def provider(self) -> CachedProvider:
        if self._cached is None:
            self._cached = CachedProvider(self._provider or make_provider(self.config), self.config)
        return self._cached

    def with_terms(self, terms: list[str]) -> Assistant:
        """The same assistant that also redacts these terms (e.g. the group names of a file)."""
        redactor = Redactor(extra_terms=tuple(terms), use_name_list=self.redactor.use_name_list)
        clone = Assistant(self.config, self._provider, redactor, self.prompt_folder)
        clone._cached = self._cached
        return clone

    # ---------------------------------------------------------- helpers
    def _prompt(self, name: str) -> Prompt:
        return load_prompt(name, self.prompt_folder)

    def _redact(self, text: str, counts: Counter[str]) -> str:
        redacted, found = self.redactor.redact(text[:MAX_TEXT_CHARS])
        counts.update(found)
        return " ".join(redacted.split())

    def _comment_block(self, ids: list[str], texts: list[str], counts: Counter[str]) -> tuple[str, dict[str, str]]:
        aliases = {f"c{k + 1}": ident for k, ident in enumerate(ids)}
        lines = [f"{alias}: {self._redact(text, counts)}" for alias, text in zip(aliases, texts)]
        return "\n".join(lines), aliases

    def _send(
        self, requests: list[Request], notes: AssistantReport, progress: Progress | None = None
    ) -> list[tuple[Request, dict[str, Any] | None]]:
        """All requests, at most max_concurrency at a time; failures are counted, not raised."""
        if not requests:
            return []
        log = notes.calls.setdefault(requests[0].task, CallLog())

        def one(request: Request) -> tuple[Request, dict[str, Any] | None]:
            try:
                answer = self.provider.complete_json(request.messages, request.schema, request.prompt_id, log)
                return request, answer
            except LLMError as exc:
                log.failed += 1
                if exc.kind == "schema":
                    notes.dropped["answer_breaks_schema"] += 1
                if len(log.errors) < 5:
                    log.errors.append(str(exc))
                return request, None

        answers = []
        with ThreadPoolExecutor(max_workers=self.config.max_concurrency) as pool:
            for done, item in enumerate(pool.map(one, requests), start=1):
                answers.append(item)
                if progress:
                    progress(requests[0].task, done, len(requests))
        return answers

    def _ready(self, notes: AssistantReport) -> bool:
        """Check the model once; a server that is down ends the assistant's run with one message."""
        if notes.message:
            return False
        try:
            self.provider.check()
        except LLMError as exc:
            notes.message = f"{exc} The embedded results stand."
            return False
        return True

    def new_report(self) -> AssistantReport:
        return AssistantReport(enabled=True, model=self.provider.name)

    # ---------------------------------------------------------- 1. second opinion
    def unsure_rows(self, result: AnalysisResult) -> list[int]:
        """Rows (positions) whose closest label score lies within the margin of its threshold, least sure first."""
        comments = result.comments
        thresholds = result.metadata.classifier.get("thresholds", {})
        keys = [k for k in result.taxonomy.keys if f"score_{k}" in comments and k in thresholds]
        if not keys:
            return []
        scores = comments[[f"score_{k}" for k in keys]].to_numpy(dtype=float)
        distance = np.abs(scores - np.array([thresholds[k] for k in keys])).min(axis=1)
        eligible = (comments["status"] == "ok").to_numpy() & (distance < self.config.margin)
        rows = np.flatnonzero(eligible)
        rows = rows[np.argsort(distance[rows], kind="stable")]
        return [int(r) for r in rows[: self.config.max_comments]]

    def second_opinion_requests(self, result: AnalysisResult, redactions: Counter[str] | None = None) -> list[Request]:
        prompt = self._prompt("second_opinion")
        comments = result.comments
        counts = redactions if redactions is not None else Counter()
        keys = result.taxonomy.keys
        schema = _schema_second_opinion(keys, list(result.taxonomy.tone_keys))
        rows = self.unsure_rows(result)
        requests = []
        for language in ("nl", "en"):
            mine = [r for r in rows if comments["language"].iat[r] == language]
            spec = "\n".join(f"- {label.key}: {label.description[language]}" for label in result.taxonomy.labels)
            for start in range(0, len(mine), self.config.batch_size):
                batch = mine[start : start + self.config.batch_size]
                ids = [str(comments["id"].iat[r]) for r in batch]
                block, aliases = self._comment_block(ids, [comments["text"].iat[r] for r in batch], counts)
                requests.append(
                    Request(
                        task="second_opinion",
                        prompt_id=prompt.id,
                        language=language,
                        messages=prompt.messages(language, labels=spec, comments=block),
                        schema=_with_ids(schema, ("comments", "[]", "id"), list(aliases)),
                        aliases=aliases,
                        context={"rows": dict(zip(aliases, batch))},
                    )
                )
        return requests

    def second_opinion(
        self, result: AnalysisResult, notes: AssistantReport | None = None, progress: Progress | None = None
    ) -> AssistantReport:
        """Add the checked suggestions as llm_* columns of ``result.comments`` (in place)."""
        notes = notes or self.new_report()
        comments = result.comments
        n = len(comments)
        columns = {name: [""] * n for name in SUGGESTION_COLUMNS}
        requests = self.second_opinion_requests(result, notes.redactions)
        if requests and self._ready(notes):
            kinds = {label.key: label.kind for label in result.taxonomy.labels}
            for request, answer in self._send(requests, notes, progress):
                rows: dict[str, int] = request.context["rows"]
                notes.asked += len(rows)
                if answer is None:
                    for row in rows.values():
                        columns["llm_status"][row] = "failed"
                    continue
                answered: set[str] = set()
                for item in answer["comments"]:
                    alias = str(item.get("id", ""))
                    if alias not in rows:
                        notes.dropped["unknown_comment_id"] += 1
                        continue
                    if alias in answered:
                        notes.dropped["repeated_comment_id"] += 1
                        continue
                    answered.add(alias)
                    row = rows[alias]
                    text = comments["text"].iat[row]
                    kept: dict[str, str] = {}
                    problems = []
                    for entry in item["labels"]:
                        label, quote = str(entry.get("label", "")), str(entry.get("quote", ""))
                        if label not in kinds:
                            notes.dropped["unknown_label"] += 1
                            problems.append(f"unknown label {label!r}")
                            continue
                        verbatim = find_verbatim(quote, text)
                        if verbatim is None:
                            notes.dropped["quote_not_verbatim"] += 1
                            problems.append(f"{label}: quote not in the comment")
                            continue
                        kept.setdefault(label, verbatim)
                    tone = str(item.get("tone", ""))
                    if tone not in result.taxonomy.tone_keys:
                        notes.dropped["unknown_tone"] += 1
                        problems.append(f"unknown tone {tone!r}")
                        tone = ""
                    if item["labels"] and not kept:
                        # It proposed labels and none survived the checks: no opinion, not "no label".
                        columns["llm_status"][row] = "dropped"
                        columns["llm_dropped"][row] = "; ".join(problems)
                        continue
                    dims = ";".join(k for k in result.taxonomy.keys if k in kept and kinds[k] == "dimension")
                    areas = ";".join(k for k in result.taxonomy.keys if k in kept and kinds[k] == "area")
                    same = (
                        dims == comments["dimensions"].iat[row]
                        and areas == comments["areas"].iat[row]
                        and tone in ("", comments["tone"].iat[row])
                    )
                    columns["llm_status"][row] = "agrees" if same else "differs"
                    columns["llm_dimensions"][row] = dims
                    columns["llm_areas"][row] = areas
                    columns["llm_tone"][row] = tone
                    columns["llm_quotes"][row] = " | ".join(f"{k}: {q}" for k, q in kept.items())
                    columns["llm_dropped"][row] = "; ".join(problems)
                    notes.suggestions += 1
                    notes.disagreements += not same
                for alias, row in rows.items():
                    if alias not in answered:
                        notes.dropped["comment_not_answered"] += 1
                        columns["llm_status"][row] = "not answered"
        for name, values in columns.items():
            comments[name] = values
        result.assistant = notes
        return notes

    # ---------------------------------------------------------- 2. theme titles and summaries
    def theme_requests(self, leader_report: Report, redactions: Counter[str] | None = None) -> list[Request]:
        prompt = self._prompt("theme_summary")
        counts = redactions if redactions is not None else Counter()
        comments = leader_report.result.comments
        by_id: dict[str, str] = {}
        for ident, text in zip(comments["id"].astype(str), comments["text"]):
            by_id.setdefault(ident, text)
        requests = []
        # The largest themes first, up to the configured number (each is one request).
        ranked = sorted(
            ((key, theme) for key, themes in leader_report.themes.items() for theme in themes),
            key=lambda kt: -kt[1].size,
        )[: self.config.max_themes]
        for key, theme in ranked:
            language = max(theme.languages, key=lambda lang: theme.languages[lang]) if theme.languages else "en"
            # Quotes first (the comments nearest the theme's centre), then the other members.
            ids = list(dict.fromkeys([q.comment_id for q in theme.quotes] + theme.comment_ids))[:THEME_COMMENTS]
            block, aliases = self._comment_block(ids, [by_id[i] for i in ids], counts)
            phrases = ", ".join(
                theme.key_phrases.get(language) or next((p for p in theme.key_phrases.values() if p), [])
            )
            label = leader_report.label_name(key) if key != "other" else "other"
            requests.append(
                Request(
                    task="theme_summary",
                    prompt_id=prompt.id,
                    language=language,
                    messages=prompt.messages(language, label=label, key_phrases=phrases, comments=block),
                    schema=_with_ids(THEME_SCHEMA, ("comment_ids", "[]"), list(aliases)),
                    aliases=aliases,
                    context={"label": key, "index": theme.index},
                )
            )
        return requests

    def describe_themes(
        self, leader_report: Report, notes: AssistantReport | None = None, progress: Progress | None = None
    ) -> AssistantReport:
        notes = notes or self.new_report()
        requests = self.theme_requests(leader_report, notes.redactions)
        if not requests or not self._ready(notes):
            return notes
        for request, answer in self._send(requests, notes, progress):
            if answer is None:
                continue
            title, summary = " ".join(answer["title"].split()), " ".join(answer["summary"].split())
            cited = [request.aliases[a] for a in answer["comment_ids"] if a in request.aliases]
            unknown = [a for a in answer["comment_ids"] if a not in request.aliases]
            if unknown:
                notes.dropped["unknown_comment_id"] += len(unknown)
            if _echoes(request, title, summary):
                notes.dropped["answer_repeats_the_instructions"] += 1
                continue
            if not title or not summary or len(title) > MAX_TITLE or len(summary) > MAX_SUMMARY:
                notes.dropped["empty_or_overlong_text"] += 1
                continue
            if not cited:
                notes.dropped["summary_cites_no_sent_comment"] += 1
                continue
            label, index = request.context["label"], request.context["index"]
            notes.theme_notes[f"{label}:{index}"] = ThemeNote(
                label=label, index=index, language=request.language, title=title, summary=summary, comment_ids=cited
            )
        return notes

    # ---------------------------------------------------------- 3. tailored actions
    def action_requests(self, leader_report: Report, redactions: Counter[str] | None = None) -> list[Request]:
        from .actions import load_playbook

        prompt = self._prompt("tailored_actions")
        playbook = load_playbook()
        counts = redactions if redactions is not None else Counter()
        comments = leader_report.result.comments
        labelled = comments[comments["status"].isin(("ok", "duplicate"))]
        language = leader_report.language
        requests = []
        for standing in [s for s in leader_report.plan.standings if s.priority > 0][
            : self.config.max_action_dimensions
        ]:
            key = standing.key
            members = labelled[
                labelled["dimensions"].str.split(";").map(lambda ks, k=key: k in ks)
                & labelled["tone"].isin(["negative", "mixed"])
            ]
            if members.empty:
                continue
            members = members[members["status"] == "ok"].head(ACTION_COMMENTS)
            ids = members["id"].astype(str).tolist()
            block, aliases = self._comment_block(ids, members["text"].tolist(), counts)
            actions = playbook.for_dimension(key)
            book = "\n".join(f"- {a.id}: {a.title[language]} - {' '.join(a.steps[language].split())}" for a in actions)
            themes = "; ".join(
                (
                    leader_report.assistant.note_for(key, th.index).title
                    if leader_report.assistant and leader_report.assistant.note_for(key, th.index)
                    else th.name(language)
                )
                for th in leader_report.themes.get(key, [])
            )
            requests.append(
                Request(
                    task="tailored_actions",
                    prompt_id=prompt.id,
                    language=language,
                    messages=prompt.messages(
                        language,
                        dimension=f"{key} ({leader_report.label_name(key)})",
                        playbook=book,
                        themes=themes or "-",
                        comments=block,
                        max_actions=str(ACTIONS_PER_DIMENSION),
                    ),
                    schema=_with_ids(
                        _with_ids(ACTIONS_SCHEMA, ("actions", "[]", "comment_ids", "[]"), list(aliases)),
                        ("actions", "[]", "playbook_id"),
                        [a.id for a in actions],
                    ),
                    aliases=aliases,
                    context={"dimension": key, "playbook_ids": [a.id for a in actions]},
                )
            )
        return requests

    def tailor_actions(
        self, leader_report: Report, notes: AssistantReport | None = None, progress: Progress | None = None
    ) -> AssistantReport:
        notes = notes or self.new_report()
        requests = self.action_requests(leader_report, notes.redactions)
        if not requests or not self._ready(notes):
            return notes
        # An id can stand for several answers (one per open question): a quote may come from any of them.
        texts: dict[str, list[str]] = {}
        for ident, text in zip(leader_report.result.comments["id"].astype(str), leader_report.result.comments["text"]):
            texts.setdefault(ident, []).append(text)
        for request, answer in self._send(requests, notes, progress):
            if answer is None:
                continue
            for item in answer["actions"][:ACTIONS_PER_DIMENSION]:
                if item["playbook_id"] not in request.context["playbook_ids"]:
                    notes.dropped["unknown_playbook_id"] += 1
                    continue
                unknown = [a for a in item["comment_ids"] if a not in request.aliases]
                if unknown:
                    notes.dropped["unknown_comment_id"] += len(unknown)
                if _echoes(request, item["title"], item["steps"]):
                    notes.dropped["answer_repeats_the_instructions"] += 1
                    continue
                cited = [request.aliases[a] for a in item["comment_ids"] if a in request.aliases]
                if not cited:
                    notes.dropped["action_cites_no_sent_comment"] += 1
                    continue
                quote, quote_id = None, ""
                for ident in cited:
                    quote = next(filter(None, (find_verbatim(str(item["quote"]), t) for t in texts[ident])), None)
                    if quote:
                        quote_id = ident
                        break
                if not quote:
                    notes.dropped["quote_not_verbatim"] += 1
                    continue
                title, steps = " ".join(item["title"].split()), " ".join(item["steps"].split())
                if not title or not steps or len(title) > MAX_TITLE or len(steps) > MAX_SUMMARY:
                    notes.dropped["empty_or_overlong_text"] += 1
                    continue
                notes.actions.append(
                    TailoredAction(
                        dimension=request.context["dimension"],
                        playbook_id=item["playbook_id"],
                        language=request.language,
                        title=title,
                        steps=steps,
                        comment_ids=list(dict.fromkeys(cited)),
                        quote=quote,
                        quote_id=quote_id,
                    )
                )
        return notes

    # ---------------------------------------------------------- all of it
    def preview(self, result: AnalysisResult, leader_report: Report | None = None) -> list[dict[str, Any]]:
        """Exactly the messages that would be sent, without sending anything."""
        requests = self.second_opinion_requests(result)
        if leader_report is not None:
            requests += self.theme_requests(leader_report) + self.action_requests(leader_report)
        return [r.to_dict() for r in requests]


def suggestions_frame(result: AnalysisResult) -> pd.DataFrame:
    """The rows that got a checked suggestion, embedded labels beside the assistant's."""
    comments = result.comments
    if "llm_status" not in comments:
        return comments.iloc[0:0]
    rows = comments[comments["llm_status"].isin(["agrees", "differs"])]
    return rows[["id", "text", "dimensions", "areas", "tone", *SUGGESTION_COLUMNS]]


def assistant_from_config(config: LLMConfig | None) -> Assistant | None:
    return Assistant(config) if config is not None and config.enabled else None
