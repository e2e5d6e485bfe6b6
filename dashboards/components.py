"""Widgets shared by the dashboard pages: language switch, month and team filters.

URL state: `?lang=` (zh|en), `?month=YYYY-MM`, `?team=` (repeated), `?kind=`, `?delivery=`. Month and team widgets use
Streamlit's `bind="query-params"`: they are seeded from the URL once, write back on change, and
ignore (and drop from the URL) values that are not among the options taken from the data —
crafted values never reach a query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from dashboards import data
from dashboards.anomalies import md_escape
from dashboards.i18n import DEFAULT_LANG, LANG_NAMES, LANG_STATE_KEY, parse_lang, t

MONTH_KEY = "month"
TEAM_KEY = "team"
KIND_KEY = "kind"
ALL = "*"  # the "all" entry of `choice_or_all`; it is the default, so it never appears in the URL


def init_language() -> str:
    """Seed the language from `?lang=` once per session and keep the URL in step with it."""
    if LANG_STATE_KEY not in st.session_state:
        st.session_state[LANG_STATE_KEY] = parse_lang(st.query_params.get("lang"))
    lang = parse_lang(st.session_state[LANG_STATE_KEY])
    current = st.query_params.get("lang")
    if lang == DEFAULT_LANG:
        if current is not None:
            del st.query_params["lang"]
    elif current != lang:
        st.query_params["lang"] = lang
    return lang


def language_switch() -> None:
    """Sidebar radio (its value lives in session_state; `init_language` mirrors it to the URL)."""
    st.sidebar.radio(
        t("lang_label"),
        options=list(LANG_NAMES),
        format_func=LANG_NAMES.__getitem__,
        key=LANG_STATE_KEY,
        horizontal=True,
    )


def month_picker(months: Sequence[str]) -> str:
    """Sidebar month select, newest first; defaults to the latest month. A month in the URL that the data
    does not hold (stale or crafted) is dropped, and the page says so."""
    options = sorted(months, reverse=True)
    asked = st.query_params.get(MONTH_KEY)
    if asked is not None and asked not in options:
        st.info(t("month_not_listed", month=md_escape(asked), latest=options[0]), icon=":material/search_off:")
    value = st.sidebar.selectbox(t("month_label"), options, index=0, key=MONTH_KEY, bind="query-params")
    return value if value in options else options[0]


def team_picker(teams: Sequence[str]) -> list[str]:
    """Sidebar team multiselect; an empty selection means every team. Teams in the URL that the data does not
    hold are dropped, and the page says so."""
    options = sorted(teams)
    unknown = [v for v in st.query_params.get_all(TEAM_KEY) if v not in options]
    if unknown:
        st.info(t("team_not_listed", teams=md_escape(t("list_sep").join(unknown))), icon=":material/search_off:")
    chosen = st.sidebar.multiselect(
        t("team_label"),
        options,
        default=[],
        key=TEAM_KEY,
        placeholder=t("team_placeholder"),
        bind="query-params",
    )
    return [team for team in chosen if team in options]


def choice_or_all(label: str, options: Sequence[str], *, key: str, all_label: str) -> str | None:
    """Sidebar select with an "all" entry first (the default); returns None for all.

    Options are shown as they are (data values such as months and kind codes), so a shared URL
    means the same in every language. A URL value not among them is dropped, and the page says so.
    """
    values = [ALL, *options]
    asked = st.query_params.get(key)
    if asked is not None and asked not in values:
        st.info(t("url_value_not_listed", label=label, value=md_escape(asked), all=all_label),
                icon=":material/search_off:")
    value = st.sidebar.selectbox(
        label,
        values,
        index=0,
        key=key,
        format_func=lambda v: all_label if v == ALL else str(v),
        bind="query-params",
    )
    return value if value in options else None


def published_snapshot() -> data.Snapshot | None:
    """The published snapshot, or None after telling the user to build one."""
    snap = data.current_snapshot()
    if snap is None:
        st.info(t("no_snapshot", path=data.snapshot_path()), icon=":material/info:")
    return snap


def snapshot_with(needed: Sequence[str], missing_key: str) -> tuple[data.Snapshot, set[str]] | None:
    """The published snapshot and its table names when it holds every table of `needed`; else None, after
    telling the user why (nothing published, `missing_key` for an older snapshot, unreadable)."""
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        tables = data.table_names(snap)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if not all(name in tables for name in needed):
        st.info(t(missing_key), icon=":material/info:")
        return None
    return snap, tables


def snapshot_months(needed: Sequence[str], missing_key: str, months_of: Callable[[data.Snapshot], list[str]],
                    no_months_key: str) -> tuple[data.Snapshot, set[str], list[str]] | None:
    """`snapshot_with(needed, missing_key)` and the months `months_of` finds in it; None after telling the user
    why there are none (unreadable: a warning; no month: `no_months_key`)."""
    found = snapshot_with(needed, missing_key)
    if found is None:
        return None
    snap, tables = found
    try:
        months = months_of(snap)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if not months:
        st.info(t(no_months_key), icon=":material/info:")
        return None
    return snap, tables, months


def url_choice(label: str, options: Sequence[str], key: str, placeholder: str, not_listed: str) -> str | None:
    """A select bound to `?<key>=` (nothing chosen by default); None when nothing valid is chosen. A value in
    the URL that is not among `options` (stale or crafted) is dropped and `not_listed` is shown."""
    asked = st.query_params.get(key)  # read before the widget drops a value not in the list
    chosen = st.selectbox(label, list(options), index=None, key=key, placeholder=placeholder, bind="query-params")
    if chosen in options:
        return chosen
    if asked and asked not in options:
        st.info(not_listed, icon=":material/search_off:")
    return None
