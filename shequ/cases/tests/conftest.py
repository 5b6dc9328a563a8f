"""Cases fixtures: units and routing rules in the personas world."""

from __future__ import annotations

from typing import Any

import pytest

from shequ.cases.testing import CaseWorld, build_case_world
from shequ.core import testing


@pytest.fixture
def cw(world: Any) -> CaseWorld:
    users = {p.username: testing.persona(p.username) for p in testing.PERSONAS}
    areas = {k: testing.area(k) for k in ("D", "S1", "C1")}
    return build_case_world(users=users, areas=areas)


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
