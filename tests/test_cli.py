"""The CLI end to end: in process (``cli.main``), and as the real entry point where that matters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, run_cli_process


def run(
    *args: str, database: Path, cwd: Path | None = None, data: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, database=database, cwd=cwd, data=data)


@pytest.mark.slow  # multi-process: the real entry point, as its own process, building a base
def test_first_use_builds_the_database_and_answers_a_typo(tmp_path: Path) -> None:
    """The real entry point (``python -m armsbot``), as its own process, from another folder."""
    database = tmp_path / "new" / "armsbot.sqlite3"
    result = run_cli_process("ask", "country", "azerbajan", database=database, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Azerbaijan (AZ) — country")
    assert "Acquisitions" in out
    assert "NSO Group" in out
    assert "[reported]" in out
    assert "https://www.timesofisrael.com/" in out
    assert database.exists()


def test_ask_json_is_the_card(db_copy: Path) -> None:
    result = run("ask", "firm", "nso", "--json", database=db_copy)
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["entity_id"] == "nso-group"
    assert card["kind"] == "firm"
    lines = [line for s in card["sections"] for g in s["groups"] for line in g["lines"]]
    numbers = {n for line in lines for n in line["sources"]}
    assert numbers == {s["number"] for s in card["sources"]}
    assert all(line["status"] in {"confirmed", "reported", "alleged", "denied"} for line in lines)
    assert all(line["sources"] for line in lines)


@pytest.mark.parametrize(
    ("args", "expected_first"),
    [
        (["azerbajan", "--kind", "country"], "AZ"),
        (["Марокко"], "MA"),
        (["pegasus"], "nso-group"),
    ],
)
def test_search_json_best_first(db_copy: Path, args: list[str], expected_first: str) -> None:
    result = run("search", *args, "--json", database=db_copy)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found[0]["id"] == expected_first
    assert {"id", "kind", "name", "matched", "score"} <= set(found[0])
    assert [r["score"] for r in found] == sorted((r["score"] for r in found), reverse=True)


def test_ask_law_and_search_render_text(db_copy: Path) -> None:
    law = run("ask", "law", "defence export control", database=db_copy)
    assert law.returncode == 0, law.stderr
    assert law.stdout.splitlines()[0].startswith("Defense Export Control Law, 2007")
    assert "Type: statute" in law.stdout
    # Three instruments are named "Defense export ...": the bare words do not choose one alone.
    several = run("ask", "law", "defense export", database=db_copy)
    assert several.returncode == 1
    assert "(law, id defense-export-control-law-2007)" in several.stdout
    assert "(law, id defense-export-controls-agency)" in several.stdout
    found = run("ask", "search", "pegasus", database=db_copy)
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0] == "Search: pegasus"
    assert "NSO Group (firm, nso-group)" in found.stdout


def test_unknown_input_prints_candidates_and_fails(db_copy: Path) -> None:
    ambiguous = run("ask", "country", "congo", database=db_copy)
    assert ambiguous.returncode == 1
    assert "Did you mean:" in ambiguous.stdout
    assert "(country, id CD)" in ambiguous.stdout
    nothing = run("ask", "firm", "qqqqqqqq", database=db_copy)
    assert nothing.returncode == 1
    assert "Nothing matched" in nothing.stdout


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("   ", "The query is empty"),
        ("x" * 101, "101 characters long"),
        ("nso\u202e", "direction-changing"),
    ],
)
def test_bad_input_gets_a_clear_message(db_copy: Path, query: str, message: str) -> None:
    result = run("ask", "firm", query, database=db_copy)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_db_build_refuses_bad_data_and_keeps_the_database(
    db_copy: Path, data_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "data"
    shutil.copytree(data_dir, broken)
    nso = broken / "firms" / "nso-group.yaml"
    nso.write_text(nso.read_text(encoding="utf-8").replace("status: reported", "status: gossip", 1))
    before = db_copy.read_bytes()
    result = run("db", "build", "--data", str(broken), database=db_copy)
    assert result.returncode == 3
    assert "firms/nso-group.yaml: claims[" in result.stderr
    assert (
        "].status: Input should be 'confirmed', 'reported', 'alleged' or 'denied'" in result.stderr
    )
    assert db_copy.read_bytes() == before
    check = run("db", "check", database=db_copy)
    assert check.returncode == 0
    assert check.stdout.startswith("ok:")


def test_db_build_export_check(tmp_path: Path, data_dir: Path) -> None:
    database = tmp_path / "kb.sqlite3"
    built = run("db", "build", database=database)
    assert built.returncode == 0, built.stderr
    assert "Built" in built.stderr
    again = run("db", "build", database=database)
    assert "Already up to date" in again.stderr
    exported = run("db", "export", str(tmp_path / "out"), database=database)
    assert exported.returncode == 0, exported.stderr
    assert sorted(
        p.relative_to(tmp_path / "out") for p in (tmp_path / "out").glob("*/*.yaml")
    ) == sorted(p.relative_to(data_dir) for p in data_dir.glob("*/*.yaml"))


@pytest.mark.slow  # multi-process: builds the wheel and runs it elsewhere
def test_the_wheel_ships_the_data(tmp_path: Path) -> None:
    """A non-editable install carries data/ inside the package, so it answers from any folder."""
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("armsbot-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "armsbot/data/firms/nso-group.yaml" in names
    assert "armsbot/cli.py" in names
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "ARMSBOT_DATABASE": str(tmp_path / "w.sqlite3")}
    env.pop("ARMSBOT_DATA_DIR", None)
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from armsbot.cli import main; raise SystemExit(main(['ask', 'country', 'azerbajan']))",
            str(site),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Azerbaijan (AZ)")
