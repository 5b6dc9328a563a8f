"""Upload → preview → commit in the browser's terms, and the review queues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shequ.core import testing
from shequ.registry.imports import source_for
from shequ.registry.models import Conflict, ImportBatch, MatchReview, Person
from shequ.registry.tests.conftest import Residents
from shequ.registry.tests.test_imports import roster


def _upload(client: Any, path: Path, capture: Any) -> ImportBatch:
    with capture(execute=True), path.open("rb") as fh:
        response = client.post(
            reverse("registry:imports"),
            {
                "file": SimpleUploadedFile(path.name, fh.read()),
                "source": "民政局",
                "area": testing.area("C1").pk,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportBatch.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def _file(tmp_path: Path, residents: Residents) -> Path:
    source = source_for("民政局")
    source.trust = 4
    source.save()
    return roster(
        tmp_path / "花名册.xlsx",
        [
            [1, "李四", "男", residents.li.id_number, "", "13911112222", ""],
            [2, "张三", "男", "", "1940-07-07", "", ""],
            [3, "新人", "女", "", "1950-05-05", "", ""],
            [4, "错号", "男", "123", "", "", ""],
        ],
    )


def test_a_worker_uploads_previews_and_commits(
    login: Any, tmp_path: Path, residents: Residents, django_capture_on_commit_callbacks: Any
) -> None:
    client = login("community_worker")
    batch = _upload(client, _file(tmp_path, residents), django_capture_on_commit_callbacks)
    assert batch.status == "previewed"
    assert batch.stats["rows"] == 4 and batch.stats["invalid"] == 1
    page = client.get(reverse("registry:import", args=[batch.pk])).content.decode()
    assert "map:姓名" in page  # the mapping can be changed
    rejected = client.get(reverse("registry:import_rejected", args=[batch.pk]))
    assert rejected.status_code == 200 and rejected.content[:2] == b"PK"
    before = Person.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:import_action", args=[batch.pk]), {"action": "commit"})
    batch.refresh_from_db()
    assert batch.status == "committed"
    assert Person.objects.count() == before + 1  # 新人
    # Pressing commit again changes nothing.
    again = client.post(reverse("registry:import_action", args=[batch.pk]), {"action": "commit"})
    assert again.status_code == 302
    assert Person.objects.count() == before + 1


def test_an_htmx_poll_gets_only_the_status_part(
    login: Any, tmp_path: Path, residents: Residents, django_capture_on_commit_callbacks: Any
) -> None:
    client = login("community_worker")
    batch = _upload(client, _file(tmp_path, residents), django_capture_on_commit_callbacks)
    part = client.get(reverse("registry:import", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert b"<html" not in part.content and b"import-status" in part.content


def test_remapping_a_column_checks_the_file_again(
    login: Any, tmp_path: Path, residents: Residents, django_capture_on_commit_callbacks: Any
) -> None:
    client = login("community_worker")
    batch = _upload(client, _file(tmp_path, residents), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("registry:import_action", args=[batch.pk]),
            {"action": "remap", "map:公民身份号码": "", "map:姓名": "name"},
        )
    batch.refresh_from_db()
    assert batch.status == "previewed"
    assert "id_number" not in batch.stats["columns"]
    assert batch.stats["invalid"] == 0  # the bad ID is no longer read


def test_another_community_cannot_see_the_import(
    login: Any, tmp_path: Path, residents: Residents, django_capture_on_commit_callbacks: Any
) -> None:
    batch = _upload(
        login("community_worker"), _file(tmp_path, residents), django_capture_on_commit_callbacks
    )
    client = login("grid_worker_b")  # may not import at all
    assert client.get(reverse("registry:import", args=[batch.pk])).status_code == 403
    other = testing.persona("district_admin")
    client.force_login(other)
    assert client.get(reverse("registry:import", args=[batch.pk])).status_code == 200


def test_conflicts_and_matches_are_settled_in_the_queues(
    login: Any, tmp_path: Path, residents: Residents, django_capture_on_commit_callbacks: Any
) -> None:
    client = login("community_worker")
    batch = _upload(client, _file(tmp_path, residents), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:import_action", args=[batch.pk]), {"action": "commit"})
    conflict = Conflict.objects.get(person=residents.li)
    review = MatchReview.objects.get()
    page = client.get(reverse("registry:queues")).content.decode()
    assert "139****2222" in page and "13911112222" not in page
    client.post(
        reverse("registry:queue_decide", args=["conflict", conflict.pk]), {"decision": "replace"}
    )
    assert Person.objects.get(pk=residents.li.pk).phone == "13911112222"
    count = Person.objects.count()
    client.post(
        reverse("registry:queue_decide", args=["review", review.pk]), {"decision": "different"}
    )
    assert Person.objects.count() == count + 1
    # A second decision on the same item is refused.
    client.post(
        reverse("registry:queue_decide", args=["conflict", conflict.pk]), {"decision": "keep"}
    )
    conflict.refresh_from_db()
    assert conflict.decision == "replace"


def test_the_api_checks_and_commits_an_uploaded_file(
    api: Any, tmp_path: Path, residents: Residents
) -> None:
    client = api("community_worker")
    path = _file(tmp_path, residents)
    with path.open("rb") as fh:
        checked = client.post(
            "/api/v1/imports/",
            {"file": fh, "source": "民政局", "area": testing.CODES["C1"]},
            format="multipart",
        )
    assert checked.status_code == 200, checked.json()
    assert checked.json()["rows"] == 4 and checked.json()["committed"] is False
    with path.open("rb") as fh:
        committed = client.post(
            "/api/v1/imports/",
            {"file": fh, "source": "民政局", "area": testing.CODES["C1"], "commit": "true"},
            format="multipart",
        )
    assert committed.status_code == 201 and committed.json()["new"] == 1
    listed = client.get("/api/v1/imports/").json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == "committed"
    assert api("grid_worker_a").get("/api/v1/imports/").status_code == 403


def test_an_import_whose_worker_died_is_reported_failed_after_half_an_hour(
    login: Any, world: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from shequ.registry import queues

    batch = ImportBatch.objects.create(
        source=source_for("民政局"),
        area=testing.area("C1"),
        file_name="x.xlsx",
        sha256="1" * 64,
        status="running",
    )
    assert queues.import_expire_stale() == 0  # still fresh
    later = timezone.now() + dt.timedelta(minutes=31)
    assert queues.import_expire_stale(now=later) == 1
    assert queues.import_expire_stale(now=later) == 0  # recorded once
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.message
    page = login("community_worker").get(reverse("registry:import", args=[batch.pk]))
    assert b"every 1s" not in page.content  # the page stops polling
