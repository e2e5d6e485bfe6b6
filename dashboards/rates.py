"""How many digits each kind of rate shows on the pages (display only; the marts keep full precision).

Rates themselves are computed in the warehouse (marts.kpi_<level>_month, counts summed before dividing,
never averages of team rates) and only formatted here.
"""

from __future__ import annotations

READ_DIGITS = 2  # 实抄率 / 漏抄率 / 估抄率: 98.33%
ERROR_DIGITS = 3  # 差错率: 0.271% (targets are 0.1% and 0.01%)
PER_10K_DIGITS = 1  # 差错户数 per 万户: 27.1
