"""docs/data-contract.md is what the config says (regenerate with `python -m checks.contract`)."""

from pathlib import Path

from checks.contract import render
from checks.mappings import KINDS, all_mappings, code_tables, load_mapping

DOC = Path(__file__).parents[1] / "docs" / "data-contract.md"


def test_contract_document_matches_config() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/data-contract.md is stale: run `uv run python -m checks.contract > docs/data-contract.md`")


def test_every_kind_has_a_mapping_with_required_columns_and_unambiguous_aliases() -> None:
    assert set(all_mappings()) == set(KINDS)
    for kind in KINDS:
        mapping = load_mapping(kind)
        assert mapping.required, kind
        seen: dict[str, str] = {}
        for spec in mapping.columns.values():
            for alias in spec.aliases:
                key = alias.lower()
                assert seen.setdefault(key, spec.name) == spec.name, f"{kind}: alias {alias} maps to two columns"


def test_code_tables_cover_every_coded_column_and_status_words() -> None:
    tables = code_tables()
    for kind in KINDS:
        for spec in load_mapping(kind).columns.values():
            if spec.codes:
                assert spec.codes in tables, f"{kind}.{spec.name} names unknown code table {spec.codes}"
    status = tables["read_status"]
    assert (status["已抄"], status["未抄"], status["估抄"], status["89"]) == ("READ", "MISSED", "ESTIMATED", "MISSED")
