"""``perfkit goals ...``: goal files on the command line.

    perfkit goals validate GOALS...                  report every problem; exit 1 if any
    perfkit goals rollup GOALS --as-of DATE          every goal's progress on a date
    perfkit goals show GOALS [--format text|mermaid|dot|json]
                                                     the graph (or a subtree) as a tree or a diagram
    perfkit goals cascade GOALS PARENT --unit 10000  split a target across the children
    perfkit goals due GOALS --as-of DATE             check-ins due soon, overdue (with escalation), stale
    perfkit goals align GOALS --as-of DATE           alignment report
    perfkit goals schema                             the JSON Schema of the goal-file format
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
from decimal import Decimal
from typing import Any, TextIO

from perfkit.errors import GoalGraphError
from perfkit.goals.files import load_goals
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import parse_instant
from perfkit.numbers import percent
from perfkit.org import Roster

__all__ = ["add_goal_commands"]


def add_goal_commands(commands: Any) -> None:
    """Add ``perfkit goals`` and its subcommands to the top-level subparsers."""
    goals = commands.add_parser("goals", help="goal files: validate, roll up, show, cascade, due check-ins, alignment")
    sub = goals.add_subparsers(dest="goals_command", metavar="SUBCOMMAND")
    goals.set_defaults(run=lambda args, out: _usage(goals, out))

    validate = sub.add_parser("validate", help="check goal files and report every problem")
    validate.add_argument("files", nargs="+", metavar="GOALS")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    _roster_options(validate)
    validate.add_argument("--metrics", metavar="DEFINITIONS", help="metric definitions the metric-bound goals name")
    validate.set_defaults(run=_validate)

    rollup = sub.add_parser("rollup", help="every goal's value and progress as of a date")
    rollup.add_argument("file", metavar="GOALS")
    rollup.add_argument("--as-of", required=True, metavar="DATE", help="2026-06-30 (the whole day) or a time with an offset")
    rollup.add_argument("--root", metavar="GOAL", help="only this goal and the goals below it")
    rollup.add_argument("--format", choices=("tree", "table", "json", "csv"), default="tree")
    _roster_options(rollup)
    rollup.set_defaults(run=_rollup)

    show = sub.add_parser("show", help="the graph (or a subtree) as a text tree, Mermaid, Graphviz DOT or JSON")
    show.add_argument("file", metavar="GOALS")
    show.add_argument("--format", choices=("text", "mermaid", "dot", "json"), default="text")
    show.add_argument("--root", metavar="GOAL", help="only this goal and the goals below it")
    show.add_argument("--as-of", metavar="DATE", help="show progress on this date")
    _roster_options(show)
    show.set_defaults(run=_show)

    cascade = sub.add_parser("cascade", help="split a goal's target across its children so the parts sum exactly")
    cascade.add_argument("file", metavar="GOALS")
    cascade.add_argument("parent", metavar="PARENT")
    cascade.add_argument("--unit", default="1", help="split in multiples of this (1 yuan, 10000 for 10k yuan)")
    cascade.add_argument(
        "--shares", choices=("equal", "weights", "actuals"), default=None,
        help="equal (default), the contributes weights, or last period's actuals (--actuals)",
    )
    cascade.add_argument("--actuals", metavar="FILE", help="CSV/JSON/JSONL with goal and actual columns")
    cascade.add_argument("--as-of", metavar="DATE", help="split the target in force on this date")
    cascade.add_argument("--write", metavar="OUT", help="write the goal file with the children's targets set")
    cascade.add_argument("--format", choices=("text", "json"), default="text")
    _roster_options(cascade)
    cascade.set_defaults(run=_cascade)

    reports = {
        "due": ("check-ins due soon, overdue (with whom to escalate to) and stale on a date", _due),
        "align": ("alignment report: connected share, orphans, target gaps, goals past their end", _align),
    }
    for name, (text, build) in reports.items():
        report = sub.add_parser(name, help=text)
        report.add_argument("file", metavar="GOALS")
        report.add_argument("--as-of", required=True, metavar="DATE")
        report.add_argument("--format", choices=("text", "json"), default="text")
        _roster_options(report)
        report.set_defaults(run=_dated_report, build=build)

    schema = sub.add_parser("schema", help="print the JSON Schema of the goal-file format")
    schema.set_defaults(run=_schema)


def _usage(parser: argparse.ArgumentParser, out: TextIO) -> int:
    parser.print_help(out)
    return 2


def _roster_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--roster", metavar="EMPLOYEES", help="org roster: employees (CSV/JSON/JSONL)")
    command.add_argument("--units", metavar="UNITS", help="org roster: units with parents and heads (CSV/JSON/JSONL)")


def _roster(args: argparse.Namespace) -> Roster | None:
    if args.units and not args.roster:
        raise GoalGraphError("--units needs --roster (the employees of the org roster)")
    return Roster.read(args.roster, args.units) if args.roster else None


def _graph(args: argparse.Namespace) -> GoalGraph:
    graph = load_goals(args.file, roster=_roster(args))
    return graph.subgraph(args.root) if getattr(args, "root", None) else graph


def _as_of(text: str) -> datetime.date | datetime.datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise GoalGraphError(f"--as-of: {exc}") from None


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    from perfkit.cli import report_files

    roster = _roster(args)
    metrics = None
    if args.metrics:
        from perfkit.metrics.definitions import load_metrics

        metrics = load_metrics(args.metrics)

    def check(path: str) -> tuple[list[GoalGraphError], str]:
        try:
            graph = load_goals(path, roster=roster, metrics=metrics)
        except GoalGraphError as exc:
            return [p for p in exc.problems if isinstance(p, GoalGraphError)], ""
        return [], f" ({len(graph)} goals)"

    return report_files(args.files, check, key="file", fmt=args.format, out=out)


def _rollup(args: argparse.Namespace, out: TextIO) -> int:
    graph = _graph(args)
    rollup = graph.rollup(_as_of(args.as_of))
    if args.format == "tree":
        from perfkit.goals.views import to_text

        print(to_text(graph, rollup=rollup), file=out)
    elif args.format == "json":
        print(json.dumps(rollup.to_rows(), ensure_ascii=False, indent=2), file=out)
    else:
        rows = [{k: ("" if v is None else str(v)) for k, v in row.items()} for row in rollup.to_rows()]
        if args.format == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            out.write(buffer.getvalue())
        else:
            from perfkit.cli import _grid

            header = ["goal", "title", "owner", "status", "progress", "value", "target"]
            table = [[r["goal"], r["title"], r["owner"], r["status"], percent(Decimal(r["progress"]) if r["progress"] else None), r["value"], r["target"]] for r in rows]
            print(_grid(header, table), file=out)
    return 0


def _show(args: argparse.Namespace, out: TextIO) -> int:
    from perfkit.goals import views

    graph = load_goals(args.file, roster=_roster(args))
    rollup = graph.rollup(_as_of(args.as_of)) if args.as_of else None
    render = {"text": views.to_text, "mermaid": views.to_mermaid, "dot": views.to_dot, "json": views.to_json}
    print(render[args.format](graph, root=args.root, rollup=rollup), file=out)
    return 0


def _cascade(args: argparse.Namespace, out: TextIO) -> int:
    from perfkit.goals.cascade import cascade
    from perfkit.goals.files import dump_goals
    from perfkit.io.rows import read_rows

    graph = load_goals(args.file, roster=_roster(args))
    actuals = None
    if args.actuals:
        actuals = {}
        for n, row in enumerate(read_rows(args.actuals)):
            if "goal" not in row or "actual" not in row:
                raise GoalGraphError(f"{args.actuals}, row {n}: an actuals file has the columns goal and actual")
            actuals[str(row["goal"])] = row["actual"]
    split = cascade(
        graph, args.parent, shares=args.shares, actuals=actuals, unit=args.unit,
        as_of=_as_of(args.as_of) if args.as_of else None,
    )
    if args.format == "json":
        print(json.dumps(split.to_dict(), ensure_ascii=False, indent=2, default=str), file=out)
    else:
        print(split.to_text(), file=out)
    if args.write:
        text = dump_goals(split.apply(graph, replace=True), fmt="json" if args.write.endswith(".json") else "yaml")
        with open(args.write, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


def _due(graph: GoalGraph, as_of: datetime.date | datetime.datetime) -> Any:
    from perfkit.goals.checkins import checkin_report

    return checkin_report(graph, as_of)


def _align(graph: GoalGraph, as_of: datetime.date | datetime.datetime) -> Any:
    from perfkit.goals.alignment import alignment_report

    return alignment_report(graph, as_of=as_of)


def _dated_report(args: argparse.Namespace, out: TextIO) -> int:
    """``perfkit goals due`` and ``align``: a report on the goals as of a date, as text or JSON."""
    graph = load_goals(args.file, roster=_roster(args))
    report = args.build(graph, _as_of(args.as_of))
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str), file=out)
    else:
        print(report.to_text(), file=out)
    return 0


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    from perfkit.goals.model import GoalFile

    print(json.dumps(GoalFile.json_schema(), ensure_ascii=False, indent=2), file=out)
    return 0
