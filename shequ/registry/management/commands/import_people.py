"""`shequ import-people FILE --source NAME [--sheet S] [--area CODE] [--commit] [--json]`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.accounts.models import User
from shequ.areas.access import access_area
from shequ.core.errors import DomainError, NotFound
from shequ.registry.imports import import_people, without_cycle_collector


class Command(BaseCommand):
    help = "Import a department's list of people into the register (dry run unless --commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--source", required=True, help="the department, e.g. 民政局")
        parser.add_argument("--sheet", default=None)
        parser.add_argument("--area", required=True, help="community, grid or estate code")
        parser.add_argument(
            "--as",
            dest="username",
            default="admin",
            help="the account the import is done as (scoping and audit)",
        )
        parser.add_argument("--commit", action="store_true", help="write (default: dry run)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"unknown or inactive user: {options['username']}")
        try:
            area = access_area(user, options["area"])
            # A process of its own: the import may run without the cycle collector.
            report = without_cycle_collector(import_people)(
                actor=user,
                path=options["file"],
                source_name=options["source"],
                area=area,
                sheet=options["sheet"],
                commit=options["commit"],
            )
        except NotFound as exc:
            raise CommandError(f"area {options['area']}: {exc.message}") from exc
        except DomainError as exc:
            if options["json"]:
                self.stdout.write(
                    json.dumps({"code": exc.code, "message": exc.message}, ensure_ascii=False)
                )
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, default=str))
            return
        self.stdout.write(
            f"rows {report.rows}: new {report.new}, matched {report.matched}, "
            f"updated {report.updated}, conflicts {report.conflicts}, review {report.review}, "
            f"invalid {report.invalid}, duplicates in file {report.duplicates_in_file}, "
            f"warnings {report.warnings}"
            + ("" if report.committed else "  (dry run: nothing written; add --commit)")
        )
        for error in report.errors[:20]:
            self.stdout.write(f"  row {error['row']} {error['field']}: {error['message']}")
