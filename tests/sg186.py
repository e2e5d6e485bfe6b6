"""Exports shaped like a real SG186 抄表 month: one legacy `.xls` per 抄表段, named after the segment
(`070.xls`), 21 columns, no team and no date column (the month comes from `--period`), the columns
of a county company's export in its order. Values are invented; the shape is the real one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xlwt

HEADER = ["用户编号", "用户名称", "联系方式", "抄表段编号", "抄表段名称", "抄表例日", "抄表员", "计量点编号",
          "抄表序号", "电能表编号", "示数类型", "上次示数", "本次示数", "抄见电量", "综合倍率", "抄表位数",
          "异常类型", "抄表状态", "供电单位", "供电所", "用户地址"]


@dataclass(frozen=True)
class Meter:
    customer: str
    meter: str
    last: float
    this: float
    status: str = "已抄"
    multiplier: int = 1

    @property
    def kwh(self) -> float:
        return (self.this - self.last) * self.multiplier


def segment_no(code: str) -> str:
    """'070' -> the 10-digit 抄表段编号 the export carries."""
    return f"6041100{code}"


def meters(code: str, n: int, *, start: int = 0) -> list[Meter]:
    """`n` invented meters of segment `code` (customer and meter numbers unique per segment)."""
    return [Meter(customer=f"20{code}{i:05d}", meter=f"433000100{code}{i:09d}", last=100.0 + i, this=150.0 + 2 * i)
            for i in range(start, start + n)]


def rows(code: str, readings: list[Meter], reader: str | None = "袁莉娟") -> list[list[str | int | float]]:
    out = []
    for seq, m in enumerate(readings, 1):
        out.append([m.customer, f"用户{m.customer[-3:]}", "13800000000", segment_no(code), f"五金公司{code}#", 1,
                    reader or "", f"2003{m.meter[-7:]}", seq, m.meter, "有功（总）", m.last, m.this, m.kwh,
                    m.multiplier, "6.2", "无异常", m.status, "4341041", "国网宁远县电力公司", f"舜陵镇{seq}号"])
    return out


def write_segment(folder: Path, code: str, readings: list[Meter], *, reader: str | None = "袁莉娟",
                  name: str | None = None, with_reader: bool = True) -> Path:
    """One segment's export as a legacy workbook (`Sheet0`, as the marketing system writes it)."""
    folder.mkdir(parents=True, exist_ok=True)
    header, body = HEADER, rows(code, readings, reader)
    if not with_reader:  # some exports carry no 抄表员 column: the assignments say who read the segment
        i = header.index("抄表员")
        header, body = header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in body]
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet0")
    for j, h in enumerate(header):
        sheet.write(0, j, h)
    for i, row in enumerate(body, 1):
        for j, v in enumerate(row):
            sheet.write(i, j, v)
    path = folder / (name or f"{code}.xls")
    book.save(str(path))
    return path


def write_assignments(folder: Path, period: str, segments: dict[str, tuple[str, str]]) -> Path:
    """抄表派工 for `period`: segment code -> (team, reader)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["电费年月,抄表班组,抄表段编号,抄表例日,抄表员"]
    lines += [f"{period},{team},{segment_no(code)},1,{reader}" for code, (team, reader) in sorted(segments.items())]
    path = folder / f"抄表派工_{period}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
