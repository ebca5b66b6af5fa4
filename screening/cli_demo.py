"""``osteo demo``: the command's options, progress display and messages.

The demo's own steps (accounts, sample archive, worker, upload, dashboard) are in
``web.demo``, imported when the command runs, so ``osteo --help`` stays fast and
``screening`` imports no Flask or Celery at module level.
"""

from __future__ import annotations

from pathlib import Path

import click

from screening.cli_screen import StageProgress, print_outcome
from screening.config import load_settings
from screening.db.models import Batch
from screening.storage import open_store
from screening.vocabulary import is_finished


@click.command()
@click.option("--archive", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Screen your own archive (zip/tar + manifest.csv) instead of the sample.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and screen, then exit without serving the dashboard.")
def demo(archive: Path | None, host: str, port: int, no_serve: bool) -> None:
    """Set up the embedded default, screen a sample batch and serve the dashboard."""
    from web.demo import DemoError, run_demo

    settings = load_settings()
    bars = StageProgress()

    def follow(batch: Batch) -> None:
        """Progress bars while the batch is screened; its outcome once, when it finishes (before serving)."""
        bars(batch)
        if is_finished(batch.status):
            bars.close()
            print_outcome(settings, open_store(settings), batch)

    try:
        run_demo(settings, archive, host, port, serve_dashboard=not no_serve, progress=follow)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        bars.close()
