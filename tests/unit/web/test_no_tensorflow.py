"""The web process must never import TensorFlow (it is large and the web image does not ship it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_creating_the_app_and_serving_pages_imports_no_tensorflow(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from screening.config import load_settings\n"
        "import web\n"
        "from screening.db import schema\n"
        f"settings = load_settings({{'OSTEO_VAR_DIR': {str(tmp_path)!r}}})\n"
        "schema.upgrade(settings.database_url)\n"
        "app = web.create_app(settings)\n"
        "client = app.test_client()\n"
        "assert client.get('/login').status_code == 200\n"
        "assert client.get('/api/v1/openapi.json').status_code == 200\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout
