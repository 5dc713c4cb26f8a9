"""Command line: ``analyser analyse``, ``analyser labels``.

Every problem the user can fix ends in one line on stderr that says what is
wrong and what to do, and exit code 2; there is no traceback unless --debug.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import ClassVar, TextIO

from . import __version__
from .errors import AnalyserError

EXIT_USAGE = 2
EXIT_BUG = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        self.exit(EXIT_USAGE, f"error: {message}. See '{self.prog} --help'.\n")


class ProgressBar:
    """One tqdm bar per stage on stderr; silent when stderr is not wanted."""

    LABELS: ClassVar[dict[str, str]] = {"encoding": "encoding", "sentences": "sentences", "classifying": "labelling"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: dict[str, object] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            self.close()  # one bar at a time: the previous stage is done
            bar = tqdm(total=total, desc=self.LABELS.get(stage, stage), unit="text", file=sys.stderr, leave=False)
            self._bars[stage] = bar
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def _llm_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The LLM settings from --llm-config, ANALYSER_LLM_* variables and --llm-* options; None when off."""
    from .llm import LLMConfig

    config = LLMConfig.load(
        args.llm_config,
        provider=args.llm_provider,
        url=args.llm_url,
        model=args.llm_model,
        api_key_env=args.llm_api_key_env,
        timeout=args.llm_timeout,
        max_comments=args.llm_max_comments,
        use_cache=False if args.no_cache else None,
    )
    return config if config.enabled else None


def _run_analysis(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The analysis both 'analyse' and 'report' start with; returns the result and the fitted pipeline."""
    from .pipeline import Analyser, Settings, analyse

    llm = _llm_config(args)
    settings = Settings(
        encoder=args.encoder,
        classifier=args.classifier,
        model=args.model,
        language=args.language,
        max_chars=args.max_chars,
        use_cache=not args.no_cache,
        workers=args.workers,
        llm=None if args.llm_preview else llm,  # a preview sends nothing
    )
    analyser = Analyser(settings)
    bar = ProgressBar(enabled=not args.quiet)
    try:
        result = analyse(
            args.input,
            text_columns=args.text_column,
            id_column=args.id_column,
            sheet=args.sheet,
            encoding=args.encoding,
            analyser=analyser,
            progress=bar,
        )
    finally:
        bar.close()
    for note in result.metadata.notes:
        print(f"note: {note}", file=sys.stderr)
    if llm is None and not args.quiet:
        print(
            "note: LLM assistant: off (no --llm-url/--llm-model); all results come from the embedded models.",
            file=sys.stderr,
        )
    return result, analyser, llm


def _assistant_report(args: argparse.Namespace, result, analyser, llm, out: TextIO):  # type: ignore[no-untyped-def]
    """Themes, plan and, with an LLM, its theme summaries and tailored actions; or the preview of what is sent."""
    from .reports import build_report

    kwargs = {
        "group_column": getattr(args, "group_column", None),
        "min_group_size": getattr(args, "min_group_size", 5),
        "min_quote_size": getattr(args, "min_quote_size", 10),
        "language": getattr(args, "lang", "en"),
        "group": getattr(args, "group", None),
    }
    if args.llm_preview:
        import json

        from .export import check_output_path

        path = check_output_path(args.llm_preview, (".json",))
        from .assistant import Assistant

        if llm is None:
            raise _no_llm_for_preview()
        report = build_report(result, **kwargs)
        assistant = Assistant(llm)  # builds the requests; never sends them
        if kwargs["group_column"]:
            names = result.comments[kwargs["group_column"]].dropna().astype(str).unique().tolist()
            assistant = assistant.with_terms(names)
        preview = assistant.preview(result, report)
        path.write_text(json.dumps(preview, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"Wrote the {len(preview)} requests the assistant would send to {path}; nothing was sent.", file=out)
        return report
    return build_report(result, assistant=analyser.assistant, **kwargs)


def _no_llm_for_preview() -> AnalyserError:
    return AnalyserError(
        "--llm-preview needs an LLM to be configured.", "Pass --llm-url and --llm-model (or --llm-config) too."
    )


def _analyse(args: argparse.Namespace, out: TextIO) -> int:
    from .export import check_output_path

    check_output_path(args.out)  # before the analysis, not after it
    if args.llm_preview and _llm_config(args) is None:
        raise _no_llm_for_preview()
    result, analyser, llm = _run_analysis(args)
    report = _assistant_report(args, result, analyser, llm, out) if llm is not None else None
    written = result.save(args.out)
    meta = result.metadata
    counts = ", ".join(f"{n} {status}" for status, n in meta.counts.items())
    labelled = result.labelled
    with_label = int(((labelled["dimensions"] != "") | (labelled["areas"] != "")).sum())
    print(f"Wrote {len(result.comments)} rows to {written} ({counts}).", file=out)
    print(
        f"{with_label} of {len(labelled)} labelled comments carry at least one label; "
        f"{meta.timings.get('total', 0):.1f} s with {meta.encoder['name']}.",
        file=out,
    )
    if report is not None and report.assistant is not None:
        from .reports import render_assistant_markdown

        notes = written.with_name(written.stem + ".assistant.md")
        notes.write_text(render_assistant_markdown(report), encoding="utf-8")
        print(report.assistant.summary_line(), file=out)
        print(f"Wrote the assistant's checked suggestions, theme summaries and actions to {notes}.", file=out)
    return 0


def _report(args: argparse.Namespace, out: TextIO) -> int:
    from .export import check_output_path
    from .reports import REPORT_FORMATS, write_report

    check_output_path(args.out, REPORT_FORMATS)
    if args.llm_preview and _llm_config(args) is None:
        raise _no_llm_for_preview()
    result, analyser, llm = _run_analysis(args)
    report = _assistant_report(args, result, analyser, llm, out)
    if args.llm_preview:
        return 0
    written = write_report(report, args.out)
    n_themes = sum(len(v) for v in report.themes.values())
    suppressed = len(report.groups.suppressed) if report.groups else 0
    print(
        f"Wrote the report to {written}: {n_themes} themes, {len(report.plan.actions)} actions, "
        f"{len(report.plan.strengths)} strengths"
        + (f", {suppressed} group(s) suppressed below {args.min_group_size} respondents" if report.groups else "")
        + ".",
        file=out,
    )
    return 0


def _train(args: argparse.Namespace, out: TextIO) -> int:
    from .training import train

    bar = ProgressBar(enabled=not args.quiet)
    try:
        folder, evaluation = train(
            args.labelled,
            args.out,
            encoder=args.encoder,
            test_paths=args.test,
            corrections=args.corrections,
            correction_weight=args.correction_weight,
            C=args.C,
            random_state=args.random_state,
            progress=bar,
            use_cache=not args.no_cache,
        )
    finally:
        bar.close()
    print(f"Wrote the model to {folder} (model card: {folder / 'MODEL_CARD.md'}).", file=out)
    if evaluation is not None:
        from .evaluation import format_evaluation

        print(format_evaluation(evaluation, title="Evaluation on the test files:"), file=out)
    return 0


def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from .evaluation import format_evaluation
    from .pipeline import Analyser, Settings
    from .training import evaluate_model, load_labelled

    settings = Settings(encoder=args.encoder, classifier=args.classifier, model=args.model, use_cache=not args.no_cache)
    analyser = Analyser(settings)
    data = load_labelled(args.labelled, analyser.taxonomy)
    evaluation = evaluate_model(data, analyser=analyser)
    model = args.model or "trust-default" if args.classifier == "trained" else args.classifier
    print(format_evaluation(evaluation, title=f"{len(data)} labelled comments, classifier {model}:"), file=out)
    if args.json:
        import json

        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(evaluation.to_dict(), handle, indent=1)
    if args.min_macro_f1 is not None and evaluation.macro_f1 < args.min_macro_f1:
        print(
            f"error: macro-F1 {evaluation.macro_f1:.3f} is below the floor {args.min_macro_f1:.3f}.",
            file=sys.stderr,
        )
        return EXIT_BUG
    return 0


def _labels(args: argparse.Namespace, out: TextIO) -> int:
    from .taxonomy import load_taxonomy

    taxonomy = load_taxonomy(args.taxonomy)
    language = args.lang
    print(f"{taxonomy.title.get(language, '')} (taxonomy {taxonomy.version_tag})", file=out)
    for kind, labels in (("dimension", taxonomy.dimensions), ("area", taxonomy.areas)):
        title = taxonomy.kind_names.get(kind, {}).get(language, kind)
        print(f"\n{title}:", file=out)
        for label in labels:
            print(f"  {label.key:<20} {label.display(language)}", file=out)
            if args.verbose:
                for line in textwrap.wrap(label.description[language], 76):
                    print(f"      {line}", file=out)
                print(f"      cues: {'; '.join(label.cues.get(language, ()))}", file=out)
    print("\nTone:", file=out)
    for tone in taxonomy.tones:
        print(f"  {tone.key:<20} {tone.display(language)}: {tone.description[language]}", file=out)
    return 0


def _add_analysis_arguments(parser: argparse.ArgumentParser, out_help: str) -> None:
    parser.add_argument("input", help="the survey export to analyse")
    parser.add_argument("--out", "-o", required=True, help=out_help)
    parser.add_argument(
        "--text-column",
        action="append",
        metavar="NAME",
        help="column with the comments; repeat for several open questions (default: found automatically)",
    )
    parser.add_argument(
        "--id-column",
        metavar="NAME",
        help="column with the respondent id (default: a column named like id/respondent_id, else ids row-00001...)",
    )
    parser.add_argument("--sheet", metavar="NAME", help="Excel sheet to read (default: the first with data)")
    parser.add_argument("--encoding", metavar="NAME", help="text encoding of a CSV/TXT file (default: detected)")
    parser.add_argument(
        "--encoder",
        default="use-multilingual",
        metavar="NAME_OR_PATH",
        help="sentence encoder: use-multilingual (default, offline, Dutch and English), minilm (packaged "
        "all-MiniLM-L6-v2, English), or any Hugging Face model id or local folder (needs the 'transformers' extra)",
    )
    parser.add_argument(
        "--classifier",
        default="trained",
        choices=["trained", "zero-shot"],
        help="label classifier: trained (default, the model in models/) or zero-shot (similarity to the label "
        "descriptions and cues; no training data needed)",
    )
    parser.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        help="trained model: a folder or a name in models/ (default: the bundled model for the encoder, "
        "trust-default for use-multilingual)",
    )
    parser.add_argument(
        "--language",
        default="auto",
        choices=["auto", "nl", "en"],
        help="comment language (default: detect per comment)",
    )
    parser.add_argument(
        "--max-chars", type=int, default=20000, help="longer comments get status too_long (default 20000)"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the embedding/answer caches")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="worker processes for labelling (default 0: one per core for 2,000 comments or more; 1: none)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    llm = parser.add_argument_group(
        "LLM assistant (optional, off by default)",
        "A language model adds checked second opinions, theme summaries and tailored actions. Texts are "
        "redacted and ids replaced before anything is sent; group columns are never sent. Also settable with "
        "ANALYSER_LLM_URL, ANALYSER_LLM_MODEL, ANALYSER_LLM_PROVIDER ... or a YAML file.",
    )
    llm.add_argument("--llm-url", metavar="URL", help="OpenAI-compatible API base, e.g. http://127.0.0.1:11434/v1")
    llm.add_argument("--llm-model", metavar="NAME", help="model name on the server (transformers: folder, id or .gguf)")
    llm.add_argument(
        "--llm-provider", choices=["openai", "transformers"], help="openai (HTTP, default) or transformers"
    )
    llm.add_argument(
        "--llm-api-key-env",
        metavar="VAR",
        help="environment variable holding the API key (default ANALYSER_LLM_API_KEY)",
    )
    llm.add_argument("--llm-config", metavar="FILE", help="YAML file with LLM settings (see the README)")
    llm.add_argument("--llm-timeout", type=float, metavar="SECONDS", help="timeout per request (default 60)")
    llm.add_argument("--llm-max-comments", type=int, metavar="N", help="second opinions per run (default 120)")
    llm.add_argument(
        "--llm-preview", metavar="FILE.json", help="write exactly what would be sent to the LLM, and send nothing"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="analyser",
        description="Trust feedback analyser: label employee survey comments with the trust dimensions "
        "and benefit areas of the 'Vertrouwen & draagvlak' framework, offline, in Dutch and English.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    analyse = commands.add_parser(
        "analyse",
        help="label every comment of a survey export",
        description="Label every comment of a survey export with trust dimensions, benefit areas, tone, "
        "label scores and evidence. Every input row is written, in the input's order, with a status.",
        epilog="Input formats: .csv .tsv (delimiter and encoding detected), .xlsx, .json, .jsonl, .parquet, "
        ".txt (one comment per line). Output format follows the --out extension: "
        ".csv .tsv .xlsx .parquet .json .jsonl.",
    )
    _add_analysis_arguments(analyse, "where to write the labelled comments")
    analyse.set_defaults(run=_analyse)

    report = commands.add_parser(
        "report",
        help="write a report: overview, themes, action plan, groups",
        description="Analyse a survey export and write a report for leaders: an overview, per dimension the "
        "themes with quotes and the trust balance, the ranked action plan with strengths, a breakdown by group "
        "with small groups suppressed, and the method. HTML is one self-contained file with charts.",
    )
    _add_analysis_arguments(report, "report file: .html, .md or .xlsx")
    report.add_argument("--group-column", metavar="NAME", help="break down by this column (team, department...)")
    report.add_argument(
        "--group", metavar="VALUE", help="report on this one group of --group-column (if it is large enough)"
    )
    report.add_argument("--min-group-size", type=int, default=5, help="hide groups with fewer respondents (default 5)")
    report.add_argument(
        "--min-quote-size", type=int, default=10, help="quote a group only from this many respondents (default 10)"
    )
    report.add_argument("--lang", choices=["nl", "en"], default="en", help="language of the report (default en)")
    report.set_defaults(run=_report)

    train = commands.add_parser(
        "train",
        help="train the label and tone heads on labelled comments",
        description="Train a classifier on labelled comments: files in the output format of 'analyse' (columns "
        "text, dimensions, areas, tone; language optional) or JSON Lines with those keys, or folders of them. "
        "When a text occurs twice, the later row wins, so a file of corrections can follow the training data.",
    )
    train.add_argument("labelled", nargs="+", help="labelled files or folders")
    train.add_argument("--out", "-o", required=True, help="model folder to write, e.g. models/my-model")
    train.add_argument("--test", action="append", metavar="FILE", help="held-out labelled file(s) to evaluate on")
    train.add_argument(
        "--corrections",
        action="append",
        metavar="FILE",
        help="labelled file(s) of corrections (e.g. the analyser's output with labels fixed): they replace the "
        "labels of the same texts and count --correction-weight times. A file with an llm_accept column "
        "contributes only the rows marked yes there, with the LLM assistant's suggested labels",
    )
    train.add_argument("--correction-weight", type=float, default=10.0, help="weight of a correction (default 10)")
    train.add_argument("--encoder", default="use-multilingual", metavar="NAME_OR_PATH", help="sentence encoder")
    train.add_argument("--C", type=float, default=16.0, help="inverse regularisation of the label heads (default 16)")
    train.add_argument("--random-state", type=int, default=0, help="seed for the cross-validation folds")
    train.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    train.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="compare the labels with labelled comments",
        description="Label the comments of labelled files with the whole pipeline and print per-label precision, "
        "recall and F1, macro-F1 per language, tone accuracy, how often 'no label' was right and the most "
        "confused label pairs.",
    )
    evaluate.add_argument("labelled", nargs="+", help="labelled files or folders (e.g. data/test)")
    evaluate.add_argument("--classifier", default="trained", choices=["trained", "zero-shot"])
    evaluate.add_argument(
        "--model", metavar="NAME_OR_PATH", help="trained model (default: the bundled model for the encoder)"
    )
    evaluate.add_argument("--encoder", default="use-multilingual", metavar="NAME_OR_PATH", help="sentence encoder")
    evaluate.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    evaluate.add_argument("--min-macro-f1", type=float, help="exit 1 when macro-F1 falls below this floor")
    evaluate.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    evaluate.set_defaults(run=_evaluate)

    labels = commands.add_parser("labels", help="print the taxonomy", description="Print the trust taxonomy.")
    labels.add_argument("--lang", choices=["nl", "en"], default="en", help="language of the names (default en)")
    labels.add_argument("--verbose", "-v", action="store_true", help="also print descriptions and cue phrases")
    labels.add_argument("--taxonomy", metavar="PATH", help="a taxonomy YAML file (default: data/taxonomy.yaml)")
    labels.set_defaults(run=_labels)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if not getattr(args, "command", None):
        parser.print_help(out)
        return EXIT_USAGE
    try:
        return int(args.run(args, out))
    except AnalyserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            raise
        print(
            f"internal error: {exc.__class__.__name__}: {exc}. This is a bug in the analyser; "
            "run again with --debug and report the output.",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
