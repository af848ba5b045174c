"""How long does the ODS import take for 10,000 GP practices?

Recreates and migrates a PostgreSQL database (``igpm_bench_ods``, or the
one ``BENCH_ODS_DATABASE_URL`` names; its name must contain "bench") with
``benchmarks.settings``, writes an ``epraccur.csv`` of ``--practices``
practices in the official format (no header, 27 quoted columns, spread
over 42 ICBs and 106 Sub ICB Locations, a few closed, a few walk-in
centres that the import skips) and a PCN core-partner file placing the
open ones in 1,250 PCNs, then times, through ``manage.py ods_import``'s
service:

1. a first import into the empty table;
2. a re-import of the same files (must change nothing);
3. a re-import after a month's churn: ``--churn`` practices renamed, moved
   to another PCN, or closed.

and counts the queries of each. The database is dropped at the end unless
``--keep``.

    .venv/bin/python benchmarks/ods_import.py [--practices 10000] [--json] [--keep]
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_ODS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/igpm_bench_ods"
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.scratch import recreate_database  # noqa: E402
from members.models import NHSOrganisation  # noqa: E402
from members.organisations.ods_files import (  # noqa: E402
    epraccur_bytes,
    pcn_bytes,
    pcn_row,
    practice_row,
)
from members.organisations.ods_import import ods_import  # noqa: E402

ICB_CODES = [f"Q{n:02d}" for n in range(42)]
TOWNS = [
    "LEEDS",
    "YORK",
    "BRISTOL",
    "DERBY",
    "STOCKPORT",
    "HARTLEPOOL",
    "TRURO",
    "LUTON",
    "EXETER",
    "NORWICH",
]


def national_files(practices: int, seed: int = 7) -> tuple[list[list[str]], list[list[str]]]:
    """epraccur rows and PCN rows for ``practices`` practices."""
    rng = random.Random(seed)
    rows, links = [], []
    pcns = max(1, practices // 8)
    for n in range(practices):
        code = f"{chr(ord('A') + n // 100000 % 26)}{n % 100000:05d}"
        icb = ICB_CODES[n % len(ICB_CODES)]
        sub_icb = f"{n % 106:02d}X"
        town = rng.choice(TOWNS)
        kind = rng.random()
        status, closed, setting = "A", "", "4"
        if kind < 0.03:
            status, closed = "C", "20240331"
        elif kind < 0.05:
            setting = "1"  # a walk-in centre: skipped
        name = f"{town} MEDICAL PRACTICE {n}"
        rows.append(
            practice_row(
                code,
                name,
                icb=icb,
                sub_icb=sub_icb,
                town=town,
                postcode=f"{town[:2]}{n % 30} {n % 9}AB",
                status=status,
                closed=closed,
                setting=setting,
            )
        )
        if status == "A" and setting == "4":
            pcn = f"U{n % pcns:05d}"
            links.append(pcn_row(code, name, sub_icb, pcn, f"PCN {n % pcns}"))
    return rows, links


def churn(rows, links, count: int, seed: int = 11):
    """A month later: a third of ``count`` renamed, a third moved to another
    PCN, a third closed."""
    rng = random.Random(seed)
    rows = [list(row) for row in rows]
    links = [list(link) for link in links]
    by_code = {link[0]: link for link in links}
    open_rows = [row for row in rows if row[12] == "A" and row[25] == "4"]
    for i, row in enumerate(rng.sample(open_rows, count)):
        if i % 3 == 0:
            row[1] = row[1] + " (RENAMED)"
        elif i % 3 == 1:
            by_code[row[0]][4] = "U99999"
            by_code[row[0]][5] = "NEW PCN"
        else:
            row[12], row[11] = "C", "20261130"
            links.remove(by_code[row[0]])
    return rows, links


def timed(label: str, practices: bytes, pcns: bytes) -> dict:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = ods_import(practices=practices, pcns=pcns)
        seconds = time.perf_counter() - started
    p = report.practices
    return {
        "run": label,
        "seconds": round(seconds, 2),
        "queries": len(queries),
        "added": len(p.added),
        "changed": len(p.changed),
        "moved": len(p.moved),
        "closed": len(p.closed),
        "unchanged": p.unchanged,
        "pcns_added": len(report.pcns.added),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=10_000)
    parser.add_argument("--churn", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    rows, links = national_files(args.practices)
    first = (epraccur_bytes(rows), pcn_bytes(links))
    later_rows, later_links = churn(rows, links, args.churn)
    later = (epraccur_bytes(later_rows), pcn_bytes(later_links))
    recreate_database()
    try:
        call_command("migrate", verbosity=0)
        results = [
            timed("first import", *first),
            timed("re-import, same files", *first),
            timed(f"re-import, {args.churn} practices changed", *later),
        ]
        held = NHSOrganisation.objects.count()
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    if args.json:
        print(json.dumps({"practices": args.practices, "rows": results, "held": held}))
        return
    print(
        f"{args.practices:,} practice rows ({len(first[0]) / 1e6:.1f} MB epraccur.csv, "
        f"{len(links):,} PCN links); {held:,} organisations held after the runs"
    )
    for r in results:
        print(
            f"  {r['run']:<38} {r['seconds']:6.2f} s  {r['queries']:4} queries  "
            f"added {r['added']}, changed {r['changed']}, moved {r['moved']}, "
            f"closed {r['closed']}, unchanged {r['unchanged']}"
        )


if __name__ == "__main__":
    main()
