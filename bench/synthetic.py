"""A synthetic large knowledge base: every country with all its CLDR names, firms, laws, claims.

Deterministic for a seed: the same sizes and seed give the same database, byte for byte the same
entities, aliases and claims. Countries (with all their CLDR names) and the bundled firms and laws
come from ``data/`` exactly as ``armsbot db build`` makes them, so the labelled queries keep their
answers and have thousands of look-alike distractors around them.

Firms get names built the way defence and surveillance firms are named ("Helix Defence Systems",
"Vantor Dynamics"), a legal name, often an abbreviation, sometimes a former name, and products
("Kestrel X4", "Nightjar spyware"). Laws get national statutes, regulations, UN embargoes, court
rulings and listings with short titles, abbreviations, codes and a few titles in other scripts.

Entities go in through ``KnowledgeBase.replace_knowledge``; the synthetic claims are inserted with
plain ``executemany`` into the same tables (building the database is not one of the figures).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from armsbot.countries import iso_countries
from armsbot.datafiles import bundled_data_dir, load_data_dir
from armsbot.models import Kind
from armsbot.records import AliasRecord, EntityRecord
from armsbot.search.folding import fold
from armsbot.services.data import entity_records
from armsbot.storage import KnowledgeBase


@dataclass(frozen=True, slots=True)
class Sizes:
    """How large a synthetic knowledge base to make."""

    firms: int = 10_000
    laws: int = 2_000
    claims: int = 100_000
    seed: int = 20240605


FULL = Sizes()
SMOKE = Sizes(firms=300, laws=60, claims=2_000)

_STEMS = [
    "Aegis",
    "Argus",
    "Arcturus",
    "Atlas",
    "Aurora",
    "Bastion",
    "Borealis",
    "Cobalt",
    "Corvus",
    "Delta",
    "Draco",
    "Echelon",
    "Falcon",
    "Helix",
    "Horizon",
    "Hydra",
    "Kestrel",
    "Krypton",
    "Lyra",
    "Meridian",
    "Nexus",
    "Nimbus",
    "Obsidian",
    "Onyx",
    "Orion",
    "Osprey",
    "Paladin",
    "Phalanx",
    "Polaris",
    "Praetor",
    "Pulsar",
    "Quasar",
    "Raptor",
    "Sabre",
    "Sentinel",
    "Sigma",
    "Spectra",
    "Stratos",
    "Talon",
    "Tempest",
    "Titan",
    "Trident",
    "Umbra",
    "Vanguard",
    "Vector",
    "Vega",
    "Veritas",
    "Vortex",
    "Zenith",
    "Zephyr",
    "Apex",
    "Citadel",
    "Cipher",
    "Keystone",
    "Halberd",
    "Rampart",
    "Bulwark",
    "Granite",
    "Ironclad",
    "Silverline",
    "Bluewater",
    "Northgate",
    "Redstone",
    "Blackstone",
    "Whitecliff",
    "Greywolf",
    "Starling",
    "Lynx",
    "Condor",
    "Harrier",
    "Peregrine",
]
_SYLLABLES = [
    "ar",
    "ax",
    "ba",
    "bel",
    "cor",
    "da",
    "del",
    "dor",
    "el",
    "en",
    "fa",
    "fin",
    "gal",
    "ix",
    "ka",
    "kal",
    "lan",
    "lex",
    "lor",
    "ma",
    "mar",
    "mex",
    "nor",
    "nov",
    "on",
    "or",
    "pra",
    "qua",
    "ra",
    "ran",
    "rex",
    "sa",
    "sol",
    "ta",
    "tel",
    "tor",
    "tra",
    "ul",
    "va",
    "val",
    "ven",
    "vor",
    "xa",
    "xen",
    "ya",
    "zar",
    "zen",
    "ze",
    "ko",
    "ri",
    "mi",
    "lu",
    "ne",
    "sy",
    "te",
    "ga",
    "po",
]
_ENDINGS = ("", "", "ix", "on", "ex", "ia", "ar", "is", "tec", "tronic", "gard", "ium", "os")
_SECTORS = [
    "Systems",
    "Technologies",
    "Defence",
    "Defense",
    "Dynamics",
    "Industries",
    "Aerospace",
    "Intelligence",
    "Security",
    "Solutions",
    "Labs",
    "Cyber",
    "Forensics",
    "Communications",
    "Electronics",
    "Arms",
    "Munitions",
    "Analytics",
    "Networks",
    "Surveillance",
    "Robotics",
    "Optronics",
    "Avionics",
    "Ordnance",
    "Shipyards",
    "Signals",
    "Interception",
    "Photonics",
]
_LEGAL = (
    "Ltd",
    "Ltd.",
    "GmbH",
    "S.A.",
    "S.r.l.",
    "AG",
    "Inc.",
    "LLC",
    "PLC",
    "SAS",
    "AB",
    "Oy",
    "B.V.",
    "Pte. Ltd.",
    "Co., Ltd.",
    "Zrt",
    "AD",
    "A/S",
    "S.p.A.",
    "Holdings",
    "Group",
)
_PRODUCTS = [
    "Falcon",
    "Eye",
    "Viper",
    "Raptor",
    "Hermes",
    "Cerberus",
    "Phantom",
    "Shadow",
    "Spectre",
    "Nightjar",
    "Kestrel",
    "Harpy",
    "Ghost",
    "Wraith",
    "Basilisk",
    "Chimera",
    "Gorgon",
    "Mantis",
    "Scorpion",
    "Cobra",
    "Python",
    "Mamba",
    "Jackal",
    "Hyena",
    "Fox",
    "Badger",
    "Wolverine",
    "Stingray",
    "Barracuda",
    "Marlin",
    "Orca",
    "Kraken",
    "Trident",
    "Longbow",
    "Crossbow",
    "Javelin",
    "Lance",
    "Halberd",
    "Scimitar",
    "Katana",
    "Rapier",
    "Mjolnir",
    "Thor",
    "Odin",
    "Loki",
    "Freya",
    "Athena",
    "Ares",
    "Apollo",
    "Artemis",
    "Hydra",
    "Medusa",
    "Pegasus",
    "Griffin",
    "Sphinx",
    "Minotaur",
    "Cyclops",
    "Titan",
    "Prometheus",
    "Icarus",
    "Daedalus",
    "Nemesis",
    "Oracle",
    "Sibyl",
    "Cassandra",
    "Echo",
    "Whisper",
    "Silent",
    "Hawk",
    "Eagle",
    "Vulture",
    "Owl",
    "Heron",
    "Swift",
]
_PRODUCT_TAILS = ("", "", "", " spyware", " drone", " interceptor", " suite", " platform")
_AGENCIES = (
    "the interior ministry",
    "the national police",
    "the army",
    "the intelligence service",
    "the presidential guard",
    "the border police",
    "the navy",
    "the air force",
    "a state security agency",
)
_PUBLISHERS = (
    "Amnesty International",
    "Human Rights Watch",
    "Citizen Lab",
    "SIPRI",
    "Privacy International",
    "Access Now",
    "The Guardian",
    "Haaretz",
    "Le Monde",
    "Der Spiegel",
    "Reuters",
    "Forbidden Stories",
    "OCCRP",
    "Lighthouse Reports",
)
_LAW_SUBJECTS = (
    "Export Control",
    "Arms Export",
    "Dual-Use Export",
    "Defence Trade",
    "Strategic Goods",
    "Surveillance Technology Export",
    "Firearms",
    "Military Goods",
    "Arms Brokering",
    "Interception of Communications",
    "Cybersecurity",
    "Sanctions",
    "War Materiel",
    "Defence Procurement",
)
_LAW_INSTRUMENTS = ("Act", "Law", "Regulation", "Decree", "Ordinance", "Directive", "Bill", "Order")
# Law titles in other scripts, as people paste them from national gazettes.
_NATIVE_TITLES = {
    "RU": ("Закон об экспортном контроле", "Закон о военно-техническом сотрудничестве"),
    "BY": ("Закон об экспортном контроле",),
    "KZ": ("Закон об экспортном контроле",),
    "SA": ("نظام الأسلحة والذخائر", "نظام مراقبة الصادرات"),
    "AE": ("قانون مراقبة الصادرات",),
    "EG": ("قانون الأسلحة والذخائر",),
    "IL": ("חוק הפיקוח על יצוא ביטחוני", "חוק הפיקוח על מוצרים ושירותים"),
    "CN": ("出口管制法", "军品出口管理条例"),
    "JP": ("外国為替及び外国貿易法",),
    "KR": ("대외무역법", "방위사업법"),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s\-]+", name) if w and w[0].isalpha()]
    return "".join(w[0].upper() for w in words)


class _Generator:
    def __init__(self, sizes: Sizes, countries: dict[str, str]) -> None:
        self.rng = random.Random(sizes.seed)
        self.sizes = sizes
        self.countries = countries  # ISO code -> English name
        self.used_ids: set[str] = set()
        self.used_names: set[str] = set()
        self.reserved: set[str] = set()
        self.reserved_starts: set[str] = set()

    def _clashes(self, name: str) -> bool:
        """Whether ``name`` is a bundled firm's or law's name, or begins as a firm's name does.

        (The first two words count: "Israel Aerospace Robotics" would take "israel aerospace"
        from Israel Aerospace Industries, and the labelled queries are about the bundled
        entities.)
        """
        key = fold(name)
        return key in self.reserved or any(key.startswith(r) for r in self.reserved_starts)

    def _unique_id(self, base: str) -> str:
        slug = _slug(base)[:70].strip("-") or "x"
        candidate, n = slug, 2
        while candidate in self.used_ids:
            candidate, n = f"{slug}-{n}", n + 1
        self.used_ids.add(candidate)
        return candidate

    def coined(self) -> str:
        rng = self.rng
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        return (word + rng.choice(_ENDINGS)).capitalize()

    def firm_name(self) -> str:
        rng = self.rng
        while True:
            shape = rng.random()
            if shape < 0.35:
                name = f"{rng.choice(_STEMS)} {rng.choice(_SECTORS)}"
            elif shape < 0.65:
                name = f"{self.coined()} {rng.choice(_SECTORS)}"
            elif shape < 0.8:
                name = self.coined()
            elif shape < 0.92:
                name = f"{rng.choice(_STEMS)} {rng.choice(_SECTORS)} {rng.choice(_SECTORS)}"
            else:
                country = rng.choice(list(self.countries.values()))
                name = f"{country} {rng.choice(_SECTORS)} {rng.choice(_SECTORS)}"
            if name.casefold() not in self.used_names and not self._clashes(name):
                self.used_names.add(name.casefold())
                return name

    def product(self) -> str:
        rng = self.rng
        base = rng.choice(_PRODUCTS)
        if rng.random() < 0.3:
            base += " " + rng.choice(_PRODUCTS)
        roll = rng.random()
        if roll < 0.3:
            base += f" {rng.choice('XMKV')}{rng.randint(1, 9)}"
        elif roll < 0.45:
            base += f"-{rng.randint(2, 900)}"
        elif roll < 0.55:
            base += " NG"
        return base + rng.choice(_PRODUCT_TAILS)

    def firms(self) -> list[EntityRecord]:
        rng = self.rng
        out = []
        for _ in range(self.sizes.firms):
            name = self.firm_name()
            aliases = [AliasRecord(f"{name} {rng.choice(_LEGAL)}", "name", None, "data")]
            if " " in name and rng.random() < 0.6:
                aliases.append(AliasRecord(_initials(name), "abbreviation", None, "data"))
            if rng.random() < 0.15:
                aliases.append(AliasRecord(name.replace(" ", ""), "name", None, "data"))
            if rng.random() < 0.3:
                aliases.append(AliasRecord(self.firm_name(), "former", None, "data"))
            products = {self.product() for _ in range(rng.choice((0, 1, 1, 2, 3)))}
            aliases += [AliasRecord(p, "product", None, "data") for p in sorted(products)]
            hq = rng.choice(list(self.countries))
            out.append(
                EntityRecord(
                    id=self._unique_id(name),
                    kind=Kind.FIRM,
                    name=name,
                    summary=f"Synthetic {rng.choice(_SECTORS).lower()} firm for benchmarks.",
                    attributes={"headquarters": hq, "founded": str(rng.randint(1950, 2022))},
                    curated=False,
                    aliases=aliases,
                )
            )
        return out

    def laws(self) -> list[EntityRecord]:
        rng = self.rng
        codes = list(self.countries)
        out = []
        while len(out) < self.sizes.laws:
            code = rng.choice(codes)
            country = self.countries[code]
            year = rng.randint(1960, 2024)
            shape = rng.random()
            aliases: list[AliasRecord] = []
            if shape < 0.55:
                subject, instrument = rng.choice(_LAW_SUBJECTS), rng.choice(_LAW_INSTRUMENTS)
                name = f"{country} {subject} {instrument} {year}"
                short = f"{subject} {instrument}"
                aliases.append(AliasRecord(f"{short} {year}", "name", None, "data"))
                aliases.append(AliasRecord(_initials(short), "abbreviation", None, "data"))
                aliases.append(
                    AliasRecord(f"Law No. {rng.randint(1, 300)}/{year}", "code", None, "data")
                )
                native = _NATIVE_TITLES.get(code)
                if native and rng.random() < 0.7:
                    aliases.append(AliasRecord(rng.choice(native), "translation", None, "data"))
                law_type = "statute" if instrument in ("Act", "Law", "Bill") else "regulation"
            elif shape < 0.7:
                resolution = rng.randint(100, 2800)
                name = f"UN arms embargo on {country} (resolution {resolution})"
                aliases.append(AliasRecord(f"UNSCR {resolution}", "code", None, "data"))
                aliases.append(AliasRecord(f"{country} arms embargo", "name", None, "data"))
                law_type = "embargo"
            elif shape < 0.85:
                docket = f"{rng.randint(100, 9999)}/{year % 100:02d}"
                firm = self.coined()
                name = f"HCJ {docket} {self.coined()} v. Ministry of Defence ({firm} export ruling)"
                aliases.append(AliasRecord(f"HCJ {docket}", "code", None, "data"))
                aliases.append(AliasRecord(f"{firm} export ruling", "name", None, "data"))
                law_type = "ruling"
            else:
                month = rng.choice(("January", "March", "May", "July", "September", "November"))
                name = f"{country} Entity List additions of {rng.randint(1, 28)} {month} {year}"
                aliases.append(AliasRecord(f"Entity List {month} {year}", "name", None, "data"))
                aliases.append(
                    AliasRecord(f"FR Doc. {year}-{rng.randint(10000, 99999)}", "code", None, "data")
                )
                law_type = "sanctions_listing"
            if name.casefold() in self.used_names or self._clashes(name):
                continue
            self.used_names.add(name.casefold())
            out.append(
                EntityRecord(
                    id=self._unique_id(name),
                    kind=Kind.LAW,
                    name=name,
                    attributes={"type": law_type, "jurisdiction": country, "date": str(year)},
                    curated=False,
                    aliases=aliases,
                )
            )
        return out


def _zipf_weights(n: int, exponent: float, offset: float) -> list[float]:
    return [1.0 / (i + offset) ** exponent for i in range(n)]


def _insert_claims(
    path: Path,
    sizes: Sizes,
    firms: list[EntityRecord],
    laws: list[EntityRecord],
    countries: dict[str, str],
) -> None:
    rng = random.Random(sizes.seed + 1)
    firm_order = firms[:]
    rng.shuffle(firm_order)
    country_order = list(countries)
    rng.shuffle(country_order)
    firm_weights = _zipf_weights(len(firm_order), 0.8, 3.0)
    country_weights = _zipf_weights(len(country_order), 0.7, 8.0)
    products = {
        f.id: [a.name for a in f.aliases if a.type == "product"] or ["equipment"] for f in firms
    }
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("BEGIN")
        first_source = int(db.execute("SELECT coalesce(max(id), 0) FROM sources").fetchone()[0]) + 1
        n_sources = max(50, sizes.claims // 20)
        db.executemany(
            "INSERT INTO sources (id, url, title, publisher, date) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    first_source + i,
                    f"https://reports.example.org/{i}",
                    f"Report {i}: the {rng.choice(_PRODUCTS)} files",
                    rng.choice(_PUBLISHERS),
                    f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}",
                )
                for i in range(n_sources)
            ],
        )
        picked_firms = rng.choices(firm_order, weights=firm_weights, k=sizes.claims)
        picked_countries = rng.choices(country_order, weights=country_weights, k=sizes.claims)
        positions: dict[str, int] = {}
        claims, parties, cited = [], [], []
        for i in range(sizes.claims):
            firm, country = picked_firms[i], picked_countries[i]
            claim_id = f"syn-{i:06d}"
            position = positions.get(firm.id, 0)
            positions[firm.id] = position + 1
            product = rng.choice(products[firm.id])
            year = rng.randint(1995, 2024)
            roll = rng.random()
            roles = [(firm.id, "supplier"), (country, "recipient")]
            if roll < 0.7:
                category = "transfer"
                text = (
                    f"{firm.name} supplied {product} to {rng.choice(_AGENCIES)} of "
                    f"{countries[country]} in {year}."
                )
            elif roll < 0.82:
                category = "use"
                text = f"{product} was used by {countries[country]} against journalists in {year}."
            elif roll < 0.9:
                category = "designation"
                law = rng.choice(laws)
                roles = [(firm.id, "subject"), (law.id, "instrument"), (country, "subject")]
                text = f"{firm.name} was listed under {law.name} in {year}."
            else:
                category = "background"
                text = f"{firm.name} opened a sales office in {countries[country]} in {year}."
            status = rng.choices(
                ("confirmed", "reported", "alleged", "denied"), weights=(2, 5, 3, 1)
            )[0]
            claims.append((claim_id, firm.id, position, text, status, category, str(year), product))
            parties += [(claim_id, p, entity, role) for p, (entity, role) in enumerate(roles)]
            for p, source in enumerate(rng.sample(range(n_sources), rng.choice((1, 1, 2)))):
                cited.append((claim_id, p, first_source + source))
        db.executemany(
            "INSERT INTO claims (id, home_entity_id, position, text, status, category, date,"
            " product, goods) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]')",
            claims,
        )
        db.executemany(
            "INSERT INTO claim_parties (claim_id, position, entity_id, role) VALUES (?, ?, ?, ?)",
            parties,
        )
        db.executemany(
            "INSERT INTO claim_sources (claim_id, position, source_id) VALUES (?, ?, ?)", cited
        )
        # As `armsbot db build` ends (KnowledgeBase.replace_knowledge rebuilds them): each
        # full-text index whole, not the thousands of small segments and deleted entries its
        # triggers leave (claims_linked indexes a claim again for each party added to it).
        for index in ("claims_fts", "claims_fts_order", "claims_linked"):
            db.execute(f"INSERT INTO {index} ({index}) VALUES ('optimize')")
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
    finally:
        db.close()


def synthetic_records(
    sizes: Sizes,
) -> tuple[list[EntityRecord], list[EntityRecord], list[EntityRecord]]:
    """(every entity of the bundled build, synthetic firms, synthetic laws)."""
    registry = iso_countries()
    base = entity_records(load_data_dir(bundled_data_dir(), registry))
    countries = {r.id: r.name for r in base if r.kind is Kind.COUNTRY and len(r.id) == 2}
    generator = _Generator(sizes, {c: countries[c] for c in sorted(countries) if c in registry})
    generator.used_ids |= {r.id for r in base}
    generator.used_names |= {r.name.casefold() for r in base}
    # Names of the bundled firms and laws stay theirs, so the labelled queries keep one answer.
    generator.reserved = {
        fold(n)
        for r in base
        if r.kind is not Kind.COUNTRY
        for n in (r.name, *(a.name for a in r.aliases))
    }
    firm_names = {
        fold(n) for r in base if r.kind is Kind.FIRM for n in (r.name, *(a.name for a in r.aliases))
    }
    generator.reserved_starts = {key + " " for key in firm_names} | {
        " ".join(key.split()[:2]) + " " for key in firm_names if " " in key
    }
    firms, laws = generator.firms(), generator.laws()
    for record in (*firms, *laws):
        record.aliases = [a for a in record.aliases if fold(a.name) not in generator.reserved]
    return base, firms, laws


async def build_synthetic(path: Path, sizes: Sizes = FULL) -> dict[str, int]:
    """Write the synthetic knowledge base to ``path`` (a new file); return its counts."""
    base, firms, laws = synthetic_records(sizes)
    countries = {r.id: r.name for r in base if r.kind is Kind.COUNTRY}
    async with await KnowledgeBase.open(path) as kb, kb.transaction():
        await kb.replace_knowledge([*base, *firms, *laws], {"data_hash": "synthetic"})
    _insert_claims(path, sizes, firms, laws, countries)
    async with await KnowledgeBase.open(path) as kb:
        return await kb.count()


def main() -> None:  # pragma: no cover - a manual helper
    import sys  # noqa: PLC0415

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "synthetic.sqlite3")
    target.unlink(missing_ok=True)
    print(json.dumps(asyncio.run(build_synthetic(target)), indent=1))


if __name__ == "__main__":
    main()
