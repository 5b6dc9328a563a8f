"""`shequ demo [--seed N] [--residents N] [--reset]`: load the deterministic demo city."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.areas.models import Area
from shequ.demo import cases, city, people, servicedesk, spreadsheets
from shequ.registry.tags import tags_ensure_defaults

MAX_RESIDENTS = 1_000_000


class Command(BaseCommand):
    help = (
        "Load the demo city (one district, 2 streets, 6 communities, ~40 grids, demo accounts), "
        "its residents and sample department spreadsheets under var/demo-imports/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--residents",
            type=int,
            default=20_000,
            help=f"residents to generate (default 20000, at most {MAX_RESIDENTS})",
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=240,
            help="cases to generate over the last four months (default 240, at most 100000)",
        )
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
        residents = options["residents"]
        if not 0 <= residents <= MAX_RESIDENTS:
            raise CommandError(f"--residents must be between 0 and {MAX_RESIDENTS}")
        if city.exists():
            if not options["reset"]:
                self.stdout.write("demo city already loaded (use --reset to rebuild it)")
                return
            district = Area.objects.get(code=city.DISTRICT_CODE)
            servicedesk.remove(district)  # its rows protect the residents and areas
            city.reset()
        seed = options["seed"]
        created = tags_ensure_defaults(actor=city.ACTOR)
        summary = city.build(seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo city loaded: {summary.areas} areas, {summary.users} accounts "
                f"(password {city.PASSWORD})"
            )
        )
        population = people.populate(seed=seed, residents=residents)
        self.stdout.write(
            self.style.SUCCESS(
                f"residents loaded: {population.residents} people in {population.households} "
                f"households, {population.dwellings} dwellings in {population.buildings} "
                f"buildings, {population.tags} special-group tags ({created} tag types created) "
                f"in {population.seconds:.0f} s"
            )
        )
        if not 0 <= options["cases"] <= 100_000:
            raise CommandError("--cases must be between 0 and 100000")
        # Hundreds of demo notices would flood the console; they are in the inboxes.
        logging.getLogger("shequ.notices").setLevel(logging.WARNING)
        demo_cases = cases.load(seed=seed, count=options["cases"])
        self.stdout.write(
            self.style.SUCCESS(
                f"cases loaded: {demo_cases.cases} cases, {demo_cases.units} handling units; "
                f"Open311 demo key {cases.OPEN311_KEY}"
            )
        )
        desk = servicedesk.load(seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"service desk loaded: {desk.applications} applications, "
                f"{desk.certificates} certificates ({desk.revoked} revoked), "
                f"{desk.rules} eligibility rules finding {desk.entitled} entitled residents"
            )
        )
        directory = Path(settings.VAR_DIR) / "demo-imports"
        paths = spreadsheets.write_samples(seed=seed, directory=directory)
        self.stdout.write(
            self.style.SUCCESS(f"sample department files in {directory}: ")
            + ", ".join(p.name for p in paths)
        )
