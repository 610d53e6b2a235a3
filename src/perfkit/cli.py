"""The ``perfkit`` command line.

    perfkit demo                               score the bundled sales example
    perfkit validate SCHEME...                 report every problem; exit 1 if any
    perfkit score SCHEME DATA [--format F]     score a CSV / JSON / JSONL file
    perfkit explain SCHEME DATA EMPLOYEE_ID    how one employee's grade came about
    perfkit metrics DEFINITIONS RECORDS... --period P
                                               metric values from source records
    perfkit score SCHEME [DATA] --metrics DEFINITIONS --records RECORDS... --period P
    perfkit explain SCHEME [DATA] EMPLOYEE_ID --metrics ... --records ... --period P
                                               score inputs bound to metrics (metric: id),
                                               explained down to the records
    perfkit test SCHEME...                     run the worked examples (tests:) of schemes
    perfkit calibrate SCHEME DATA              grades per calibration pool, before and after
    perfkit goals SUBCOMMAND ...               goal files: validate, rollup, show, cascade, due, align
    perfkit schema                             the JSON Schema of the scheme format

Exit codes: 0 success, 1 problems in the scheme or the data, 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO

from perfkit import __version__, example_path
from perfkit._cli_goals import add_goal_commands
from perfkit._files import read_file, read_text
from perfkit._text import display_width
from perfkit._time import parse_datetime
from perfkit.errors import DataError, PerfkitError, SchemeError
from perfkit.io.rows import read_rows
from perfkit.metrics.adapters import ADAPTERS
from perfkit.metrics.compute import compute
from perfkit.metrics.definitions import load_metrics
from perfkit.metrics.records import ImportReport, RecordStore, SourceRecord, read_records
from perfkit.metrics.scoring import TracedEvaluation, evaluate_records
from perfkit.org import Roster
from perfkit.periods import Calendar
from perfkit.rules.scorecard import Evaluation
from perfkit.scheme import Scheme, load_scheme, validate_scheme
from perfkit.testing import run_tests

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    out = stdout or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(out)
        return 2
    try:
        result: int = args.run(args, out)
        return result
    except PerfkitError as exc:
        print(f"error: {exc}", file=out if stdout else sys.stderr)
        return 1
    except BrokenPipeError:  # `perfkit score ... | head`: the reader has gone; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perfkit", description="Exact, explainable performance scoring.")
    parser.add_argument("--version", action="version", version=f"perfkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="score the bundled sales example and explain one result")
    demo.add_argument("--format", choices=("table", "json", "csv"), default="table")
    demo.set_defaults(run=_demo)

    validate = commands.add_parser("validate", help="check scheme files and report every problem")
    validate.add_argument("schemes", nargs="+", metavar="SCHEME")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(run=_validate)

    score = commands.add_parser("score", help="score a data file (CSV, JSON or JSONL), or source records")
    score.add_argument("scheme", metavar="SCHEME")
    score.add_argument(
        "data", metavar="DATA", nargs="?", help="the rows; with --records: extra columns and unbound inputs"
    )
    score.add_argument("--format", choices=("table", "json", "csv"), default="table")
    score.add_argument(
        "--collect-errors",
        action="store_true",
        help="score every good row and list the bad ones, instead of stopping at the first",
    )
    score.set_defaults(run=_score)

    explain = commands.add_parser("explain", help="explain one employee's result")
    explain.add_argument("scheme", metavar="SCHEME")
    explain.add_argument("data", metavar="DATA", nargs="?")
    explain.add_argument("employee_id", metavar="EMPLOYEE_ID")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    for command in (score, explain):
        command.add_argument(
            "--history",
            action="append",
            default=[],
            metavar="RESULTS",
            help="an earlier period's results (CSV/JSON/JSONL with employee_id, total, grade); "
            "repeat it, oldest first, for previous_total(), avg_total(n) and streak()",
        )
    for command in (score, explain):
        command.add_argument("--metrics", metavar="DEFINITIONS", help="metric definitions (YAML/JSON) for bound inputs")
        command.add_argument(
            "--records", nargs="+", action="extend", default=[], metavar="RECORDS", help="source record files"
        )
        _record_options(command, period_required=False)
        command.set_defaults(usage=command.error)
    score.add_argument("--lineage", metavar="FILE", help="with --records: write the result's lineage (JSON) to FILE")
    explain.set_defaults(run=_explain)

    metrics = commands.add_parser("metrics", help="compute metric values for a period from source records")
    metrics.add_argument("definitions", metavar="DEFINITIONS")
    metrics.add_argument("records", nargs="+", metavar="RECORDS")
    metrics.add_argument(
        "--metric", action="append", default=[], dest="metric_ids", metavar="ID", help="only this metric (repeat)"
    )
    metrics.add_argument("--format", choices=("table", "json"), default="table", help="json includes the lineage")
    _record_options(metrics, period_required=True)
    metrics.set_defaults(run=_metrics, usage=metrics.error)

    test = commands.add_parser("test", help="run the worked examples (tests:) of scheme files")
    test.add_argument("schemes", nargs="+", metavar="SCHEME")
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.set_defaults(run=_test)

    calibrate = commands.add_parser(
        "calibrate", help="run a calibration policy over scored results and show the distribution before and after"
    )
    calibrate.add_argument("scheme", metavar="SCHEME")
    calibrate.add_argument("data", metavar="DATA")
    calibrate.add_argument(
        "--policy", metavar="POLICY", help="a policy file (YAML/JSON); default: the scheme's calibration section"
    )
    calibrate.add_argument("--roster", metavar="EMPLOYEES", help="org roster: employees (CSV/JSON/JSONL)")
    calibrate.add_argument("--units", metavar="UNITS", help="org roster: units with their parents (CSV/JSON/JSONL)")
    calibrate.add_argument("--format", choices=("table", "json", "csv"), default="table")
    calibrate.set_defaults(run=_calibrate)

    add_goal_commands(commands)

    schema = commands.add_parser("schema", help="print the JSON Schema of the scheme format")
    schema.set_defaults(run=_schema)
    return parser


_RECORD_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--mapping", "FILE", "with --adapter: the field mapping (YAML/JSON), merged over the default"),
    ("--tz", "TZ", "with --adapter: the time zone of times without an offset (default: --calendar-tz)"),
    ("--loaded-at", "TIME", "with --adapter: when the export was taken (ISO 8601 with an offset)"),
    ("--calendar-tz", "TZ", "the time zone periods are cut in (default: UTC)"),
    ("--as-of", "TIME", "the data as it stood then (ISO 8601 with an offset)"),
    ("--roster", "EMPLOYEES", "org roster: employees (CSV/JSON/JSONL)"),
    ("--units", "UNITS", "org roster: units with their parents (CSV/JSON/JSONL)"),
)


def _record_options(command: argparse.ArgumentParser, *, period_required: bool) -> None:
    group = command.add_argument_group("source records")
    group.add_argument(
        "--period", required=period_required, metavar="P", help="2026-Q2, 2026-05, FY2027, 2026-04-01..2026-06-30"
    )
    group.add_argument(
        "--adapter",
        choices=sorted(ADAPTERS),
        help="read the record files as exports of these systems (default: perfkit record files, JSON/JSONL)",
    )
    for option, metavar, text in _RECORD_OPTIONS:
        group.add_argument(option, metavar=metavar, help=text)
    group.add_argument("--fiscal-start", type=int, metavar="MONTH", help="the month the fiscal year starts in (1-12)")


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    scheme = load_scheme(example_path("sales-quarterly.yaml"))
    rows = read_rows(example_path("sales-sample.csv"))
    result = scheme.compile().evaluate(rows)
    if args.format != "table":
        _write(result, args.format, out)
        return 0
    print(f"{scheme.name} ({scheme.id}, {scheme.period}): {len(result)} employees\n", file=out)
    _write(result, "table", out)
    capped = next((c for c in result if c.grade != c.band_grade), result.cards[0])
    print(f"\nWhy did {capped.employee_id} get {capped.grade}?\n", file=out)
    print(capped.explain().to_text(), file=out)
    return 0


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    return report_files(args.schemes, lambda path: (validate_scheme(path), ""), key="scheme", fmt=args.format, out=out)


def report_files(
    paths: Sequence[str],
    check: Callable[[str], tuple[Sequence[PerfkitError], str]],
    *,
    key: str,
    fmt: str,
    out: TextIO,
) -> int:
    """``validate`` commands: each file ``ok`` (with ``check``'s note) or its numbered
    problems, as text or JSON; 1 when any file has a problem."""
    failed = False
    report: list[dict[str, Any]] = []
    for path in paths:
        problems, note = check(path)
        failed = failed or bool(problems)
        report.append({key: path, "ok": not problems, "problems": [p.to_dict() for p in problems]})
        if fmt != "text":
            continue
        if not problems:
            print(f"{path}: ok{note}", file=out)
            continue
        print(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=out)
        for number, problem in enumerate(problems, 1):
            print(f"{number}. " + str(problem).replace("\n", "\n   "), file=out)
    if fmt == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str), file=out)
    return 1 if failed else 0


def _load(args: argparse.Namespace) -> tuple[Scheme, list[Any]]:
    return load_scheme(args.scheme), read_rows(args.data)


def _score(args: argparse.Namespace, out: TextIO) -> int:
    if _from_records(args):
        traced = _traced(args, "collect" if args.collect_errors else "raise")
        _write(traced.evaluation, args.format, out)
        if args.lineage:
            Path(args.lineage).write_text(traced.lineage_json(), encoding="utf-8")
        for problem in traced.problems:
            print(f"error: {_data_problem(problem)}", file=sys.stderr if out is sys.stdout else out)
        return 0 if traced.ok else 1
    if args.lineage:
        args.usage("--lineage goes with --records")
    scheme, rows = _load(args)
    history = [read_rows(path) for path in args.history]
    result = scheme.compile().evaluate(rows, errors="collect" if args.collect_errors else "raise", history=history)
    _write(result, args.format, out)
    for problem in result.problems:
        print(f"error: {_data_problem(problem)}", file=sys.stderr if out is sys.stdout else out)
    return 0 if result.ok else 1


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    if _from_records(args):
        traced = _traced(args, "collect").explain(args.employee_id)
        print(traced.to_json() if args.format == "json" else traced.to_text(), file=out)
        return 0
    scheme, rows = _load(args)
    matching = [row for row in rows if str(row.get("employee_id", "")).strip() == args.employee_id]
    if not matching:
        raise DataError(f"{args.data} has no row with employee_id {args.employee_id!r}")
    history = [read_rows(path) for path in args.history]
    explanation = scheme.compile().evaluate(matching, history=history)[args.employee_id].explain()
    print(explanation.to_json() if args.format == "json" else explanation.to_text(), file=out)
    return 0


def _test(args: argparse.Namespace, out: TextIO) -> int:
    failed = False
    report: list[dict[str, Any]] = []
    for path in args.schemes:
        try:
            scheme = load_scheme(path)
        except PerfkitError as exc:
            failed = True
            report.append({"path": path, "scheme": None, "ok": False, "error": str(exc), "tests": []})
            if args.format == "text":
                print(f"{path}: the scheme does not load", file=out)
                print("  " + str(exc).replace("\n", "\n  "), file=out)
            continue
        result = run_tests(scheme)
        failed = failed or not result.ok
        report.append({"path": path, **result.to_dict(), "error": None})
        if args.format == "text":
            print(result.to_text(title=path), file=out)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
    return 1 if failed else 0


def _calibrate(args: argparse.Namespace, out: TextIO) -> int:
    from perfkit.calibration.distribution import allocate
    from perfkit.calibration.policy import load_policy
    from perfkit.org import Roster

    scheme, rows = _load(args)
    compiled = scheme.compile()
    result = compiled.evaluate(rows)
    policy = load_policy(args.policy, compiled.scale) if args.policy else None
    if args.units and not args.roster:
        raise DataError("--units needs --roster (the employees of the org roster)")
    roster = Roster.read(args.roster, args.units) if args.roster else None
    allocation = allocate(result, policy, roster=roster)
    if args.format == "json":
        data = {
            "scheme": scheme.id,
            "ok": allocation.ok,
            "pools": [
                {
                    "pool": pool.key,
                    "size": pool.size,
                    "merged_from": list(pool.merged_from),
                    "quotas": [{"quota": q.key, "low": q.low, "high": q.high, "count": q.count, "ok": q.ok} for q in pool.quotas],
                }
                for pool in allocation.pools
            ],
            "ties": [
                {"pool": t.pool, "employees": list(t.employee_ids), "total": str(t.total), "resolved": t.resolved}
                for t in allocation.ties
            ],
            "people": allocation.to_records(),
        }
        print(json.dumps(data, ensure_ascii=False, indent=2), file=out)
    elif args.format == "csv":
        records = allocation.to_records()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["employee_id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        out.write(buffer.getvalue())
    else:
        print(allocation.to_text(), file=out)
        before = allocation.distribution({p.employee_id: p.rule_grade for p in allocation})
        after = allocation.distribution()
        names = list(after)
        print(f"\nall pools: {len(allocation)} people", file=out)
        print("  grade   " + "".join(f"{n:>6}" for n in names), file=out)
        print("  before  " + "".join(f"{before[n]:>6}" for n in names), file=out)
        print("  after   " + "".join(f"{after[n]:>6}" for n in names), file=out)
        escalated = [t for t in allocation.ties if t.resolved is None]
        if escalated:
            print(f"\n{len(escalated)} tie(s) at a quota cut left for the calibration session:", file=out)
            for tie in escalated:
                print(f"  pool {tie.pool}: {', '.join(tie.employee_ids)} at {tie.total} ({'/'.join(tie.grades)})", file=out)
    return 0


def _metrics(args: argparse.Namespace, out: TextIO) -> int:
    roster, calendar, as_of = _roster(args), _calendar(args), _instant(args.as_of, "--as-of")
    store, report = _read_records(args.records, args)
    definitions = load_metrics(args.definitions)
    results = compute(
        definitions, store, args.period, calendar=calendar, roster=roster, as_of=as_of, metrics=args.metric_ids or None
    )
    if args.format == "json":
        out.write(results.to_json())
        return 0
    print(f"{', '.join(results.metrics)} in {results.period.label} from {len(store)} records ({report})", file=out)
    if results.as_of is not None:
        print(f"as of {results.as_of.isoformat()}: {len(results.excluded)} later record versions excluded", file=out)
    header = ["employee_id", *results.metrics]
    rows = [
        [employee, *(_metric_cell(results[employee, metric].value) for metric in results.metrics)]
        for employee in results.employees
    ]
    print(file=out)
    print(_grid(header, rows) if rows else "(no employees: no records are attributed in this period)", file=out)
    return 0


def _metric_cell(value: Decimal | None) -> str:
    return "no data" if value is None else format(value, "f")


def _from_records(args: argparse.Namespace) -> bool:
    """Whether score / explain read source records; usage errors for a half-given set of options."""
    given = [name for name in ("metrics", "period") if getattr(args, name)]
    if not args.records:
        if given:
            args.usage(f"--{given[0]} goes with --records (source record files)")
        if args.data is None:
            args.usage("give DATA (a table of inputs), or --metrics, --records and --period")
        return False
    for name in ("metrics", "period"):
        if not getattr(args, name):
            args.usage(f"--records needs --{name}")
    return True


def _traced(args: argparse.Namespace, errors: Literal["raise", "collect"]) -> TracedEvaluation:
    roster, calendar, as_of = _roster(args), _calendar(args), _instant(args.as_of, "--as-of")
    store, _ = _read_records(args.records, args)
    return evaluate_records(
        load_scheme(args.scheme),
        load_metrics(args.metrics),
        store,
        args.period,
        calendar=calendar,
        roster=roster,
        as_of=as_of,
        rows=read_rows(args.data) if args.data else None,
        errors=errors,
        history=[read_rows(path) for path in args.history],
    )


def _read_records(paths: Sequence[str], args: argparse.Namespace) -> tuple[RecordStore, ImportReport]:
    """The records of every file, in one store (duplicates across files are reported, not counted twice)."""
    records: list[SourceRecord] = []
    if args.adapter is None:
        for name in ("mapping", "tz", "loaded_at"):
            if getattr(args, name):
                args.usage(f"--{name.replace('_', '-')} goes with --adapter (perfkit record files need none)")
        for path in paths:
            records.extend(read_records(path))
    else:
        adapter = ADAPTERS[args.adapter]
        mapping = _mapping_file(args.mapping) if args.mapping else None
        loaded_at = _instant(args.loaded_at, "--loaded-at")
        for path in paths:
            if not Path(path).is_file():
                raise DataError(f"{path}: file not found")
            records.extend(adapter(Path(path), mapping=mapping, loaded_at=loaded_at, tz=args.tz or args.calendar_tz))
    return RecordStore.empty().add(records)


def _mapping_file(path: str) -> Mapping[str, Any]:
    text = read_file(path, lambda reason: SchemeError(reason, source=path))
    data, _ = read_text(text, source=path)
    if not isinstance(data, Mapping):
        raise SchemeError("a field mapping is a mapping (source:, record_id:, fields: ...)", source=path, line=1)
    return data


def _calendar(args: argparse.Namespace) -> Calendar:
    return Calendar(tz=args.calendar_tz or "UTC", fiscal_year_start=args.fiscal_start or 1)


def _roster(args: argparse.Namespace) -> Roster | None:
    if args.units and not args.roster:
        args.usage("--units needs --roster (the employees of the org roster)")
    return Roster.read(args.roster, args.units) if args.roster else None


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = parse_datetime(text)
    except ValueError:
        raise DataError(f"{option} {text!r} is not an ISO 8601 time (2026-07-05T18:00:00+08:00)") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise DataError(f"{option} {text!r} has no UTC offset; write e.g. {text}+08:00 or {text}Z")
    return value


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    print(json.dumps(Scheme.json_schema(), ensure_ascii=False, indent=2), file=out)
    return 0


def _data_problem(problem: DataError) -> str:
    return str(problem).replace("\n", "\n   ")


def _write(result: Evaluation, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        print(result.to_json(), file=out)
    elif fmt == "csv":
        out.write(_csv(result))
    else:
        print(_table(result), file=out)


def _csv(result: Evaluation) -> str:
    buffer = io.StringIO()
    records = [_flat(r) for r in result.to_records()]
    columns = list(dict.fromkeys(key for record in records for key in record))
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    return {k: ";".join(v) if isinstance(v, tuple) else ("" if v is None else str(v)) for k, v in record.items()}


def _table(result: Evaluation) -> str:
    if not result.cards:
        return "(no score cards)"
    kpi_ids = [k.id for k in result.cards[0].kpis]
    header = ["employee_id", *kpi_ids, "total", "band", "grade", "flags / rules"]
    rows = []
    for card in result:
        notes = ", ".join([*card.flags, *(f"rule {r}" for r in card.rules)])
        rows.append([card.employee_id, *(str(k.score) for k in card.kpis), str(card.total), card.band_grade, card.grade, notes])
    return _grid(header, rows)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(display_width(h), *(display_width(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    lines.extend(_line(r, widths) for r in rows)
    return "\n".join(lines)


def _line(cells: list[str], widths: list[int]) -> str:
    parts = []
    for i, (cell, width) in enumerate(zip(cells, widths)):
        pad = " " * (width - display_width(cell))
        numeric = i > 0 and _is_number(cell)
        parts.append(pad + cell if numeric else cell + pad)
    return "  ".join(parts).rstrip()


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
