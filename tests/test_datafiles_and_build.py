"""Loading data/ is all or nothing; building is idempotent, lossless and transactional."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from armsbot.countries import iso_countries
from armsbot.datafiles import (
    DataFilesInvalid,
    _Dumper,
    _FastLoader,
    _load_yaml,
    _Loader,
    entity_to_yaml,
    load_data_dir,
)
from armsbot.services import data
from armsbot.storage import KnowledgeBase
from tests.test_claim_party_columns import log_rewrites, rewrites

GOOD_FIRM = """\
kind: firm
id: acme
name: Acme
aliases: [Acme Ltd, {name: Snoop, type: product}]
firm: {headquarters: IL}
claims:
  - id: acme-sale
    text: Acme reportedly sold Snoop to a ministry.
    status: reported
    category: transfer
    date: 2019-05
    product: Snoop
    parties: [{entity: acme, role: supplier}, {entity: AZ, role: recipient}]
    sources: [{url: "https://example.org/a", title: A report, publisher: Example, date: 2019-05-02}]
"""


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(root: Path) -> list[str]:
    with pytest.raises(DataFilesInvalid) as caught:
        load_data_dir(root, known_ids=iso_countries())
    return [str(p) for p in caught.value.problems]


def test_every_bad_file_is_reported_with_file_field_and_reason(tmp_path: Path) -> None:
    write(tmp_path, "firms/acme.yaml", GOOD_FIRM.replace("status: reported", "status: rumour"))
    write(
        tmp_path,
        "laws/bad-law.yaml",
        "kind: law\nid: bad-law\nname: Bad\nlaw: {type: decree, jurisdiction: X}\n",
    )
    write(tmp_path, "firms/broken.yaml", "kind: firm\nid: [unclosed\n")
    write(tmp_path, "firms/twice.yaml", "kind: firm\nid: twice\nname: A\nname: B\n")
    write(tmp_path, "firms/elsewhere.yaml", "kind: firm\nid: other-id\nname: Other\n")
    found = problems_of(tmp_path)
    assert any(p.startswith("firms/acme.yaml: claims[0].status: Input should be") for p in found)
    assert any(p.startswith("laws/bad-law.yaml: law.type:") for p in found)
    assert any(p.startswith("firms/broken.yaml: is not valid YAML") for p in found)
    assert any("firms/twice.yaml" in p and "duplicate key 'name'" in p for p in found)
    assert any(
        p.startswith("firms/elsewhere.yaml: id:") and "firms/other-id.yaml" in p for p in found
    )
    assert len(found) == 5


def test_cross_file_references_are_checked(tmp_path: Path) -> None:
    write(tmp_path, "firms/acme.yaml", GOOD_FIRM.replace("entity: AZ", "entity: QQ"))
    write(
        tmp_path,
        "firms/copy.yaml",
        GOOD_FIRM.replace("id: acme\n", "id: copy\n").replace("entity: acme", "entity: copy"),
    )
    write(tmp_path, "countries/XY.yaml", "kind: country\nid: XY\n")
    found = problems_of(tmp_path)
    assert "firms/acme.yaml: claims[0].parties[1].entity: no entity has the id 'QQ'" in found
    assert any(
        p.startswith("firms/copy.yaml: claims[0].id: 'acme-sale' is already used") for p in found
    )
    assert any(p.startswith("countries/XY.yaml: id: is not an ISO 3166-1 code") for p in found)


def edited_copy(data_dir: Path, target: Path, old: str, new: str) -> Path:
    """A copy of the data folder with the first ``old`` in NSO Group's file made ``new``."""
    shutil.copytree(data_dir, target)
    firm = target / "firms" / "nso-group.yaml"
    firm.write_text(firm.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return target


async def test_build_export_build_gives_identical_content(data_dir: Path, tmp_path: Path) -> None:
    async with await KnowledgeBase.open(tmp_path / "first.sqlite3") as first:
        report = await data.build(first, data_dir)
        assert report.built
        exported = tmp_path / "exported"
        written = await data.export(first, exported)
        assert len(written) == len(list(data_dir.glob("*/*.yaml")))
        before = await first.snapshot()
    async with await KnowledgeBase.open(tmp_path / "second.sqlite3") as second:
        await data.build(second, exported)
        after = await second.snapshot()
    assert before == after
    assert len(before["claims"]) > 50


async def test_build_is_idempotent(db_copy: Path, data_dir: Path) -> None:
    async with await KnowledgeBase.open(db_copy) as kb:
        before = await kb.snapshot()
        again = await data.build(kb, data_dir)
        assert not again.built
        await log_rewrites(kb)
        forced = await data.build(kb, data_dir, force=True)
        assert forced.built
        assert await kb.snapshot() == before
        # The claims were deleted before their parties, and written with their party columns
        # whole: no claim's were written again, once per party (migration 12).
        assert await rewrites(kb) == []


async def test_a_bad_file_leaves_the_existing_database_unchanged(
    db_copy: Path, data_dir: Path, tmp_path: Path
) -> None:
    broken = edited_copy(data_dir, tmp_path / "data", "status: reported", "status: maybe")
    async with await KnowledgeBase.open(db_copy) as kb:
        before = await kb.snapshot()
        with pytest.raises(DataFilesInvalid) as caught:
            await data.build(kb, broken)
        assert any(p.field.endswith(".status") for p in caught.value.problems)
        assert await kb.snapshot() == before


async def test_check_passes_on_a_built_database_and_finds_damage(
    kb: KnowledgeBase, data_dir: Path
) -> None:
    assert await kb.integrity_problems() == []
    async with kb.transaction() as db:
        await db.execute("DELETE FROM claim_sources WHERE claim_id = (SELECT min(id) FROM claims)")
        await db.execute("UPDATE aliases SET folded = 'stale' WHERE name = 'Azerbaïdjan'")
    problems = await kb.integrity_problems()
    assert any(p.endswith("has no source") for p in problems)
    assert any("('Azerbaïdjan') is indexed under a stale folded form" in p for p in problems)
    await data.build(kb, data_dir, force=True)  # a rebuild mends the folded form
    assert await kb.integrity_problems() == []


async def test_every_iso_country_is_present_with_names_in_many_languages(kb: KnowledgeBase) -> None:
    counts = await kb.count()
    assert counts["country"] >= 249
    azerbaijan = await kb.entity("AZ")
    assert azerbaijan is not None
    languages = {a.lang for a in azerbaijan.aliases if a.type == "translation"}
    assert len(languages) > 100
    names = {a.name for a in azerbaijan.aliases}
    assert {"Azerbaïdjan", "Азербайджан", "أذربيجان", "AZE"} <= names


def test_yaml_reads_country_codes_and_dates_as_written(tmp_path: Path) -> None:
    """`NO` is Norway, not false, and a date stays the text it was written as."""
    write(tmp_path, "firms/acme.yaml", GOOD_FIRM.replace("entity: AZ", "entity: NO"))
    [entity] = load_data_dir(tmp_path, known_ids=iso_countries())
    assert entity.claims[0].parties[1].entity == "NO"
    assert entity.claims[0].date == "2019-05"
    assert entity.claims[0].sources[0].date == "2019-05-02"


def test_libyaml_reads_every_bundled_file_as_pyyamls_own_parser_does(data_dir: Path) -> None:
    """The fast parser is only a speed-up: the same documents, resolvers and duplicate checks."""
    if yaml.__with_libyaml__:
        assert issubclass(_FastLoader, yaml.CSafeLoader)
    files = sorted(data_dir.rglob("*.yaml"))
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=_FastLoader) == yaml.load(text, Loader=_Loader), path
    tricky = "id: NO\ndate: 2019-05-02\nflag: yes\non: true\nn: 0x1F\nwhen: 2019-05-02 10:00:00\n"
    expected = {
        "id": "NO",
        "date": "2019-05-02",
        "flag": "yes",
        "on": True,
        "n": 31,
        "when": "2019-05-02 10:00:00",
    }
    assert _load_yaml(tricky) == yaml.load(tricky, Loader=_Loader) == expected
    with pytest.raises(yaml.YAMLError, match="duplicate key 'id'"):
        _load_yaml("id: a\nid: b\n")


async def test_a_rebuild_rewrites_only_the_names_that_changed_and_ends_as_a_fresh_build(
    db_copy: Path, data_dir: Path, tmp_path: Path
) -> None:
    """Names the same as stored keep their rows; the result is what a build from scratch gives."""
    changed = edited_copy(
        data_dir, tmp_path / "data", "  - NSO Group Technologies\n", "  - Q Cyber\n"
    )
    (changed / "laws" / "arms-trade-treaty.yaml").unlink()

    async def alias_ids(kb: KnowledgeBase) -> dict[str, set[int]]:
        ids: dict[str, set[int]] = {}
        async with kb.db.execute("SELECT entity_id, id FROM aliases") as cursor:
            for entity_id, alias_id in await cursor.fetchall():
                ids.setdefault(entity_id, set()).add(alias_id)
        return ids

    async with await KnowledgeBase.open(db_copy) as kb:
        before = await alias_ids(kb)
        assert (await data.build(kb, changed, force=True)).built
        after = await alias_ids(kb)
        rebuilt = await kb.snapshot()
    assert after["AZ"] == before["AZ"]  # 200 names, none of them changed
    assert after["nso-group"].isdisjoint(before["nso-group"])
    assert "arms-trade-treaty" not in after
    async with await KnowledgeBase.open(tmp_path / "fresh.sqlite3") as fresh:
        await data.build(fresh, changed)
        assert await fresh.snapshot() == rebuilt
    names = {row[2] for row in rebuilt["aliases"] if row[0] == "nso-group"}
    assert "Q Cyber" in names
    assert "NSO Group Technologies" not in names


def test_libyaml_writes_what_pyyamls_own_emitter_writes(data_dir: Path) -> None:
    """Export files are the same text as before LibYAML wrote them, and read back as written."""
    files = load_data_dir(data_dir, known_ids=iso_countries())
    for entity in files:
        text = entity_to_yaml(entity)
        data = yaml.safe_load(text)
        assert text == yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    tricky = {
        "kind": "firm",
        "id": "x",
        "name": "NO",
        "summary": 'yes: a "quoted" text # not a comment, ~, null, 2019-05-02, '
        + "long " * 40
        + "– Азербайджан, أذربيجان, 阿塞拜疆, 👍",
        "aliases": ["  leading spaces", "trailing: colon:", "- dash", "@at", "%percent", ""],
    }
    text = yaml.dump(tricky, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    assert _load_yaml(text) == tricky
