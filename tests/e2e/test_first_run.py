"""The README's first command, as a newcomer runs it: `osteo demo` in an empty directory."""

from __future__ import annotations

import http.cookiejar
import re
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from web.demo import DEMO_STAFF
from worker.topology import local_command

pytestmark = pytest.mark.integration


def _start_demo(workdir: Path, *args: str) -> subprocess.Popen[str]:
    env = {"PATH": str(Path(local_command(["osteo"])[0]).parent) + ":/usr/bin:/bin", "HOME": str(workdir)}
    return subprocess.Popen(local_command(["osteo", "demo", *args]), cwd=workdir, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:  # type: ignore[union-attr]
        seen.append(line)
        if marker in line:
            return "".join(seen)
        assert time.monotonic() < deadline, "".join(seen[-30:])
    raise AssertionError("demo exited early:\n" + "".join(seen[-30:]))


def _login_and_get(base: str, path: str) -> str:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"email": DEMO_STAFF[0], "password": DEMO_STAFF[1], "csrf_token": token})
    opener.open(base + "/login", data=body.encode(), timeout=30)
    return opener.open(base + path, timeout=30).read().decode()


def test_demo_screens_the_sample_and_serves_the_dashboard_then_reuses_it(tmp_path):
    port = free_port()
    demo = _start_demo(tmp_path, "--port", str(port))
    try:
        output = _read_until(demo, "Press Ctrl-C", 600)
        assert "status:   complete" in output
        page = _login_and_get(f"http://127.0.0.1:{port}", "/")
        assert "sample-phantoms.zip" in page
        assert "not a diagnosis" in page.lower() or "screening aid" in page.lower()
    finally:
        demo.terminate()
        demo.wait(60)

    database = sqlite3.connect(tmp_path / "var" / "osteo.db")
    (status, screened, reported), = database.execute("select status, screened, reported from batches").fetchall()
    patients, = database.execute("select count(distinct patient_id) from images").fetchone()
    reports, = database.execute("select count(*) from reports where pdf_key is not null and error is null").fetchone()
    assert (status, screened) == ("complete", 48)
    assert reported == reports == patients

    again = subprocess.run(local_command(["osteo", "demo", "--no-serve"]), cwd=tmp_path, capture_output=True,
                           text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already screened" in again.stdout
    assert database.execute("select count(*) from batches").fetchone() == (1,)
