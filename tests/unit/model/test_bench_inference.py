"""The inference benchmark runs end to end and ends with its JSON figures line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_quick_run_prints_figures_last() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "inference.py"), "--backbone", "compact",
         "--size", "64", "--quick"],
        capture_output=True, text=True, timeout=240, cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["backbone"] == "compact" and figures["random_weights"] is True
    for key in ("raw_forward_images_per_s", "full_path_images_per_s", "naive_images_per_s"):
        assert figures[key] > 0
    assert figures["full_over_raw"] == pytest.approx(
        figures["full_path_images_per_s"] / figures["raw_forward_images_per_s"], rel=0.01, abs=2e-3)
    assert any(line.startswith("ratio (b)/(a)") for line in lines)
