"""`shequ open311-client NAME [--key KEY] [--revoke]`: let an outside system post Open311
requests, or stop it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.cases.open311.services import open311_client_create, open311_client_revoke
from shequ.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create an Open311 client and print its API key once (only a hash is stored); for an "
        "existing client, replace its key. --revoke refuses its key from now on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the client's name, e.g. the system it belongs to")
        parser.add_argument(
            "--key", help="use this key instead of a random one (at least 16 characters)"
        )
        parser.add_argument("--revoke", action="store_true", help="deactivate the client")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = "shequ open311-client"
        try:
            if options["revoke"]:
                client = open311_client_revoke(name=options["name"], actor=actor)
                self.stdout.write(self.style.SUCCESS(f"Open311 client {client.name} revoked."))
                return
            client, key = open311_client_create(
                name=options["name"], key=options["key"], actor=actor
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Open311 client {client.name} is ready."))
        self.stdout.write("Its API key, shown only this once (store it now):")
        self.stdout.write(key)
