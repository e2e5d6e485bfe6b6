"""Fake personal data for the demo centre: names, phones, addresses, segment names.

Every value is made up from the word lists below (all GBK-encodable). Nothing here is a
domain number; the counts come from the caller.
"""

from __future__ import annotations

import numpy as np
import polars as pl

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国文红玉春梅海燕飞鹏辉志宏波斌琳雪晶婷云峰"
    "林俊丹萍亮成龙永凤庆新利荣秋德福贵生长安宁光辉金水山和顺兴发家宝祥民忠义清泉松柏竹菊莲"
)
PLACES = ["城关", "东关", "青石", "白沙", "南岭", "桃源"]
TOWNS = ["城关镇", "东关镇", "西河乡", "南岭镇", "北山乡", "青石镇", "桃源乡", "白沙镇"]
STREETS = ["人民路", "解放路", "建设路", "胜利街", "新华街", "中山路", "文化路", "滨河路", "朝阳路", "育才路",
           "光明街", "和平路", "长青路", "府前街", "东风路", "团结路"]
VILLAGES = ["柳树湾村", "石桥村", "王家庄村", "大坪村", "河口村", "杨柳村", "新塘村", "高桥村", "枫林村",
            "黄泥坡村", "李家湾村", "竹园村", "龙井村", "双溪村", "马鞍村", "凤凰村"]
COMMUNITIES = ["锦绣小区", "幸福家园", "阳光花园", "翠苑小区", "金桂苑", "滨江小区", "康乐小区", "东方名城"]
SHOP_KINDS = ["超市", "饭店", "五金店", "理发店", "药店", "粮油店", "加工厂", "修理部", "商店", "茶楼", "宾馆",
              "养殖场", "诊所", "幼儿园", "农资店", "建材店"]
COMPANY_WORDS = ["华盛", "鑫源", "宏达", "恒通", "永泰", "金鼎", "瑞丰", "振兴", "新科", "天成", "长城", "东方",
                 "汇丰", "众诚", "腾飞", "利民"]
COMPANY_KINDS = ["水泥有限公司", "纺织有限公司", "机械制造有限公司", "食品有限公司", "建材有限公司",
                 "化工有限公司", "电子科技有限公司", "砖厂", "木业有限公司", "矿业有限公司", "医院", "中学",
                 "自来水公司", "污水处理厂", "冷链物流有限公司", "酒店管理有限公司"]
PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                  "157", "158", "159", "177", "180", "181", "182", "186", "187", "188", "189", "199"]


def _pick(rng: np.random.Generator, words: list[str], n: int) -> pl.Series:
    return pl.Series(words).gather(rng.integers(0, len(words), n))


def person_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Chinese personal names: surname + one or two given characters."""
    two = rng.random(n) < 0.7
    given2 = pl.Series(np.where(two, np.asarray(_pick(rng, GIVEN, n).to_list(), dtype=object), ""))
    return pl.DataFrame({"s": _pick(rng, SURNAMES, n), "g": _pick(rng, GIVEN, n), "h": given2}).select(
        pl.concat_str("s", "g", "h")).to_series()


def unique_person_names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct names (staff), in draw order."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        for name in person_names(rng, 2 * (n - len(out)) + 4).to_list():
            if name not in seen and len(out) < n:
                seen.add(name)
                out.append(name)
    return out


def phones(rng: np.random.Generator, n: int) -> pl.Series:
    digits = pl.Series(rng.integers(0, 10**8, n)).cast(pl.String).str.zfill(8)
    return pl.DataFrame({"p": _pick(rng, PHONE_PREFIXES, n), "d": digits}).select(
        pl.concat_str("p", "d")).to_series()


def business_names(rng: np.random.Generator, n: int, large: bool) -> pl.Series:
    """Non-residential names: shops (low voltage) or companies (high voltage)."""
    if large:
        parts = {"t": _pick(rng, PLACES, n), "w": _pick(rng, COMPANY_WORDS, n), "k": _pick(rng, COMPANY_KINDS, n)}
    else:
        parts = {"t": _pick(rng, SURNAMES, n), "w": _pick(rng, ["记", "氏", "家", "兴", "顺"], n),
                 "k": _pick(rng, SHOP_KINDS, n)}
    return pl.DataFrame(parts).select(pl.concat_str("t", "w", "k")).to_series()


def area_names(rng: np.random.Generator, n: int) -> list[str]:
    """A place for each segment (a street, village or residential compound in a town)."""
    pools = [STREETS, VILLAGES, COMMUNITIES]
    kind = rng.integers(0, len(pools), n)
    town = rng.integers(0, len(TOWNS), n)
    return [TOWNS[t] + pools[k][int(rng.integers(0, len(pools[k])))] for t, k in zip(town, kind, strict=True)]


def addresses(rng: np.random.Generator, area: pl.Series, house_no: np.ndarray) -> pl.Series:
    """`<area><house number>号` with an occasional building/room suffix."""
    n = len(house_no)
    building = rng.integers(1, 13, n).astype(str)
    room = (rng.integers(1, 19, n) * 100 + rng.integers(1, 5, n)).astype(str)
    with_room = rng.random(n) < 0.3
    suffix = np.where(with_room, np.char.add(np.char.add(np.char.add(building, "栋"), room), "室"), "")
    return pl.DataFrame({"a": area, "n": pl.Series(house_no).cast(pl.String), "s": pl.Series(suffix)}).select(
        pl.concat_str("a", "n", pl.lit("号"), "s")).to_series()
