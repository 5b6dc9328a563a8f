"""`shequ audit-verify`: recompute the audit hash chain and report any tampering."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shequ.core import audit


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits non-zero if it has been tampered with."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problems = audit.verify()
        if problems:
            for problem in problems[:50]:
                self.stderr.write(f"#{problem.seq}: {problem.reason}")
            raise CommandError(
                f"audit chain BROKEN: {len(problems)} problem(s) in {checked} entries"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {checked} entries verified"))
