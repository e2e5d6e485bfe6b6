"""Which of the five kinds a table is, and which of its headers map to which canonical column."""

from __future__ import annotations

from dataclasses import dataclass

from checks.errors import FileRejected
from checks.mappings import KindMapping, all_mappings, load_mapping, normalize_header


@dataclass(frozen=True)
class HeaderMatch:
    kind: str
    columns: dict[str, str]          # file header -> canonical column
    unmapped: list[str]              # file headers kept only in raw.extras
    missing_required: list[str]      # canonical columns that are required but absent

    @property
    def complete(self) -> bool:
        return not self.missing_required


def match_headers(headers: list[str], mapping: KindMapping) -> HeaderMatch:
    index = mapping.alias_index()
    columns: dict[str, str] = {}
    unmapped: list[str] = []
    taken: set[str] = set()
    for header in headers:
        canonical = index.get(normalize_header(header.split("#")[0]))
        if canonical is None or canonical in taken:
            unmapped.append(header)
        else:
            columns[header] = canonical
            taken.add(canonical)
    missing = [c for c in mapping.required if c not in taken]
    return HeaderMatch(mapping.kind, columns, unmapped, missing)


def _aliases_tried(mapping: KindMapping, names: list[str]) -> str:
    return "; ".join(f"{n} ({' / '.join(mapping.columns[n].aliases)})" for n in names)


def classify(headers: list[str], file_name: str, kind: str | None = None) -> HeaderMatch:
    """The kind the headers fit (or the kind asked for), else FileRejected naming what is missing."""
    if kind is not None:
        mapping = load_mapping(kind)
        match = match_headers(headers, mapping)
        if not match.complete:
            raise FileRejected(
                f"missing required {mapping.label_zh} ({kind}) columns: "
                f"{_aliases_tried(mapping, match.missing_required)}"
            )
        return match
    mappings = all_mappings()
    matches = {k: match_headers(headers, m) for k, m in mappings.items()}
    hinted = {k for k, m in mappings.items() if any(w in file_name for w in m.filename_keywords)}
    # the kind whose columns the headers cover most; the file-name keyword breaks ties, then completeness
    best = max(matches.values(), key=lambda m: (len(m.columns), m.kind in hinted, m.complete))
    if best.complete:
        return best
    mapping = mappings[best.kind]
    missing = _aliases_tried(mapping, best.missing_required)
    if len(best.missing_required) * 2 >= len(mapping.required):  # half or more missing: not that kind at all
        known = ", ".join(f"{m.label_zh} ({k})" for k, m in mappings.items())
        raise FileRejected(f"not an export of a kind we know ({known}); the closest is {mapping.label_zh}, "
                           f"which would need: {missing}")
    raise FileRejected(f"looks like {mapping.label_zh} ({best.kind}) but is missing required columns: {missing}")
