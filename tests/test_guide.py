"""The user guide (docs/guide.zh-CN.md and its English twin) stays whole: every screenshot it shows exists,
both languages have the same sections and show the same steps, and the commands and pages it names exist."""

from __future__ import annotations

import re
from pathlib import Path

from dashboards.app import PAGES
from dashboards.i18n import CATALOG
from readq.cli import parser

DOCS = Path(__file__).parents[1] / "docs"
GUIDES = {"zh": DOCS / "guide.zh-CN.md", "en": DOCS / "guide.en.md"}


def text(lang: str) -> str:
    return GUIDES[lang].read_text(encoding="utf-8")


def test_every_screenshot_exists_and_both_languages_show_the_drill_down() -> None:
    images = {}
    for lang in GUIDES:
        images[lang] = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text(lang))
        assert images[lang], lang
        for rel in images[lang]:
            assert (DOCS / rel).is_file(), (lang, rel)
    drill = [i for i in images["zh"] if "drill_" in i]
    assert drill == [i for i in images["en"] if "drill_" in i] and len(drill) == 3


def test_the_twins_have_the_same_sections() -> None:
    heads = {lang: re.findall(r"^## (\d+)\.", text(lang), flags=re.M) for lang in GUIDES}
    assert heads["zh"] == heads["en"] and len(heads["zh"]) >= 8


def test_the_pages_and_commands_it_names_exist() -> None:
    zh_titles = {CATALOG["zh"][p.title_key] for p in PAGES}
    en_titles = {CATALOG["en"][p.title_key] for p in PAGES}
    zh_table = re.findall(r"^\| \*\*(.+?)\*\* \|", text("zh"), flags=re.M)
    en_table = re.findall(r"^\| \*\*(.+?)\*\* \|", text("en"), flags=re.M)
    assert set(zh_table) == zh_titles, set(zh_table) ^ zh_titles
    assert set(en_table) == en_titles, set(en_table) ^ en_titles
    commands = set(parser()._subparsers._group_actions[0].choices)  # argparse keeps the commands here
    for lang in GUIDES:
        named = set(re.findall(r"`(?:uv run )?readq ([a-z]+)", text(lang)))
        assert named <= commands, (lang, named - commands)
