"""`readq serve` listens on this machine only unless --host says otherwise (issue 11: the dashboards show
the centre's numbers; Streamlit on its own would listen on every interface)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from readq.cli import serve_command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> set[str]:
    """The local addresses that listen on `port` (/proc/net/tcp, state 0A = LISTEN)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_dashboards_listen_on_loopback_only_by_default(tmp_path: Path) -> None:
    port = _free_port()
    cmd = serve_command(port, "127.0.0.1")
    assert "--server.address=127.0.0.1" in cmd
    proc = subprocess.Popen(cmd, env={**os.environ, "READQ_HOME": str(tmp_path)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not _listening(port) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
        # 0100007F is 127.0.0.1 as /proc writes it; all interfaces would be 00000000 (or :: in tcp6)
        assert _listening(port) == {"0100007F"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_and_demo_default_to_loopback_and_take_a_host() -> None:
    from readq.cli import parser

    p = parser()
    assert p.parse_args(["serve"]).host == "127.0.0.1"
    assert p.parse_args(["demo"]).host == "127.0.0.1"
    assert p.parse_args(["serve", "--host", "0.0.0.0"]).host == "0.0.0.0"
    assert "--server.address=0.0.0.0" in serve_command(8501, "0.0.0.0")
