"""The shared folder: what a bare clone skips, what CI refuses to skip, and the copies kept here."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_DATA, shared_file

TINY = """
from tests.conftest import shared_file

def test_present():
    assert shared_file("eval/here.tsv").read_text(encoding="utf-8") == "here"

def test_missing():
    shared_file("datasets/gone.json")
"""


def run_tiny_suite(tmp_path: Path, *, ci: str | None) -> tuple[int, dict[str, ET.Element]]:
    """Run TINY with a shared folder holding one of its two files: exit code, case per test."""
    shared = tmp_path / "shared"
    (shared / "eval").mkdir(parents=True, exist_ok=True)
    (shared / "eval" / "here.tsv").write_text("here", encoding="utf-8")
    (tmp_path / "test_tiny.py").write_text(TINY, encoding="utf-8")
    report = tmp_path / f"report-{ci}.xml"
    env = {**os.environ, "ARMSBOT_SHARED": str(shared)}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    done = subprocess.run(
        [*command, f"--rootdir={tmp_path}", f"--junitxml={report}", str(tmp_path / "test_tiny.py")],
        cwd=REPO,  # so that `tests.conftest` imports
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert report.exists(), done.stdout + done.stderr
    cases = {case.attrib["name"]: case for case in ET.parse(report).iter("testcase")}
    return done.returncode, cases


@pytest.mark.slow  # multi-process: runs pytest in a child
def test_a_missing_shared_file_is_skipped_with_its_reason_and_fails_under_ci(
    tmp_path: Path,
) -> None:
    reason = (
        "shared/datasets/gone.json is not in the repository and "
        f"{tmp_path / 'shared' / 'datasets' / 'gone.json'} is missing"
    )

    code, cases = run_tiny_suite(tmp_path, ci=None)
    assert code == 0
    assert list(cases["test_present"]) == []  # passed
    [skipped] = list(cases["test_missing"])
    assert (skipped.tag, skipped.attrib["message"]) == ("skipped", reason)

    code, cases = run_tiny_suite(tmp_path, ci="true")
    assert code == 1
    assert list(cases["test_present"]) == []
    [failed] = list(cases["test_missing"])
    assert (failed.tag, failed.attrib["message"]) == (
        "failure",
        f"Failed: {reason} (CI=true: the shared folder must be there)",
    )


@pytest.mark.parametrize(
    ("copy", "original"),
    [
        ("search_queries.tsv", "eval/search_queries.tsv"),
        ("facts.jsonl", "reference/facts.jsonl"),
    ],
)
def test_the_copies_in_tests_data_match_their_originals(copy: str, original: str) -> None:
    assert (TEST_DATA / copy).read_bytes() == shared_file(original).read_bytes(), (
        f"shared/{original} changed: copy it to tests/data/{copy}"
    )
