"""`shequ certificates-pdf`: print many certificates at once, as the named user.

A committee prints the day's (or a school-enrolment campaign's) certificates to stamp them:
one PDF per certificate, named by serial, into a folder or one zip file. The certificates are
chosen by area, type, issue dates or serials among those the user may print (revoked ones never);
each PDF is audited in the user's name. The PDFs are rendered across worker processes (one per
CPU unless `--workers` says otherwise); this process alone reads the database and writes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.accounts.models import User
from shequ.areas.models import Area
from shequ.core.errors import DomainError, NotFound
from shequ.servicedesk import certificates
from shequ.servicedesk.models import CertificateType


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {raw!r}") from exc


class Command(BaseCommand):
    help = (
        "Print certificates to PDF files, one per certificate named by serial, into a folder "
        "or a .zip. Runs as --as USERNAME: only the certificates that user may print, audited "
        "in their name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="as_user", required=True, help="username of the printer")
        parser.add_argument("--area", help="area code: its certificates and those below it")
        parser.add_argument("--type", help="certificate type code (e.g. juzhu)")
        parser.add_argument("--from", dest="issued_from", help="issued on or after (YYYY-MM-DD)")
        parser.add_argument("--to", dest="issued_to", help="issued on or before (YYYY-MM-DD)")
        parser.add_argument(
            "--serial", action="append", default=[], help="this serial only (may be repeated)"
        )
        parser.add_argument(
            "--out", required=True, help="a folder, or a file ending in .zip, to write"
        )
        parser.add_argument(
            "--workers", type=int, default=None, help="processes that render (default: CPUs)"
        )
        parser.add_argument(
            "--base-url", default=None, help="address printed in the QR codes (default: PUBLIC_URL)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["as_user"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"unknown or inactive user {options['as_user']!r}")
        area = None
        if options["area"]:
            area = Area.objects.filter(code=options["area"]).first()
            if area is None:
                raise CommandError(f"unknown area code {options['area']!r}")
        kind = None
        if options["type"]:
            kind = CertificateType.objects.filter(code=options["type"]).first()
            if kind is None:
                raise CommandError(f"unknown certificate type {options['type']!r}")
        serials: list[str] = [s.strip() for s in options["serial"] if s.strip()]
        if area is None and not serials:
            raise CommandError("give --area CODE or --serial SERIAL")
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        out = Path(options["out"])
        as_zip = out.suffix.lower() == ".zip"
        if not out.parent.is_dir():
            raise CommandError(f"no such folder: {out.parent}")

        chosen = list(
            certificates.printable_certificates(
                user,
                area=area,
                type=kind,
                issued_from=_date(options["issued_from"]) if options["issued_from"] else None,
                issued_to=_date(options["issued_to"]) if options["issued_to"] else None,
                serials=serials,
            ).select_related("type", "area")
        )
        missing = sorted(set(serials) - {c.serial for c in chosen})
        if missing:
            raise CommandError(
                f"not printable by {user.get_username()} (unknown, not theirs, revoked or "
                f"outside the filters): {', '.join(missing)}"
            )
        if not chosen:
            self.stdout.write("no certificates to print")
            return

        started = time.perf_counter()
        pdfs = certificates.certificate_print_batch(
            actor=user,
            certificates=chosen,
            base_url=options["base_url"],
            workers=options["workers"],
        )
        try:
            size = _write_zip(out, pdfs) if as_zip else _write_folder(out, pdfs)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        except (NotFound, PermissionDenied) as exc:
            raise CommandError(f"{user.get_username()} may not print these certificates") from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{len(chosen)} certificates printed to {out} ({size // 1024} KB) in {seconds:.1f} s"
        )


def _write_zip(out: Path, pdfs: Any) -> int:
    """One zip, written beside the target and renamed, so a half-written one never appears.
    The PDFs are stored, not deflated again: their streams are compressed already."""
    fd, tmp = tempfile.mkstemp(prefix=".certificates-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for certificate, pdf in pdfs:
                archive.writestr(f"{certificate.serial}.pdf", pdf)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out.stat().st_size


def _write_folder(out: Path, pdfs: Any) -> int:
    """One file per certificate, each written under a temporary name and renamed."""
    out.mkdir(exist_ok=True)
    size = 0
    for certificate, pdf in pdfs:
        target = out / f"{certificate.serial}.pdf"
        part = target.with_name(target.name + ".part")
        part.write_bytes(pdf)
        os.replace(part, target)
        size += len(pdf)
    return size
