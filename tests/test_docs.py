"""The documentation is executed: every code sample in README.md and docs/*.md runs.

For each Markdown file, its fenced blocks are processed in document order, in a fresh
temporary working directory:

* ```` ```python ```` blocks run in one namespace shared by the whole file, so a later block
  can use what an earlier one defined (and read the files it wrote). Expected results are
  written as ``assert`` statements inside the blocks.
* A block with a ``title="NAME"`` in its info string (```` ```yaml title="sales.yaml" ````,
  MkDocs Material's syntax for a file name) is written to the file ``NAME`` first, so the
  samples that follow can read it.
* ```` ```console ```` blocks hold ``$ perfkit ...`` commands; each runs through the CLI, and
  the lines after it must match what it prints (``...`` stands for any text, whitespace
  runs are equal, as in doctest).

Any other block (```` ```text ````, ```` ```yaml ```` without a title, ```` ```sh ````) is
shown to the reader only. A failing assert, an exception or a warning fails the file's test.
"""

from __future__ import annotations

import doctest
import io
import re
import shlex
from pathlib import Path

import pytest

import perfkit
from perfkit.cli import main as cli_main
from perfkit.rules import FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(
    r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.DOTALL | re.MULTILINE
)
TITLE = re.compile(r"""title=["']?(?P<name>[^"'\s]+)""")


class Block:
    """One fenced block: its language, optional file title, text and line in the file."""

    def __init__(self, language: str, title: str | None, text: str, line: int) -> None:
        self.language = language
        self.title = title
        self.text = text
        self.line = line


def blocks(markdown: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(markdown):
        info = match["info"].strip()
        language = info.split()[0] if info else ""
        title = TITLE.search(info)
        indent = len(match["indent"])
        text = "".join(line[indent:] + "\n" for line in match["body"].splitlines())
        line = markdown.count("\n", 0, match.start()) + 2
        found.append(Block(language, title["name"] if title else None, text, line))
    return found


def run_console(block: Block, where: str) -> None:
    """Run each ``$ perfkit ...`` command and compare its output with the lines under it."""
    commands: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    assert commands, f"{where}: a console block with no '$ perfkit' command"
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for command, expected in commands:
        argv = shlex.split(command)
        assert argv[0] == "perfkit", f"{where}: only perfkit commands run here, not {command!r}"
        out = io.StringIO()
        cli_main(argv[1:], stdout=out)
        want = "\n".join(expected).strip() + "\n"
        got = out.getvalue().strip() + "\n"
        if want.strip() and not checker.check_output(want, got, flags):
            pytest.fail(f"{where}: `{command}` printed\n{got}\nbut the doc shows\n{want}")


def run_markdown(path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run the samples of one Markdown file in ``workdir``; return how many ran."""
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": f"docs:{path.name}"}
    ran = 0
    for block in blocks(path.read_text(encoding="utf-8")):
        where = f"{path.name}, line {block.line}"
        if block.title:
            (workdir / block.title).write_text(block.text, encoding="utf-8")
        if block.language == "python":
            # Padded so that tracebacks give the line in the Markdown file.
            code = compile("\n" * (block.line - 1) + block.text, str(path), "exec")
            exec(code, namespace)  # noqa: S102 - the docs are ours
            ran += 1
        elif block.language == "console":
            run_console(block, where)
            ran += 1
    return ran


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_samples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python and console sample of the file runs, and its asserts hold."""
    assert run_markdown(path, tmp_path, monkeypatch) > 0, f"{path.name} has no executable sample"


def test_every_page_is_found() -> None:
    names = {p.name for p in DOC_FILES}
    assert {"README.md", "index.md", "tutorial.md", "scheme-format.md", "functions.md", "errors.md"} <= names


def test_function_reference_matches_the_library() -> None:
    """docs/functions.md lists every function, its signature and its examples, with their results."""
    page = (ROOT / "docs" / "functions.md").read_text(encoding="utf-8")
    for function in FUNCTIONS.values():
        assert f"`{function.signature}`" in page, function.name
        for text, expected in function.examples:
            row = re.compile(rf"\|\s*`{re.escape(text)}`\s*\|\s*`{re.escape(expected)}`\s*\|")
            assert row.search(page), f"functions.md lacks the example `{text}` → `{expected}`"


class TestTheRunnerCanFail:
    """The checks above mean something: a wrong doc fails."""

    def test_a_wrong_assert_fails(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        doc = tmp_path / "wrong.md"
        doc.write_text(
            "```python\nimport perfkit as pk\nx = 1\n```\n\ntext\n\n```python\nassert x == 2\n```\n",
            encoding="utf-8",
        )
        with pytest.raises(AssertionError):
            run_markdown(doc, tmp_path, monkeypatch)

    def test_blocks_share_a_namespace_and_files(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        doc = tmp_path / "ok.md"
        doc.write_text(
            '```text title="note.txt"\nhello\n```\n\n'
            '```python\nfrom pathlib import Path\nvalue = Path("note.txt").read_text()\n```\n\n'
            "```python\nassert value == 'hello\\n'\n```\n\n```yaml\nnot: [run\n```\n",
            encoding="utf-8",
        )
        assert run_markdown(doc, tmp_path, monkeypatch) == 2

    def test_wrong_console_output_fails(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = perfkit.example_path("sales-quarterly.yaml")
        doc = tmp_path / "cli.md"
        doc.write_text(f"```console\n$ perfkit validate {path}\n... not ok\n```\n", encoding="utf-8")
        with pytest.raises(pytest.fail.Exception):
            run_markdown(doc, tmp_path, monkeypatch)
