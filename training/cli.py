"""``osteo synth``, ``osteo train`` and ``osteo evaluate``.

Imported lazily by ``screening.cli``; TensorFlow is imported only inside the
commands that need it, so ``osteo synth`` stays light.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from training.phantoms import DEFAULT_CLASS_BALANCE, default_workers, write_dataset


def _balance(value: str) -> tuple[float, float, float]:
    parts = [float(v) for v in value.split(",")]
    if len(parts) != 3 or min(parts) < 0 or sum(parts) <= 0:
        raise click.BadParameter("give three non-negative shares: normal,osteopenia,osteoporosis")
    return (parts[0], parts[1], parts[2])


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", default=300, show_default=True, type=click.IntRange(min=1), help="Number of images.")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same images.")
@click.option("--size", default=512, show_default=True, type=click.IntRange(min=32), help="Image side in pixels.")
@click.option("--bit-depth", default=8, show_default=True, type=click.Choice(["8", "16"]), help="PNG bit depth.")
@click.option(
    "--balance",
    default=",".join(str(v) for v in DEFAULT_CLASS_BALANCE),
    show_default=True,
    help="Class shares normal,osteopenia,osteoporosis (per patient).",
)
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Processes (default: all cores).")
def synth(out_dir: Path, count: int, seed: int, size: int, bit_depth: str, balance: str, workers: int | None) -> None:
    """Generate SYNTHETIC hand/wrist phantoms and a manifest.csv in OUT_DIR.

    Bone density is set by construction from a latent T-score (cortical
    thickness, trabecular density). For testing and demonstration only:
    never clinical evidence.
    """
    started = time.perf_counter()
    manifest = write_dataset(
        out_dir,
        count=count,
        seed=seed,
        size=size,
        bit_depth=int(bit_depth),
        class_balance=_balance(balance),
        workers=workers or default_workers(),
    )
    elapsed = time.perf_counter() - started
    click.echo(f"wrote {count} synthetic phantoms ({size} px) and {manifest} in {elapsed:.1f} s")
    click.echo("SYNTHETIC DATA - not patient data, not clinical evidence.")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _configure_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="New (or empty) bundle directory: model.keras, card.json, evaluation/.")
@click.option("--backbone", default="efficientnetv2s", show_default=True,
              type=click.Choice(["efficientnetv2s", "efficientnetv2b0", "compact"]))
@click.option("--size", default=224, show_default=True, type=click.IntRange(min=32), help="Model input side.")
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False),
              help="ImageNet *_notop.h5 for the backbone (nothing is downloaded).")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--epochs-head", default=10, show_default=True, type=click.IntRange(min=0),
              help="Phase 1: frozen backbone, head only.")
@click.option("--epochs-finetune", default=20, show_default=True, type=click.IntRange(min=0),
              help="Phase 2: whole network.")
@click.option("--lr-head", default=1e-3, show_default=True, type=float)
@click.option("--lr-finetune", default=1e-5, show_default=True, type=float,
              help="1e-5 suits pretrained weights; use ~1e-3 for the randomly initialised compact backbone.")
@click.option("--bn-momentum", default=0.99, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="BatchNorm momentum of head and compact backbone; 0.9 settles faster on short runs.")
@click.option("--patience", default=5, show_default=True, type=click.IntRange(min=1), help="EarlyStopping patience.")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--target-sensitivity", default=0.9, show_default=True, type=click.FloatRange(0.01, 1.0),
              help="Osteoporosis sensitivity the referral threshold must reach on held-out data.")
@click.option("--name", default="osteo-fusion", show_default=True, help="Model name in the card.")
@click.option("--checkpoint-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Best checkpoints and the epoch log (default: OUT.checkpoints).")
@click.option("--quiet", is_flag=True, help="No per-epoch progress bars.")
def train(manifest: Path, out_dir: Path, backbone: str, size: int, weights: str | None, batch_size: int,
          epochs_head: int, epochs_finetune: int, lr_head: float, lr_finetune: float, bn_momentum: float,
          patience: int, seed: int,
          target_sensitivity: float, name: str, checkpoint_dir: Path | None, quiet: bool) -> None:
    """Train a model bundle on MANIFEST (CSV: file, patient_id, age, sex, label or t_score)."""
    _configure_logging()
    from training.manifest import ManifestError
    from training.train import TrainConfig
    from training.train import train as run_training

    config = TrainConfig(
        backbone=backbone, size=size, weights=weights, batch_size=batch_size, epochs_head=epochs_head,
        epochs_finetune=epochs_finetune, lr_head=lr_head, lr_finetune=lr_finetune, bn_momentum=bn_momentum,
        patience=patience,
        seed=seed, target_sensitivity=target_sensitivity, name=name, verbose=0 if quiet else 1,
    )
    try:
        result = run_training(manifest, out_dir, config, checkpoint_dir)
    except (ManifestError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    ev = result.evaluation
    click.echo(f"bundle {result.version} written to {result.bundle_dir} in {result.seconds:.0f} s")
    click.echo(f"held-out: macro F1 {ev['macro_f1']:.3f}  MCC {ev['mcc']:.3f}  AUC {_fmt(ev['auc_macro_ovr'])}  "
               f"ECE {ev['calibration']['ece_before']:.3f} -> {ev['calibration']['ece_after']:.3f}  "
               f"refer at P(osteoporosis) >= {ev['referral']['threshold']:.3f} "
               f"(sensitivity {ev['referral']['sensitivity']:.2f}, specificity {ev['referral']['specificity']:.2f})")
    click.echo(f"report: {result.bundle_dir / 'evaluation' / 'evaluation.html'}")


@click.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for evaluation.html, evaluation.json and the figures.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
def evaluate(bundle: Path, manifest: Path, out_dir: Path, batch_size: int) -> None:
    """Evaluate model BUNDLE on labelled MANIFEST with the card's temperature and threshold."""
    _configure_logging()
    from screening.model import BundleError
    from training.manifest import ManifestError
    from training.train import evaluate_bundle

    try:
        ev = evaluate_bundle(bundle, manifest, out_dir, batch_size)
    except (ManifestError, BundleError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{ev['model_version']} on {ev['n']} images: accuracy {ev['accuracy']:.3f}  "
               f"macro F1 {ev['macro_f1']:.3f}  MCC {ev['mcc']:.3f}  AUC {_fmt(ev['auc_macro_ovr'])}")
    click.echo(f"referral at {ev['referral']['threshold']:.3f}: sensitivity {ev['referral']['sensitivity']:.2f}, "
               f"specificity {ev['referral']['specificity']:.2f}")
    click.echo(f"report: {out_dir / 'evaluation.html'}")


@click.command("evaluate-candidate")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--manifest", "manifest_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled manifest of the program's DXA-confirmed images (label or t_score column).")
@click.option("--active", "active_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="Bundle to compare with; default: the database's active model (else OSTEO_MODEL_BUNDLE).")
@click.option("--bootstrap", "n_boot", default=1000, show_default=True, type=click.IntRange(min=50),
              help="Patient-bootstrap resamples for the 95 % intervals.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the figures as JSON to this file.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
def evaluate_candidate(bundle: Path, manifest_path: Path, active_path: Path | None, n_boot: int,
                       json_out: Path | None, batch_size: int) -> None:
    """Compare candidate BUNDLE with the active model on DXA-confirmed cases, overall, by sex and by age band."""
    _configure_logging()
    import json

    from screening.config import load_settings
    from screening.model import BundleError, load_bundle
    from screening.model_registry import load_active_bundle
    from training.candidate import compare, format_comparison, run_bundle
    from training.manifest import ManifestError, read_manifest

    try:
        manifest = read_manifest(manifest_path, min_per_class=1)
        candidate_bundle = load_bundle(bundle)
        active_bundle = load_bundle(active_path) if active_path else load_active_bundle(load_settings())
    except (ManifestError, BundleError) as exc:
        raise click.ClickException(str(exc)) from None
    if candidate_bundle.card.class_names != active_bundle.card.class_names:
        raise click.ClickException("the two bundles predict different classes; they cannot be compared")
    candidate = run_bundle(candidate_bundle, manifest, batch_size, n_boot)
    active = run_bundle(active_bundle, manifest, batch_size, n_boot)
    comparison = compare(candidate, active, manifest, list(candidate_bundle.card.class_names), n_boot)
    click.echo(f"{len(manifest.rows)} images of {len(set(manifest.groups()))} people from {manifest.path}")
    click.echo(format_comparison(comparison))
    if json_out:
        json_out.write_text(json.dumps(comparison.to_dict(), indent=2) + "\n")
        click.echo(f"figures: {json_out}")
