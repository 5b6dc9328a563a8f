"""`shequ rotate-field-key --new-key-file FILE`: re-seal every encrypted value with a new key.

Everything happens in one transaction: a crash leaves all values under the old key. Afterwards
set SHEQU_FIELD_KEY (or its _FILE) to the new key and restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from shequ.core import audit
from shequ.core.crypto import EncryptedTextField, Sealed, encrypt, key_id
from shequ.registry import pii
from shequ.registry.models import Organisation, Person


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields and recompute blind indexes under a new field key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-key-file", required=True, help="file holding the new key")
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            new = Path(options["new_key_file"]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CommandError(f"cannot read the new key: {exc.strerror}") from exc
        if len(new) < 32 or len(set(new)) < 8:
            raise CommandError("the new key must be at least 32 varied characters")
        if key_id(new) == key_id(settings.FIELD_KEY):
            raise CommandError("the new key is the current key")
        total = 0
        with transaction.atomic():
            for model in apps.get_models():
                fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
                if fields:
                    total += self._reseal(model, fields, new, options["batch"])
            audit.record(
                actor="rotate-field-key",
                action="crypto.field_key_rotated",
                object_type="crypto",
                changes={"from": key_id(settings.FIELD_KEY), "to": key_id(new), "rows": total},
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{total} rows re-sealed under key {key_id(new)}; now set SHEQU_FIELD_KEY to the "
                "new key and restart"
            )
        )

    def _reseal(self, model: Any, fields: list[str], new: str, size: int) -> int:
        count = 0
        blind = model in (Person, Organisation)
        for obj in model.objects.order_by("pk").iterator(chunk_size=size):
            values: dict[str, Any] = {}
            for name in fields:
                plain = getattr(obj, name)
                values[name] = Sealed(encrypt(plain, master=new)) if plain else plain
            if blind and obj.phone:
                values["phone_blind"] = pii.phone_indexes(obj.phone, master=new)[0]
                if model is Person:
                    values["phone_last4_blind"] = pii.phone_indexes(obj.phone, master=new)[1]
            if model is Person and obj.id_number:
                values["id_blind"], values["id_last4_blind"] = pii.id_indexes(
                    obj.id_number, master=new
                )
            model.objects.filter(pk=obj.pk).update(**values)
            count += 1
        return count
