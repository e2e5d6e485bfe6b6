"""What the browser tests share: the app served by Streamlit on a free port, and Debian's chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
APP = Path(__file__).parents[2] / "dashboards" / "app.py"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, config: Path | None = None) -> Iterator[str]:
    """`streamlit run dashboards/app.py` on the data folder `home` (and config folder `config`); yields its URL
    once healthy, stops it afterwards."""
    port = free_port()
    env = {**os.environ, "READQ_HOME": str(home)}
    if config is not None:
        env["READQ_CONFIG"] = str(config)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not come up")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def launch(playwright):
    """Debian's chromium under Playwright (it cannot download browsers here); skips when none is installed."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
