"""Who is looking, and what they may see (config/readq.toml [access]; README, "Access").

Without an `[access]` section the dashboards are a single-user local tool: `local()` sees everything and
the sidebar says so. With it, the user comes from a trusted reverse proxy's header (`source = "header"`)
or from Streamlit's built-in OIDC login (`source = "oidc"`, `st.login`), and maps to a role in
`[access.users]`: director and statistician see every team; a team leader only their team. A team leader's
pages read a copy of the snapshot cut to that team (`warehouse/scoping.py`, built by `data.current_snapshot`),
so no URL, download, report or Query-page SQL reaches another team's rows. A user not listed sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from readq.config import load_toml

ROLES: dict[str, bool] = {"director": False, "statistician": False, "team_leader": True}  # role -> team-scoped
SOURCES = ("header", "oidc")


class AccessConfigError(ValueError):
    """config [access] is not usable; the message names the entry and what is wrong."""


class NotSignedIn(Exception):
    """No user could be told from the request (no proxy header, no OIDC login yet)."""

    def __init__(self, source: str, header: str | None) -> None:
        super().__init__(source)
        self.source = source
        self.header = header


class Denied(Exception):
    """The signed-in user is not listed in [access.users]."""

    def __init__(self, user: str) -> None:
        super().__init__(user)
        self.user = user


@dataclass(frozen=True)
class Viewer:
    user: str | None           # None: the single local user
    role: str                  # "local" or a key of ROLES
    teams: tuple[str, ...] | None = None   # None: every team

    @property
    def scoped(self) -> bool:
        return self.teams is not None


LOCAL = Viewer(None, "local")


@dataclass(frozen=True)
class AccessConfig:
    source: str
    header: str
    users: dict[str, Viewer]


def parse(section: dict[str, Any]) -> AccessConfig:
    """config [access] as users and their roles, or AccessConfigError naming what is wrong."""
    source = section.get("source", "header")
    if source not in SOURCES:
        raise AccessConfigError(f"[access] source must be one of {', '.join(SOURCES)}, not {source!r}")
    header = str(section.get("header", "X-Forwarded-User"))
    users: dict[str, Viewer] = {}
    for name, entry in dict(section.get("users", {})).items():
        role = entry.get("role") if isinstance(entry, dict) else None
        if role not in ROLES:
            raise AccessConfigError(f"[access.users] {name!r}: role must be one of {', '.join(ROLES)}, not {role!r}")
        team = entry.get("team")
        if ROLES[role]:
            if not isinstance(team, str) or not team.strip():
                raise AccessConfigError(f"[access.users] {name!r}: a team_leader needs team = \"<抄表队>\"")
            users[name] = Viewer(name, role, (team,))
        else:
            users[name] = Viewer(name, role)
    return AccessConfig(source, header, users)


def config() -> AccessConfig | None:
    """The [access] section of config/readq.toml, None without one (single-user local tool)."""
    section = load_toml("readq.toml").get("access")
    return None if section is None else parse(section)


def config_source() -> str | None:
    cfg = config()
    return None if cfg is None else cfg.source


def request_headers() -> dict[str, str]:
    """The headers of the browser's request, as the proxy passed them (a seam for tests: AppTest sends none)."""
    return dict(st.context.headers)


def oidc_user() -> str | None:
    """The signed-in OIDC user's e-mail (else the subject), None before login."""
    if not st.user.get("is_logged_in", False):
        return None
    return st.user.get("email") or st.user.get("sub")


def signed_in(cfg: AccessConfig) -> str | None:
    if cfg.source == "oidc":
        return oidc_user()
    wanted = cfg.header.lower()
    value = next((v for k, v in request_headers().items() if k.lower() == wanted), None)
    return (value.strip() or None) if value is not None else None


def viewer() -> Viewer:
    """Who is looking: LOCAL without [access]; else the listed user, or NotSignedIn / Denied."""
    cfg = config()
    if cfg is None:
        return LOCAL
    user = signed_in(cfg)
    if user is None:
        raise NotSignedIn(cfg.source, cfg.header if cfg.source == "header" else None)
    if user not in cfg.users:
        raise Denied(user)
    return cfg.users[user]
