"""Streamlit entrypoint: `uv run streamlit run dashboards/app.py`.

Pages are listed once in `PAGES`; add a new page by appending a `PageSpec` (its title is an
i18n key). Every page reads only the published snapshot (see `dashboards/data.py`).

Page scripts live in `dashboards/views/`, deliberately not `dashboards/pages/`: Streamlit 1.67
still switches to the legacy pages-directory mode whenever a `pages/` folder sits next to the
entrypoint until `st.navigation` has run once in the process (and AppTest resets that flag on
every run). In that mode a deep link such as `/errors` or a widget rerun executes the page script
alone, skipping this entrypoint (no page config, no language switch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboards import access
from dashboards.anomalies import md_escape
from dashboards.components import init_language, language_switch
from dashboards.i18n import t

PAGES_DIR = Path(__file__).parent / "views"  # not "pages/": see module docstring


@dataclass(frozen=True)
class PageSpec:
    file: str  # under dashboards/views/
    title_key: str  # i18n key
    icon: str
    url_path: str
    section_key: str = "nav_section_main"
    default: bool = False


PAGES: list[PageSpec] = [
    PageSpec("overview.py", "page_overview", ":material/monitoring:", "overview", default=True),
    PageSpec("errors.py", "page_errors", ":material/rule:", "errors", section_key="nav_section_analysis"),
    PageSpec("anomalies.py", "page_anomalies", ":material/troubleshoot:", "anomalies",
             section_key="nav_section_analysis"),
    PageSpec("readers.py", "page_readers", ":material/badge:", "readers", section_key="nav_section_analysis"),
    PageSpec("assessment.py", "page_assessment", ":material/military_tech:", "assessment",
             section_key="nav_section_analysis"),
    PageSpec("workflows.py", "page_workflows", ":material/schedule:", "workflows",
             section_key="nav_section_analysis"),
    PageSpec("report.py", "page_report", ":material/description:", "report", section_key="nav_section_analysis"),
    PageSpec("quality.py", "page_quality", ":material/fact_check:", "quality", section_key="nav_section_data"),
    PageSpec("query.py", "page_query", ":material/manage_search:", "query", section_key="nav_section_data"),
]


def navigation() -> StreamlitPage:
    sections: dict[str, list[StreamlitPage]] = {}
    for spec in PAGES:
        page = st.Page(
            PAGES_DIR / spec.file,
            title=t(spec.title_key),
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.default,
        )
        sections.setdefault(t(spec.section_key), []).append(page)
    return st.navigation(sections)


def signed_in_viewer() -> access.Viewer | None:
    """Who is looking (config [access]); None after telling the user why nothing is shown (not signed in,
    not listed, a broken [access] section). Runs before any page, so no page ever runs for such a user."""
    try:
        return access.viewer()
    except access.AccessConfigError as exc:
        st.error(md_escape(t("access_config_error", error=str(exc))), icon=":material/error:")
    except access.NotSignedIn as exc:
        st.title(t("access_title"))
        if exc.source == "oidc":
            st.info(t("access_login_prompt"), icon=":material/login:")
            st.button(t("access_login"), on_click=st.login, icon=":material/login:", key="access_login")
        else:
            st.warning(t("access_no_header", header=md_escape(exc.header or "")), icon=":material/no_accounts:")
    except access.Denied as exc:
        st.title(t("access_title"))
        st.error(t("access_denied", user=md_escape(exc.user)), icon=":material/block:")
    return None


def viewer_caption(who: access.Viewer) -> None:
    """The sidebar says who is looking and what they see (or that this is a single-user local tool)."""
    if who.user is None:
        st.sidebar.caption(t("access_local"))
        return
    st.sidebar.caption(t("access_user", user=md_escape(who.user), role=t(f"access_role_{who.role}")))
    st.sidebar.caption(t("access_scope_teams", teams=md_escape(t("list_sep").join(who.teams))) if who.teams
                       else t("access_scope_all"))
    if access.config_source() == "oidc":
        st.sidebar.button(t("access_logout"), on_click=st.logout, icon=":material/logout:", key="access_logout")


LAST_PAGE_KEY = "app_last_page"


def requested_params() -> dict[str, list[str]]:
    """The query string this run was asked for, before Streamlit filtered it.

    On a page change Streamlit 1.67 drops from `st.query_params` every parameter bound to a widget of the
    page before (`populate_from_query_string`), so a link's `?team=` is lost when the page it leaves has a
    team picker too. The run's own query string still holds it."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return parse_qs(ctx.query_string, keep_blank_values=True) if ctx is not None else {}


def adopt_link_filters(page: StreamlitPage) -> None:
    """Arriving at another page by a link (`st.page_link` with `query_params`: the Overview's "open 城东's
    errors", the Errors page's "this reader's flags"), the link's filters win over the widget states kept
    from the page before: their states are dropped and the run restarts, so each widget seeds itself from
    the URL (a value not among its options is dropped there, with a message) and the URL keeps them."""
    last = st.session_state.get(LAST_PAGE_KEY)
    st.session_state[LAST_PAGE_KEY] = page.url_path
    if last is None or last == page.url_path:
        return
    dropped = [k for k in requested_params() if k != "lang" and k not in st.query_params]
    if dropped:
        for key in dropped:
            if key in st.session_state:
                del st.session_state[key]
        st.rerun()


def main() -> None:
    init_language()
    st.set_page_config(layout="wide", page_title=t("app_title"), page_icon=":material/electric_meter:")
    who = signed_in_viewer()
    if who is None:
        language_switch()
        return
    pg = navigation()
    language_switch()
    viewer_caption(who)
    adopt_link_filters(pg)
    pg.run()


main()
