"""Every ``osteo`` command is composed in the CLI modules; ``web.demo`` holds only the demo's steps."""

from __future__ import annotations

import importlib

import click
import pytest
from click.testing import CliRunner

from screening.cli import LAZY_COMMANDS, SHORT_HELP, cli


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_each_command_comes_from_a_cli_module_and_answers_help(name: str) -> None:
    module_name, _attr = LAZY_COMMANDS[name].split(":")
    assert module_name.startswith(("screening.cli", "training.cli")), module_name
    assert name in SHORT_HELP
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_the_demo_module_declares_no_command() -> None:
    demo = importlib.import_module("web.demo")
    assert not [value for value in vars(demo).values() if isinstance(value, click.Command)]
    assert not hasattr(demo, "click")


def test_demo_refusal_is_one_clear_line(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OSTEO_REDIS_URL", "redis://127.0.0.1:1/0")
    result = CliRunner().invoke(cli, ["demo", "--no-serve"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: osteo demo runs on the embedded default: unset OSTEO_REDIS_URL"
