"""Starting the product's own commands as processes, the way deployment runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class Service:
    """A child process in its own session, so a SIGKILL takes down its whole tree."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._command, self._env = command, {**os.environ, **env}
        self._log_file = log.open("ab")
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command, env=self._env, cwd=REPO_ROOT, stdout=self._log_file,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the process group: no clean shutdown, no acknowledgements."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class SupervisedService(Service):
    """A service started again whenever it exits, as docker compose's ``restart: unless-stopped`` does.

    Celery's worker can die with "Unrecoverable error" when its Redis connection drops at
    an unlucky moment (celery/kombu reconnect races); production relies on the supervisor
    to start it again, so the tests that cut the broker run the worker the same way.
    """

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        super().__init__(command, env, log)
        self.restarts = 0
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            if self.process.poll() is not None and not self._stopping.is_set():
                self.restarts += 1
                self.process = self._start()

    def stop(self) -> None:
        self._stopping.set()
        self._watcher.join(5)
        super().stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
