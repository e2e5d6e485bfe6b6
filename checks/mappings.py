"""Column mappings of the five input kinds, read from `config/mappings/<kind>.toml`.

A mapping names, for each canonical column, its type, whether it is required, its code
table, whether it is personal data, and every header alias seen in exports.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from readq.config import config_dir, load_toml

KINDS: tuple[str, ...] = ("readings", "review_findings", "field_anomalies", "assignments", "customers")
TYPES = frozenset({"str", "int", "float", "date", "datetime", "period"})


def normalize_header(text: str) -> str:
    """Header matching key: NFKC (full-width -> half-width), lower case, no spaces/underscores."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-（）()]+", "", text)


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of a kind. A personal column (`personal = true`) leaves the warehouse
    masked (checks/masking.py) in its `mask` style; which columns are personal is config, not code."""

    MASK_STYLES = ("name", "phone", "address")  # keep the first chars | head and tail digits | the first chars

    name: str
    type: str
    aliases: tuple[str, ...]
    required: bool = False
    codes: str | None = None
    personal: bool = False
    mask: str | None = None  # personal columns: one of MASK_STYLES ("name" unless the mapping says); else None

    @property
    def header_zh(self) -> str:
        """The marketing-system header (first alias): what the demo writes."""
        return self.aliases[0]


@dataclass(frozen=True)
class KindMapping:
    kind: str
    label_zh: str
    label_en: str
    filename_keywords: tuple[str, ...]
    key: tuple[str, ...]
    grain: str | None             # the text column whose values a delivery covers (None: the whole centre)
    period_columns: tuple[str, ...]
    columns: dict[str, ColumnSpec] = field(default_factory=dict)

    @property
    def row_key(self) -> list[str]:
        """The key within one month's delivery: the kind's key without the period."""
        return [c for c in self.key if c != "period"]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @property
    def personal(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.personal]

    def alias_index(self) -> dict[str, str]:
        """normalized alias -> canonical column."""
        index: dict[str, str] = {}
        for spec in self.columns.values():
            for alias in (spec.name, *spec.aliases):
                index.setdefault(normalize_header(alias), spec.name)
        return index


def load_mapping(kind: str) -> KindMapping:
    if kind not in KINDS:
        raise ValueError(f"unknown input kind {kind!r}; known kinds: {', '.join(KINDS)}")
    raw = load_toml(f"mappings/{kind}.toml")
    columns: dict[str, ColumnSpec] = {}
    for name, spec in raw["columns"].items():
        if spec["type"] not in TYPES:
            raise ValueError(f"mappings/{kind}.toml: column {name} has unknown type {spec['type']!r}")
        personal, mask = bool(spec.get("personal", False)), spec.get("mask")
        if mask is not None and not personal:
            raise ValueError(f"mappings/{kind}.toml: column {name} has a mask but is not `personal = true`")
        if personal and (mask := mask or "name") not in ColumnSpec.MASK_STYLES:
            raise ValueError(f"mappings/{kind}.toml: column {name} has unknown mask {mask!r}; "
                             f"known: {', '.join(ColumnSpec.MASK_STYLES)}")
        columns[name] = ColumnSpec(
            name=name,
            type=spec["type"],
            aliases=tuple(spec.get("aliases", [])) or (name,),
            required=bool(spec.get("required", False)),
            codes=spec.get("codes"),
            personal=personal,
            mask=mask,
        )
    return KindMapping(
        kind=kind,
        label_zh=raw.get("label_zh", kind),
        label_en=raw.get("label_en", kind),
        filename_keywords=tuple(raw.get("filename_keywords", [])),
        key=tuple(raw.get("key", [])),
        grain=_grain(kind, raw.get("grain"), columns),
        period_columns=tuple(raw.get("period_columns", [])),
        columns=columns,
    )


def _grain(kind: str, grain: str | None, columns: dict[str, ColumnSpec]) -> str | None:
    if not grain:
        return None
    if grain not in columns or columns[grain].type != "str" or columns[grain].codes:
        raise ValueError(f"mappings/{kind}.toml: grain {grain!r} must be one of its text columns")
    return grain


def all_mappings() -> dict[str, KindMapping]:
    return {kind: load_mapping(kind) for kind in KINDS if (config_dir() / "mappings" / f"{kind}.toml").exists()}


def code_tables() -> dict[str, dict[str, str]]:
    """table -> {normalized raw word/code -> canonical code}."""
    tables: dict[str, dict[str, str]] = {}
    for table, codes in load_toml("codes.toml").items():
        lookup: dict[str, str] = {}
        for canonical, words in codes.items():
            for word in (canonical, *words):
                lookup[unicodedata.normalize("NFKC", str(word)).strip()] = canonical
        tables[table] = lookup
    return tables
