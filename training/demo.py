"""Build the shipped demo model: synthetic phantoms -> compact fusion model -> ``models/demo``.

Run from the repository root::

    python -m training.demo            # about 10-25 min on a 2-core CPU
    python -m training.demo --force    # replace an existing models/demo

It (1) generates 3000 training phantoms (seed 0) and 600 independent test
phantoms (seed 1) under ``var/``, (2) trains the ``compact`` backbone at
128 px with ``osteo train`` (through the square hand crop; the training split's
films get real-film context, :mod:`training.film_context`) and (3) evaluates the
bundle on the independent set with ``osteo evaluate`` into
``models/demo/independent-test/``.

The compact backbone starts from random weights, so phase 2 uses lr 1e-3 (not
the 1e-5 meant for ImageNet weights) and BatchNorm momentum 0.9 so its moving
statistics settle within the ~75 steps of an epoch.

THE RESULT IS A DEMONSTRATION MODEL TRAINED ON SYNTHETIC PHANTOMS, NOT FOR
CLINICAL USE; its card says so and its metrics describe phantoms, not people.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

from screening.cli import cli

TRAIN_SET = Path("var/phantoms-demo")
TEST_SET = Path("var/phantoms-demo-test")
BUNDLE = Path("models/demo")
CHECKPOINTS = Path("var/demo-checkpoints")

SYNTH_TRAIN = ["synth", str(TRAIN_SET), "--count", "3000", "--seed", "0", "--size", "256"]
SYNTH_TEST = ["synth", str(TEST_SET), "--count", "600", "--seed", "1", "--size", "256"]
TRAIN = [
    "train", str(TRAIN_SET / "manifest.csv"), "--out", str(BUNDLE), "--name", "osteo-demo-phantoms",
    "--backbone", "compact", "--size", "128", "--batch-size", "32",
    "--epochs-head", "3", "--epochs-finetune", "40", "--lr-finetune", "1e-3", "--bn-momentum", "0.9",
    "--patience", "12", "--seed", "42", "--checkpoint-dir", str(CHECKPOINTS), "--quiet",
]
EVALUATE = ["evaluate", str(BUNDLE), str(TEST_SET / "manifest.csv"), "--out", str(BUNDLE / "independent-test")]


def _run(args: list[str]) -> None:
    click.echo(f"$ osteo {' '.join(args)}")
    cli.main(args, standalone_mode=False)


@click.command()
@click.option("--force", is_flag=True, help="Delete an existing models/demo and the demo phantoms first.")
def main(force: bool) -> None:
    """Generate phantoms, train, and evaluate the demo bundle (see module docstring)."""
    if BUNDLE.exists() and any(BUNDLE.iterdir()):
        if not force:
            raise click.ClickException(f"{BUNDLE} exists; pass --force to rebuild it")
        shutil.rmtree(BUNDLE)
    for folder in (TRAIN_SET, TEST_SET, CHECKPOINTS):
        shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    for args in (SYNTH_TRAIN, SYNTH_TEST, TRAIN, EVALUATE):
        _run(args)
    click.echo(f"demo model built in {(time.perf_counter() - started) / 60:.1f} min: {BUNDLE}")


if __name__ == "__main__":
    sys.exit(main())
