"""`shequ eligibility-run [--rule CODE …] [--install-defaults]`: run the eligibility rules."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from shequ.core import audit
from shequ.servicedesk.eligibility import eligibility_run
from shequ.servicedesk.eligibility_defaults import install_rules
from shequ.servicedesk.models import EligibilityRule, ServiceItem


class Command(BaseCommand):
    help = (
        "Run the eligibility rules over the register: residents entitled but not receiving "
        "become outreach tasks for their grid worker, who gets one notice per rule; residents "
        "with an account get a notice in their inbox."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rule",
            action="append",
            default=[],
            metavar="CODE",
            help="run only this rule (may be repeated; an inactive rule is skipped)",
        )
        parser.add_argument(
            "--install-defaults",
            action="store_true",
            help="first create the default rules that are missing (edited ones are kept)",
        )
        parser.add_argument(
            "--quiet-notices",
            action="store_true",
            help="do not echo each notice to the log channel (they are in the inboxes)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["quiet_notices"]:
            logging.getLogger("shequ.notices").setLevel(logging.WARNING)
        if options["install_defaults"]:
            with transaction.atomic():
                created = install_rules(EligibilityRule, ServiceItem)
                audit.record(
                    actor="eligibility-run",
                    action="eligibility_rule.defaults_installed",
                    object_type="servicedesk.eligibilityrule",
                    changes={"created": created},
                )
            self.stdout.write(f"default rules: {created} created")
        codes: list[str] = options["rule"]
        if codes:
            known = set(
                EligibilityRule.objects.filter(code__in=codes).values_list("code", flat=True)
            )
            unknown = sorted(set(codes) - known)
            if unknown:
                raise CommandError(f"no such rule: {', '.join(unknown)}")
        summary = eligibility_run(rules=codes or None)
        for line in summary.lines():
            self.stdout.write(line)
        if any(r.error for r in summary.rules):
            raise CommandError("some rules could not run (see above)")
