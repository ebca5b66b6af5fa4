"""The ``osteo`` command line.

Sub-commands that need heavy packages (TensorFlow for training and screening)
live in their own packages and are imported only when invoked, by dotted name,
so ``osteo --help`` and ``osteo db upgrade`` stay fast and ``screening`` never
imports ``training`` or ``worker`` at module level.
"""

from __future__ import annotations

import importlib

import click

from screening.config import SettingsError

# name -> "module:attribute" of a click command, imported on first use.
LAZY_COMMANDS: dict[str, str] = {
    "db": "screening.cli_admin:db",
    "hospital": "screening.cli_admin:hospital",
    "user": "screening.cli_admin:user",
    "token": "screening.cli_admin:token",
    "dicom": "screening.cli_dicom:dicom",
    "init": "screening.cli_admin:init",
    "identifiers": "screening.cli_identifiers:identifiers",
    "demo": "screening.cli_demo:demo",
    "screen": "screening.cli_screen:screen",
    "measure": "screening.cli_measure:measure",
    "inspect": "screening.cli_inspect:inspect",
    "synth": "training.cli:synth",
    "train": "training.cli:train",
    "evaluate": "training.cli:evaluate",
    "evaluate-candidate": "training.cli:evaluate_candidate",
    "export-training": "screening.cli_export:export_training_command",
    "model": "screening.cli_models:model",
    "figures": "screening.cli_figures:figures",
}

SHORT_HELP: dict[str, str] = {
    "db": "Database schema: upgrade, current revision.",
    "hospital": "Add and list hospitals.",
    "user": "Add and list users (staff, officials, admins).",
    "token": "Create and revoke API tokens.",
    "dicom": "Hospital systems: calling AE titles and where results go back.",
    "init": "Create the embedded database and object store.",
    "identifiers": "Keys for the hospitals' patient ids: new key, rotate.",
    "demo": "Screen a sample batch on this machine and serve the dashboard.",
    "screen": "Screen an archive of X-rays on this machine.",
    "measure": "Measure the metacarpal cortex (radiogrammetry) on image files.",
    "inspect": "Check files or archives with the hand/wrist gate, without screening.",
    "synth": "Generate synthetic hand/wrist phantoms with a manifest.",
    "train": "Train a model bundle on a labelled manifest.",
    "evaluate": "Evaluate a model bundle on a labelled manifest.",
    "evaluate-candidate": "Compare a candidate model with the active one on DXA-confirmed cases.",
    "export-training": "Export DXA-confirmed images as a training manifest.",
    "model": "Model versions: add a bundle, list, promote one to active.",
    "figures": "Recompute the figures by people (after an upgrade).",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported when first used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                raise click.ClickException(
                    f"'osteo {cmd_name}' needs a package that is not installed ({exc.name}); "
                    "install the project with its extras: pip install -e '.[ml,reports]'"
                ) from exc
            return getattr(module, attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List lazy commands with their short help without importing them."""
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
def cli() -> None:
    """OSTEO AI: osteoporosis screening from hand/wrist X-rays.

    A screening aid, not a diagnosis: DXA is the reference standard.
    Settings come from OSTEO_* environment variables (see README).
    """


def main() -> None:
    """Console-script entry point: turn settings errors into a clean message."""
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        raise SystemExit(f"Configuration error: {exc}") from None


if __name__ == "__main__":
    main()
