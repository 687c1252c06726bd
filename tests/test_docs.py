"""Every console example in the docs runs, and prints what the docs show (CONTRIBUTING.md says how).

As sqlite-utils does with its docs: each ```console block of README.md, CONTRIBUTING.md and
docs/*.md is run in process, command by command, and its output compared with the text after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import doctest
import os
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from armsbot import cli
from armsbot.changes import AddAlias, Submission
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService
from armsbot.storage import KnowledgeBase
from tests.conftest import REPO, shared_file

DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^```console(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL
)
SKIP_REASONS = {
    "token": "needs a Discord token",
    "docker": "needs Docker",
    "network": "downloads from the network",
    "fault": "needs a damaged file or a full disk (tests/test_db_faults.py makes them)",
}
SHOWN_HOME = "/home/me/.local/share/armsbot"  # where the docs show the database
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
DURATION = re.compile(r"\bin \d+(?:\.\d+)? s\b")


@dataclass
class Command:
    line: int
    text: str
    output: list[str] = field(default_factory=list)


@dataclass
class Block:
    path: Path
    line: int
    options: dict[str, str]
    commands: list[Command]

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def console_blocks(path: Path) -> list[Block]:
    """The ```console blocks of one Markdown file, each split into commands and their output."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        first = text.count("\n", 0, match.start("body")) + 1
        options = dict(option.split("=", 1) for option in match["info"].split())
        commands: list[Command] = []
        for offset, line in enumerate(match["body"].splitlines()):
            if line.startswith("$ "):
                commands.append(Command(first + offset, line[2:]))
            elif commands:
                commands[-1].output.append(line)
            else:
                raise AssertionError(f"{path}:{first + offset}: output before any `$ ` command")
        blocks.append(Block(path, first - 1, options, commands))
    return blocks


BLOCKS = [block for path in DOCS for block in console_blocks(path)]


def normalise(text: str) -> str:
    text = TIME.sub("<time>", text)
    text = DURATION.sub("in <seconds> s", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


# -- the set-ups a block may name (```console setup=NAME) --------------------------------------


def _corrections(database: Path, work: Path) -> None:
    """Two pending corrections: #1 adds a name to Azerbaijan, #2 one to NSO Group."""

    async def submit() -> None:
        async with await KnowledgeBase.open(database) as kb:
            service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()))
            for entity, name, why in (
                ("AZ", "Azerbaijan Republic", "The official short name is missing."),
                ("nso-group", "NSO Group Technologies", "The registered name is missing."),
            ):
                submission = Submission.model_validate(
                    {
                        "entity_id": entity,
                        "change": AddAlias(name=name).model_dump(),
                        "what_is_wrong": why,
                        "source_url": "https://example.org/source",
                    }
                )
                await service.submit(submission, "discord:123456789012345678")

    asyncio.run(submit())


def _broken_data(database: Path, work: Path) -> None:
    """``broken/``: the bundled data with one claim's status misspelt."""
    from armsbot.datafiles import bundled_data_dir  # noqa: PLC0415

    shutil.copytree(bundled_data_dir(), work / "broken")
    nso = work / "broken" / "firms" / "nso-group.yaml"
    text = nso.read_text(encoding="utf-8")
    nso.write_text(text.replace("status: reported", "status: gossip", 1), encoding="utf-8")


def _datasets(database: Path, work: Path) -> None:
    """The public datasets' files (from ../shared) in the folder, as a person fetched them."""
    for relative in ("datasets/sii/transfers.json", "datasets/granitt/data-pegasus-victims.csv"):
        source = shared_file(relative)
        shutil.copy(source, work / source.name)


SETUPS: dict[str, Callable[[Path, Path], None]] = {
    "corrections": _corrections,
    "broken-data": _broken_data,
    "datasets": _datasets,
}


def test_the_docs_have_console_examples_and_every_option_is_known() -> None:
    assert len(BLOCKS) >= 10
    for block in BLOCKS:
        assert set(block.options) <= {"skip", "setup"}, block.name
        assert block.options.get("skip", "token") in SKIP_REASONS, block.name
        assert block.options.get("setup", "corrections") in SETUPS, block.name
        assert block.commands, block.name


def run_block(
    block: Block,
    built_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    """Run a block's commands in order; return how each differs from the docs (empty: none)."""
    home = tmp_path / "home"
    home.mkdir()
    database = home / "armsbot.sqlite3"
    shutil.copy(built_db, database)
    work = tmp_path / "work"
    work.mkdir()
    for name in [n for n in os.environ if n.startswith("ARMSBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ARMSBOT_DATABASE", str(database))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(work)
    if "setup" in block.options:
        SETUPS[block.options["setup"]](database, work)
    problems = []
    for command in block.commands:
        where = f"{block.name.split(':')[0]}:{command.line}"
        argv = shlex.split(command.text, comments=True)
        if argv[:1] != ["armsbot"]:
            problems.append(f"{where}: only armsbot commands run in the docs")
            continue
        if not command.output:  # shown for its options: they must parse
            try:
                cli._parser().parse_args(argv[1:])
            except SystemExit:
                problems.append(f"{where}: `{command.text}` does not parse")
            capsys.readouterr()
            continue
        with contextlib.suppress(SystemExit):  # argparse refused it, and said why on stderr
            cli.main(argv[1:])
        out, err = capsys.readouterr()
        got = normalise((out + err).replace(str(home), SHOWN_HOME))
        want = normalise("\n".join(command.output))
        if not doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS):
            diff = "".join(
                difflib.unified_diff(
                    want.splitlines(keepends=True), got.splitlines(keepends=True), "docs", "ran"
                )
            )
            problems.append(f"{where}: `{command.text}` printed otherwise:\n{diff}")
    return problems


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, marks=[pytest.mark.slow] if b.options.get("setup") == "datasets" else [])
        for b in BLOCKS
        if "skip" not in b.options
    ],
    ids=lambda b: b.name,
)
def test_console_example(
    block: Block,
    built_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    problems = run_block(block, built_db, tmp_path, monkeypatch, capsys)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_an_example_that_drifted_from_the_program_is_caught(
    built_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n```console\n"
        "$ armsbot search azerbajan --kind country --limit 1   # a comment\n"
        " 63.2  country AZ ... Azerbaijan\n"
        "$ armsbot ask country azerbajan\n"
        "Azerbaijan (AZ) — country\n"
        "ISO code: AZ\n"
        "...\n"
        "$ armsbot search --no-such-option x\n"
        "$ armsbot ask firm nso\n"
        "Something the card does not say\n"
        "...\n"
        "```\n\n```console skip=network\n$ armsbot db import sii\nanything\n```\n",
        encoding="utf-8",
    )
    blocks = console_blocks(page)
    assert [b.options for b in blocks] == [{}, {"skip": "network"}]
    assert [len(c.output) for c in blocks[0].commands] == [1, 3, 0, 2]
    blocks[0].path = REPO / "page.md"
    (tmp_path / "run").mkdir()
    problems = run_block(blocks[0], built_db, tmp_path / "run", monkeypatch, capsys)
    assert len(problems) == 2
    assert "`armsbot search --no-such-option x` does not parse" in problems[0]
    assert "`armsbot ask firm nso` printed otherwise" in problems[1]
    assert "+NSO Group (nso-group) — firm" in problems[1]
