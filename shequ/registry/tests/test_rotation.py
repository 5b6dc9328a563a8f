"""Rotating the field key re-seals everything; lookups work under the new key."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from shequ.core import testing
from shequ.core.crypto import key_id
from shequ.registry import selectors
from shequ.registry.models import Person
from shequ.registry.tests.conftest import Residents

NEW_KEY = "a-brand-new-field-key-for-rotation-tests-0123456789"


def test_rotation_reseals_values_and_blind_indexes(tmp_path: Path, residents: Residents) -> None:
    key_file = tmp_path / "new.key"
    key_file.write_text(NEW_KEY)
    call_command("rotate_field_key", "--new-key-file", str(key_file))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_person WHERE id = %s", [residents.zhang.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith(f"v1:{key_id(NEW_KEY)}:")
    with override_settings(FIELD_KEY=NEW_KEY):
        person = Person.objects.get(pk=residents.zhang.pk)
        assert person.id_number == residents.zhang.id_number
        assert person.phone == "13812345678"
        hits = selectors.person_list(
            visible_to=testing.persona("community_worker"), q=residents.zhang.id_number
        )
        assert [p.pk for p in hits] == [residents.zhang.pk]


def test_rotation_refuses_a_weak_or_identical_key(tmp_path: Path, residents: Residents) -> None:
    weak = tmp_path / "weak.key"
    weak.write_text("short")
    with pytest.raises(CommandError):
        call_command("rotate_field_key", "--new-key-file", str(weak))
    with pytest.raises(CommandError):
        call_command("rotate_field_key", "--new-key-file", str(tmp_path / "missing.key"))
