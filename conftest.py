"""Session-wide fixtures: the personas world is built once, each test rolls back its changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from shequ.core import testing


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        testing.build_world()
    yield


@pytest.fixture
def committed_db(django_db_blocker: Any) -> Iterator[None]:
    """For tests that need real commits (several connections at once): request it *before*
    `transactional_db`; the flush at the end empties the database, so the personas world is
    built again afterwards for the tests that follow."""
    yield
    with django_db_blocker.unblock():
        _restore_migrated_data()
        testing.build_world()


def _restore_migrated_data() -> None:
    """The rows data migrations install (a flush deletes them with everything else)."""
    from django.apps import apps

    from shequ.cases.defaults import install_categories

    install_categories(apps.get_model("cases", "Category"))
    if apps.is_installed("shequ.servicedesk"):
        from shequ.servicedesk.certificate_defaults import install_certificate_types
        from shequ.servicedesk.defaults import install_catalogue
        from shequ.servicedesk.eligibility_defaults import install_rules

        install_catalogue(apps.get_model("servicedesk", "ServiceItem"))
        install_certificate_types(apps.get_model("servicedesk", "CertificateType"))
        install_rules(
            apps.get_model("servicedesk", "EligibilityRule"),
            apps.get_model("servicedesk", "ServiceItem"),
        )


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttles count in the cache; every test starts and ends with an empty one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db: Any) -> Any:
    return testing


@pytest.fixture
def login(client: Client, db: Any) -> Any:
    """`login("community_worker")` signs the test client in as that persona."""

    def sign_in(username: str) -> Client:
        client.force_login(testing.persona(username))
        return client

    return sign_in


@pytest.fixture
def api(db: Any) -> Any:
    """`api("community_worker")` returns an API client authenticated as that persona."""

    def make(username: str | None = None) -> APIClient:
        c = APIClient()
        if username:
            c.force_authenticate(testing.persona(username))
        return c

    return make
