"""URL filters of the Overview and Errors pages that components.py does not cover: a select of codes
shown by their names.

`url_select` keeps `?<key>=` as the option's code (error_rate, reader …), not its label: Streamlit's
`bind="query-params"` writes and reads the formatted label when a `format_func` is given, so a link
shared from the Chinese page would not select anything on the English one. The code is seeded from
the URL once per session (a crafted or stale value is dropped with a message), and mirrored back on
every run (the first option, the default, keeps the URL clean).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboards.i18n import get_lang


def url_select(label: str, options: Sequence[str], key: str, format_func: Callable[[str], str], not_listed: str,
               *, where: DeltaGenerator | None = None) -> str:
    """A select of `options` (codes) labelled by `format_func`, kept in `?<key>=`; the first option is
    the default. A URL value not among the options is dropped and `not_listed` shown.

    The chosen code lives in a plain session value; the widget's key carries the language, because a
    select's state is its label, which a language switch changes (the new widget starts from the code)."""
    values = list(options)
    code, seen, widget = f"url_select_{key}", f"url_select_{key}_seen", f"url_select_{key}_{get_lang()}"
    asked = st.query_params.get(key)
    if asked is not None and asked not in values:
        st.info(not_listed, icon=":material/search_off:")
    # the URL wins when it changed since the last run (a link, an edited address); else the last choice
    if asked in values and asked != st.session_state.get(seen):
        st.session_state[code] = st.session_state[widget] = asked
    current = st.session_state.get(code)
    current = current if current in values else values[0]
    if st.session_state.get(widget) not in values:
        st.session_state[widget] = current
    labels = {v: format_func(v) for v in values}  # this run's labels (the format outlives the run in AppTest)
    value = (where or st).selectbox(label, values, key=widget, format_func=labels.__getitem__)
    value = value if value in values else current
    st.session_state[code] = value
    if value == values[0]:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value
    st.session_state[seen] = None if value == values[0] else value
    return value
