"""Test settings: the real settings with speed knobs only."""

import os
import tempfile

os.environ.setdefault("SHEQU_SECRET_KEY", "test-secret-key-for-the-test-suite-only-0123456789")
os.environ.setdefault("SHEQU_FIELD_KEY", "dGVzdC1maWVsZC1rZXktZm9yLXRlc3RzLW9ubHktMDE=")
os.environ.setdefault("SHEQU_HTTPS", "0")
# Uploads, exports and demo files written by tests go to a scratch folder, never var/.
os.environ.setdefault("SHEQU_VAR_DIR", tempfile.mkdtemp(prefix="shequ-test-"))

from shequ.settings import *  # noqa: F403
from shequ.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # type: ignore[assignment]  # tests serve static files through the finders, never a collected folder
WHITENOISE_USE_FINDERS = True
TASKS_IMMEDIATE = True  # background work runs inline so tests see its result
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: tests of concurrent writers need SQLite's real locking
    # (writers queue on the busy timeout), which an in-memory database does not have.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["SHEQU_VAR_DIR"], "test.sqlite3")
    }
