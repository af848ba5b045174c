"""How long does an accreditation certificate PDF take, next to a bare WeasyPrint page?

No database is used, created or touched: the certificate and its pathway are
unsaved model instances, and each render does what ``certificate_render`` does
once it has loaded the row, minus the storage write:

    verify_url = certificate_verify_url(certificate)
    pdf_render("accreditation/pdf/certificate.html",
               {"certificate": ..., "verify_url": verify_url,
                "qr": qr_png_data_uri(verify_url)},
               stylesheet="css/pdf/certificate.css")

so the QR code is generated on every render, as it is for real. The baseline
is a minimal HTML page (one heading, one paragraph) through
``weasyprint.HTML(string=...).write_pdf()``. After 3 warm-up renders of each,
the two are run alternately N times, so both see the same machine load, and
the median and p90 wall times are printed with the ratio of the medians
(certificate / bare; the goal is 1.5x or less). The ratio of the medians of
CPU time is printed too, with the load average: on a busy machine wall time
also counts waiting for a core.

To show where the certificate's time goes, the same loop also times its
parts: ``qr_png_data_uri()`` alone, the Django template alone, and WeasyPrint
on the certificate's HTML with the QR code left out (``qr=""``).

Settings are ``benchmarks.settings`` (DEBUG off, cached template loader, as in
production); SITE_URL is fixed to the production address so the verification
URL, and therefore the QR code's size, matches real certificates. The run
fails if a database connection was opened.

Run from the project root:

    .venv/bin/python benchmarks/certificates.py [--runs 30] [--json]
"""

import argparse
import datetime
import io
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ on the path, not the project root.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"

import django  # noqa: E402

django.setup()
# The settings log INFO to the console, and WeasyPrint logs every layout step at
# INFO (from import on): printing all that would be timed too.
logging.getLogger("weasyprint").setLevel(logging.WARNING)

import weasyprint  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone  # noqa: E402

from accreditation.models import Certificate, Pathway  # noqa: E402
from accreditation.qr import qr_png_data_uri  # noqa: E402
from accreditation.services import (  # noqa: E402
    CERTIFICATE_STYLESHEET,
    CERTIFICATE_TEMPLATE,
    certificate_verify_url,
)
from igpm.pdf import pdf_from_html, pdf_render  # noqa: E402

TEMPLATE = CERTIFICATE_TEMPLATE
SITE_URL = "https://portal.igpm.org.uk"  # As in .env.example.
WARMUP = 3
BARE_HTML = (
    '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Bare</title>'
    "</head><body><h1>A heading</h1><p>A paragraph of plain text.</p></body></html>"
)


def sample_certificate() -> Certificate:
    """An unsaved certificate shaped like a real one (values as the service sets them)."""
    pathway = Pathway(
        name="ILM Level 7 Diploma in Leadership and Management",
        slug="ilm-level-7",
        awarding_body="Institute of Leadership & Management (ILM)",
        rqf_level=7,
        route_type=Pathway.RouteType.QUALIFICATION,
    )
    return Certificate(
        pathway=pathway,
        number="IGPM-ACC-2026-00042",
        # Fixed rather than secrets.token_urlsafe(24): same length, same QR every run.
        verification_code="HaC3_J14XvN3gN4DXGXAppBgNgC4iC96",
        holder_name="Siobhan O'Connor-Whitfield",
        issued_on=datetime.date(2026, 3, 14),
        expires_on=datetime.date(2029, 3, 13),
    )


def certificate_pdf(certificate: Certificate) -> bytes:
    # Everything certificate_render does after its query and before storage.save().
    verify_url = certificate_verify_url(certificate)
    qr = qr_png_data_uri(verify_url)
    context = {"certificate": certificate, "verify_url": verify_url, "qr": qr}
    return pdf_render(TEMPLATE, context, stylesheet=CERTIFICATE_STYLESHEET)


def bare_pdf() -> bytes:
    return weasyprint.HTML(string=BARE_HTML).write_pdf()


@dataclass
class Series:
    name: str
    seconds: list[float]
    # CPU time of this process: on a shared machine the wall time includes
    # waiting for a core, which this leaves out.
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.seconds)

    @property
    def p90_ms(self) -> float:
        # quantiles(n=10)[8] is the 90th percentile; needs at least 2 samples.
        return 1000 * statistics.quantiles(self.seconds, n=10)[8]

    @property
    def min_ms(self) -> float:
        return 1000 * min(self.seconds)

    @property
    def cpu_median_ms(self) -> float:
        return 1000 * statistics.median(self.cpu_seconds)


def measure(jobs: dict[str, Callable[[], object]], runs: int) -> dict[str, Series]:
    """Warm each job up, then run them round-robin so load spikes hit all alike."""
    for job in jobs.values():
        for _ in range(WARMUP):
            job()
    series = {name: Series(name, []) for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            job()
            series[name].seconds.append(time.perf_counter() - started)
            series[name].cpu_seconds.append(time.process_time() - cpu_started)
    return series


def check_output(pdf: bytes) -> list[str]:
    """A render that produced the wrong thing would have measured the wrong thing."""
    problems = []
    if not pdf.startswith(b"%PDF"):
        problems.append("the certificate is not a PDF")
    try:
        import pypdf  # A dev dependency: skip the page count without it.
    except ImportError:
        return problems
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    if pages != 1:
        problems.append(f"the certificate has {pages} pages, not 1")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed renders of each (>= 5)")
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/*.json")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5 for a p90")

    settings.SITE_URL = SITE_URL
    certificate = sample_certificate()
    verify_url = certificate_verify_url(certificate)
    qr = qr_png_data_uri(verify_url)
    html_without_qr = render_to_string(
        TEMPLATE,
        {"site_url": SITE_URL, "certificate": certificate, "verify_url": verify_url, "qr": ""},
    )
    problems = check_output(certificate_pdf(certificate))

    series = measure(
        {
            "certificate": lambda: certificate_pdf(certificate),
            "bare page": bare_pdf,
            # The parts, to see where the certificate's time goes.
            "  QR code alone": lambda: qr_png_data_uri(verify_url),
            "  template alone": lambda: render_to_string(
                TEMPLATE, {"certificate": certificate, "verify_url": verify_url, "qr": qr}
            ),
            "  PDF without QR": lambda: pdf_from_html(
                html_without_qr, stylesheet=CERTIFICATE_STYLESHEET
            ),
        },
        args.runs,
    )
    if connections["default"].connection is not None:
        problems.append("a database connection was opened")

    cert, bare = series["certificate"], series["bare page"]
    ratio = cert.median_ms / bare.median_ms
    load = " ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(
        f"{args.runs} runs each after {WARMUP} warm-up, alternating; WeasyPrint "
        f"{weasyprint.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(f"verify URL {verify_url} ({len(verify_url)} chars); QR data URI {len(qr):,} chars")
    print()
    row = "{:<20}{:>12}{:>10}{:>10}{:>16}"
    print(row.format("render", "median ms", "p90 ms", "min ms", "CPU median ms"))
    for item in series.values():
        print(
            row.format(
                item.name, f"{item.median_ms:.1f}", f"{item.p90_ms:.1f}", f"{item.min_ms:.1f}",
                f"{item.cpu_median_ms:.1f}",
            )
        )  # fmt: skip
    print()
    verdict = "within" if ratio <= 1.5 else "above"
    print(f"certificate / bare (medians): {ratio:.2f}x, {verdict} the 1.5x goal")
    cpu_ratio = cert.cpu_median_ms / bare.cpu_median_ms
    print(f"certificate / bare (CPU-time medians): {cpu_ratio:.2f}x; load average {load}")
    for problem in problems:
        print(f"PROBLEM: {problem}")

    if args.json:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        out = ROOT / "benchmarks" / "results" / f"certificates-{stamp}.json"
        out.parent.mkdir(exist_ok=True)
        results = {
            item.name.strip(): {
                **asdict(item),
                "median_ms": round(item.median_ms, 2),
                "p90_ms": round(item.p90_ms, 2),
                "min_ms": round(item.min_ms, 2),
                "cpu_median_ms": round(item.cpu_median_ms, 2),
            }
            for item in series.values()
        }
        config = {
            "runs": args.runs,
            "warmup": WARMUP,
            "weasyprint": weasyprint.__version__,
            "cpus": os.cpu_count(),
            "load_average": load,
        }
        out.write_text(
            json.dumps(
                {"config": config, "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3),
                 "results": results,
                 "problems": problems}, indent=2,
            )
        )  # fmt: skip
        print(f"wrote {out.relative_to(ROOT)}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
