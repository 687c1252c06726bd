"""F8: hostile data and SII files are refused with a clear reason, without expanding or crashing."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from armsbot.countries import iso_countries
from armsbot.datafiles import DataFilesInvalid, load_data_dir, read_entity_file
from armsbot.imports.core import DatasetFileInvalid
from armsbot.imports.sii import import_sii, read_sii_file
from armsbot.models import MAX_NESTING
from armsbot.storage import KnowledgeBase
from tests.test_cli import run
from tests.test_sii_import import counts_add_up, record, write_records

DEEP = 50_000


def billion_laughs() -> str:
    """Ten levels of ten aliases each: 10^10 strings once expanded, in about 1 kB of YAML."""
    lines = ["kind: firm", "id: acme", "name: Acme", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 11):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- YAML data files ---------------------------------------------------------------------------


def test_f8_a_billion_laughs_data_file_is_refused_before_anything_is_expanded(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "firms/acme.yaml", billion_laughs())
    tracemalloc.start()
    try:
        entity, problems = read_entity_file(path, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entity is None
    assert [str(p) for p in problems] == [
        "firms/acme.yaml: line 4: YAML anchors and aliases are not allowed"
    ]
    assert peak < 5_000_000, f"{peak:,} bytes traced while refusing a 1 kB file"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("kind: firm\nid: acme\nname: &n Acme\n", 3),
        ("kind: firm\nid: acme\nname: *n\n", 3),  # an alias with no anchor
        ("base: &base {kind: firm}\n<<: *base\nid: acme\nname: Acme\n", 1),
    ],
    ids=["anchor", "alias", "merge-key"],
)
def test_f8_every_anchor_or_alias_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int
) -> None:
    write(tmp_path, "firms/acme.yaml", text)
    with pytest.raises(DataFilesInvalid) as caught:
        load_data_dir(tmp_path, known_ids=iso_countries())
    assert [str(p) for p in caught.value.problems] == [
        f"firms/acme.yaml: line {line}: YAML anchors and aliases are not allowed"
    ]


@pytest.mark.parametrize(
    "nesting",
    [
        "[" * DEEP + "]" * DEEP,
        "{a: " * DEEP + "1" + "}" * DEEP,
        "\n" + "".join(f"{'  ' * i}- \n" for i in range(200)),  # block style
    ],
    ids=["flow-lists", "flow-maps", "block-lists"],
)
def test_f8_deeply_nested_yaml_is_refused_with_a_clear_error(tmp_path: Path, nesting: str) -> None:
    path = write(tmp_path, "firms/acme.yaml", f"kind: firm\nid: acme\nname: Acme\nx: {nesting}")
    entity, problems = read_entity_file(path, tmp_path)
    assert entity is None
    (problem,) = problems
    assert problem.file == "firms/acme.yaml"
    assert problem.field.startswith("line ")
    assert problem.reason == f"is nested more than {MAX_NESTING} levels deep"


def test_f8_the_cli_refuses_hostile_data_files_in_one_line_each(
    tmp_path: Path, db_copy: Path
) -> None:
    data = tmp_path / "data"
    write(data, "firms/acme.yaml", billion_laughs())
    write(data, "firms/deep.yaml", "kind: firm\nid: deep\nname: Deep\nx: " + "[" * DEEP)
    before = db_copy.read_bytes()
    result = run("db", "build", "--data", str(data), "--force", database=db_copy)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "firms/acme.yaml: line 4: YAML anchors and aliases are not allowed" in result.stderr
    assert f"firms/deep.yaml: line 4: is nested more than {MAX_NESTING} levels deep" in (
        result.stderr
    )
    assert db_copy.read_bytes() == before


# -- the SII file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "[" * DEEP + "]" * DEEP,
        '[{"unique_id": "A", "extra": ' + "[" * DEEP + "]" * DEEP + "}]",
        "[" + '{"a": ' * DEEP + "1" + "}" * DEEP + "]",
    ],
    ids=["lists", "in-an-ignored-field", "objects"],
)
def test_f8_deeply_nested_sii_json_is_refused_with_a_clear_error(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetFileInvalid) as refused:
        read_sii_file(path)
    assert refused.value.problems == [
        f"{path}: is nested more than {MAX_NESTING} levels deep (line 1)"
    ]


def test_f8_brackets_inside_sii_strings_are_not_nesting(tmp_path: Path) -> None:
    title = '[{"\\"' * 100 + "]}" * 100
    path = write_records(tmp_path, [record("Brackets", title=title)])
    (read,) = read_sii_file(path).records
    assert read.title == title


async def test_f8_a_lone_surrogate_record_is_listed_as_not_imported(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    records = [
        record("Kept"),
        record("Half-\udc00"),
        record("Title", title="A title \ud83d broken"),
        record("Goods", goods=["Lawful interception", "\udfff"]),
    ]
    path = write_records(tmp_path, records)
    assert "\\udc00" in path.read_text(encoding="utf-8")  # as JSON writes a lone surrogate
    report = await import_sii(kb, path)
    assert counts_add_up(report)
    assert report.claims_added == 1
    reasons = dict(report.not_imported)
    why = "contains a lone surrogate ({}), which is not valid Unicode text"
    assert reasons == {
        "Half-\\udc00": "unique_id: " + why.format("U+DC00"),
        "Title": "title: " + why.format("U+D83D"),
        "Goods": "goods: " + why.format("U+DFFF"),
    }
    assert all(uid.isprintable() for uid, _ in report.not_imported)


def test_f8_the_cli_reports_a_lone_surrogate_record_and_imports_the_rest(
    tmp_path: Path, db_copy: Path
) -> None:
    path = write_records(tmp_path, [record("Kept"), record("Half-\udc00")])
    result = run("db", "import", "sii", str(path), database=db_copy)
    assert result.returncode == 0, result.stderr
    assert "claims: 1 added" in result.stdout
    assert "not imported: 1" in result.stdout
    assert "Half-\\udc00: unique_id: contains a lone surrogate (U+DC00)" in result.stdout
    malformed = tmp_path / "malformed.json"
    malformed.write_text(json.dumps([{"unique_id": "X\udc00", "goods": "Biometrics"}]))
    refused = run("db", "import", "sii", str(malformed), database=db_copy)
    assert refused.returncode == 3
    assert "Traceback" not in refused.stderr
    assert "record 1 (X\\udc00): goods: Input should be a valid list" in refused.stderr
