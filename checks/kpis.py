"""The KPI catalogue (config/kpis.toml): what each KPI of the marts.kpi_<level>_month tables is, so
pages, control charts and docs name, label and compute it the same way."""

from __future__ import annotations

from dataclasses import dataclass

from readq.config import load_toml

LEVELS = ("reader", "segment", "team", "centre")
SUFFIXES = ("target", "met", "mom", "yoy", "null_reason")


@dataclass(frozen=True)
class Kpi:
    id: str
    zh: str
    en: str
    formula_zh: str
    formula_en: str
    numerator: str               # column of the KPI marts
    denominator: str
    scale: int                   # value = scale × numerator / denominator
    direction: str               # higher | lower: which way is better
    target: str                  # where the target comes from ("" = none)
    input: tuple[str, ...]       # input kinds it needs
    unavailable: str | None      # the null reason it always has (no input kind delivers its numerator)

    def column(self, suffix: str = "") -> str:
        """The KPI marts' column of the value (`""`) or of `target`, `met`, `mom`, `yoy`, `null_reason`."""
        if suffix and suffix not in SUFFIXES:
            raise KeyError(f"no KPI column suffix {suffix!r} (known: {', '.join(SUFFIXES)})")
        return f"{self.id}_{suffix}" if suffix else self.id

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


def kpis() -> tuple[Kpi, ...]:
    """Every KPI of the catalogue, in its order."""
    found = load_toml("kpis.toml")["kpis"]
    return tuple(Kpi(id=k, zh=v["zh"], en=v["en"], formula_zh=v["formula_zh"], formula_en=v["formula_en"],
                     numerator=v["numerator"], denominator=v["denominator"], scale=int(v["scale"]),
                     direction=v["direction"], target=v["target"], input=tuple(v["input"]),
                     unavailable=v.get("unavailable")) for k, v in found.items())


def kpi(kpi_id: str) -> Kpi:
    for k in kpis():
        if k.id == kpi_id:
            return k
    raise KeyError(f"no KPI {kpi_id!r} in config/kpis.toml")


def null_reason(code: str, lang: str = "zh") -> str:
    """The text of a <kpi>_null_reason code; an unknown code is shown as it is."""
    reasons = load_toml("kpis.toml")["null_reasons"]
    return reasons[code]["en" if lang == "en" else "zh"] if code in reasons else code
