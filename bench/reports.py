"""PDF report throughput: naive WeasyPrint against the product's ReportRenderer, side by side.

    PYTHONPATH=. python bench/reports.py [--reports N] [--page-png docs/report-page1.png]

Both sides render the same generated patient reports (one synthetic 1024 px hand
X-ray and its Grad-CAM-style overlay each):

(a) naive: ``weasyprint.HTML(string=render_patient_html(ctx)).write_pdf()`` with default
    options, i.e. the self-contained HTML report (lossless PNG pictures) turned into a PDF;
(b) product: ``ReportRenderer().patient_pdf(ctx)``.

Speed is reported as PDFs per second per core: reports divided by the CPU time of this
process, so other load on the machine does not distort the ratio. To show both look
the same, page 1 of each is rasterised with pypdfium2 and the mean absolute pixel
difference (0-255 scale) is reported. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from screening.db import Quality, RiskClass
from screening.reports.context import ImageResult, ModelInfo, PatientReportContext, PriorScreening
from screening.reports.render import ReportRenderer, render_patient_html

RASTER_SCALE = 100 / 72  # 100 dpi


def synthetic_hand(seed: int, size: int = 1024) -> np.ndarray:
    """A gray, X-ray-like hand: soft tissue, a palm and five fingers with brighter bones, noise."""
    rng = np.random.default_rng(seed)
    height, width = size, int(size * 0.8)
    tissue = np.zeros((height, width), np.float32)
    bone = np.zeros_like(tissue)
    palm = (width // 2, int(height * 0.66))
    cv2.ellipse(tissue, palm, (int(width * 0.27), int(height * 0.17)), 0, 0, 360, 1.0, -1)
    cv2.rectangle(tissue, (int(width * 0.32), palm[1]), (int(width * 0.68), height), 1.0, -1)
    wrist = np.array([width * 0.5, height * 0.86])
    for finger in range(5):
        angle = np.deg2rad(-48 + finger * 20 + rng.normal(0, 2))
        direction = np.array([np.sin(angle), -np.cos(angle)])
        base = np.array([palm[0] + (finger - 2) * width * 0.1, palm[1] - height * 0.1]) + direction * height * 0.04
        length = height * (0.28 if finger in (1, 2, 3) else 0.2)
        tip = base + length * direction
        cv2.line(tissue, tuple(base.astype(int)), tuple(tip.astype(int)), 1.0, int(width * 0.075))
        joints = [wrist + (base - wrist) * 0.3, base - direction * height * 0.01,
                  *(base + (tip - base) * f for f in (0.45, 0.75, 0.97))]
        for start, stop in zip(joints[:-1], joints[1:], strict=True):
            gap = (stop - start) * 0.06
            cv2.line(bone, tuple((start + gap).astype(int)), tuple((stop - gap).astype(int)), 1.0,
                     int(width * 0.032))
    for side in (-1, 1):
        x = int(width * (0.5 + side * 0.07))
        cv2.line(bone, (x, int(height * 0.9)), (x, height), 1.0, int(width * 0.07))
    image = 0.12 + 0.3 * cv2.GaussianBlur(tissue, (0, 0), 6) + 0.45 * cv2.GaussianBlur(bone, (0, 0), 3)
    image += rng.normal(0, 0.025, image.shape).astype(np.float32)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def synthetic_overlay(gray: np.ndarray, seed: int) -> np.ndarray:
    """A jet heat map blended over the X-ray, like the pipeline's Grad-CAM overlays."""
    rng = np.random.default_rng(seed)
    height, width = gray.shape
    y, x = np.mgrid[0:height, 0:width]
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.75, 0.9)
    heat = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (0.12 * height) ** 2))
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), 0.6, colour, 0.4, 0)


def _png(array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()


def make_context(index: int) -> PatientReportContext:
    """A realistic one-image report: an osteoporosis result with two prior screenings."""
    gray = synthetic_hand(index)
    p_osteoporosis = 0.55 + 0.3 * ((index * 37) % 10) / 10
    p_osteopenia = (1 - p_osteoporosis) * 0.7
    image = ImageResult(
        filename=f"wrist_{index:04d}.png",
        clahe_png=_png(gray),
        overlay_png=_png(synthetic_overlay(gray, index)),
        colormap="jet",
        predicted_class=RiskClass.OSTEOPOROSIS,
        probabilities={RiskClass.NORMAL: 1 - p_osteoporosis - p_osteopenia,
                       RiskClass.OSTEOPENIA: p_osteopenia, RiskClass.OSTEOPOROSIS: p_osteoporosis},
        referred=True,
        quality=Quality.WARNING,
        quality_reason="slightly underexposed",
    )
    return PatientReportContext(
        hospital_name="North District Hospital",
        hospital_code="DH-NORTH",
        batch_id=f"{index:032x}",
        pseudonym=f"p{index:04d}-7f3a9c1e5b",
        age_months=67 * 12 + index % 12,
        sex="F",
        screening_date=date(2025, 3, 14),
        model=ModelInfo(name="osteo-fusion-demo", version="2025.03-9c1e5b7f", synthetic_demo=True),
        images=(image,),
        priors=(PriorScreening(date(2023, 3, 2), RiskClass.NORMAL, 0.12),
                PriorScreening(date(2024, 3, 9), RiskClass.OSTEOPENIA, 0.38)),
        refer_threshold=0.5,
    )


def throughput(render: Callable[[PatientReportContext], bytes],
               contexts: list[PatientReportContext]) -> tuple[float, list[bytes]]:
    """PDFs per CPU-second over ``contexts`` (after one warm-up render), and the PDFs."""
    render(contexts[0])
    started = time.process_time()
    pdfs = [render(ctx) for ctx in contexts]
    return len(contexts) / (time.process_time() - started), pdfs


def rasterise_page1(pdf: bytes) -> np.ndarray:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return np.asarray(document[0].render(scale=RASTER_SCALE).to_pil().convert("RGB"), dtype=np.int16)
    finally:
        document.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=12, help="reports rendered by each side (default 12)")
    parser.add_argument("--page-png", type=Path,
                        help="also save page 1 of a product PDF here (e.g. docs/report-page1.png)")
    args = parser.parse_args(argv)
    if args.reports < 1:
        parser.error("--reports must be at least 1")

    import weasyprint

    contexts = [make_context(i) for i in range(args.reports)]
    renderer = ReportRenderer()
    naive_rate, naive_pdfs = throughput(
        lambda ctx: weasyprint.HTML(string=render_patient_html(ctx)).write_pdf(), contexts)
    product_rate, product_pdfs = throughput(renderer.patient_pdf, contexts)

    naive_page, product_page = rasterise_page1(naive_pdfs[0]), rasterise_page1(product_pdfs[0])
    if naive_page.shape != product_page.shape:
        raise SystemExit(f"page sizes differ: {naive_page.shape} vs {product_page.shape}")
    pixel_difference = float(np.abs(naive_page - product_page).mean())
    if args.page_png:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(product_pdfs[0])
        document[0].render(scale=120 / 72).to_pil().convert("RGB").save(args.page_png, optimize=True)
        document.close()

    figures = {
        "reports": args.reports,
        "naive_pdfs_per_cpu_second": round(naive_rate, 2),
        "product_pdfs_per_cpu_second": round(product_rate, 2),
        "naive_mean_pdf_kb": round(sum(map(len, naive_pdfs)) / len(naive_pdfs) / 1024, 1),
        "product_mean_pdf_kb": round(sum(map(len, product_pdfs)) / len(product_pdfs) / 1024, 1),
        "page1_mean_abs_pixel_difference": round(pixel_difference, 3),
        "speedup_product_over_naive": round(product_rate / naive_rate, 2),
    }
    print(f"(a) naive   : {figures['naive_pdfs_per_cpu_second']:6.2f} PDFs/s per core, "
          f"mean PDF {figures['naive_mean_pdf_kb']} kB")
    print(f"(b) product : {figures['product_pdfs_per_cpu_second']:6.2f} PDFs/s per core, "
          f"mean PDF {figures['product_mean_pdf_kb']} kB")
    print(f"page 1 mean |a-b| pixel difference (0-255, 100 dpi): {figures['page1_mean_abs_pixel_difference']}")
    print(f"speed-up (b)/(a): {figures['speedup_product_over_naive']}x")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
