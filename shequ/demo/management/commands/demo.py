"""`shequ demo [--seed N] [--reset]`: load the deterministic demo city."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.demo import city


class Command(BaseCommand):
    help = "Load the demo city (one district, 2 streets, 6 communities, ~40 grids, demo accounts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--reset", action="store_true", help="delete existing demo data and load it again"
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load even though HTTPS settings say this is production",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.HTTPS and not options["allow_production"]:
            # The demo creates a superuser with a published password.
            raise CommandError(
                "refusing to load the demo city on a production configuration (SHEQU_HTTPS on); "
                "pass --allow-production if this really is a demo server"
            )
        if city.exists():
            if not options["reset"]:
                self.stdout.write("demo city already loaded (use --reset to rebuild it)")
                return
            city.reset()
        summary = city.build(seed=options["seed"])
        self.stdout.write(
            self.style.SUCCESS(
                f"demo city loaded: {summary.areas} areas, {summary.users} accounts "
                f"(password {city.PASSWORD})"
            )
        )
