"""`shequ export-people`: write a department roster from the register as the named user."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.accounts.models import User
from shequ.areas.models import Area
from shequ.core.errors import DomainError, NotFound
from shequ.registry.exports import people_export, template_names
from shequ.registry.models import Building


class Command(BaseCommand):
    help = (
        "Export a department roster (花名册) as xlsx. Runs as --as USERNAME because exports are "
        "scoped to what that user may see and audited in their name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        names = "、".join(template_names())
        parser.add_argument("--template", required=True, help=f"one of: {names}")
        parser.add_argument("--area", help="area code (required unless --building is given)")
        parser.add_argument("--building", help="building id: only that building's people")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument(
            "--as", dest="as_user", required=True, help="username of the exporting user"
        )
        parser.add_argument(
            "--unmasked", action="store_true", help="full ID and phone numbers (audited)"
        )
        parser.add_argument("--reason", default="", help="why the export must be unmasked")

    def handle(self, *args: Any, **options: Any) -> None:
        template: str = options["template"]
        # Checked before anything else so a typo gets the list of valid names straight away.
        if template not in template_names():
            raise CommandError(
                f"unknown template {template!r}; valid templates: {', '.join(template_names())}"
            )
        user = User.objects.filter(username=options["as_user"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"unknown or inactive user {options['as_user']!r}")
        area = None
        if options["area"]:
            area = Area.objects.filter(code=options["area"]).first()
            if area is None:
                raise CommandError(f"unknown area code {options['area']!r}")
        building = None
        if options["building"]:
            raw = str(options["building"])
            building = (
                Building.objects.select_related("area").filter(pk=int(raw)).first()
                if raw.isascii() and raw.isdigit()
                else None
            )
            if building is None:
                raise CommandError(f"unknown building id {raw!r}")
        if area is None and building is None:
            raise CommandError("give --area CODE or --building ID")

        try:
            result = people_export(
                actor=user,
                template=template,
                area=area,
                building=building,
                unmasked=options["unmasked"],
                reason=options["reason"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        except NotFound as exc:
            raise CommandError(f"{user.get_username()} may not export that place") from exc

        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"no such folder: {out.parent}")
        # Write beside the target and rename, so a half-written roster never appears.
        fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".xlsx", dir=out.parent or ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(result.content)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.stdout.write(f"{result.rows} rows written to {out}")
