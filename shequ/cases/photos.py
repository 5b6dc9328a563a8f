"""Photos: accept only real images under the size limit, and store a re-encoded JPEG (which
drops EXIF, so a phone's GPS trail and serial numbers never reach the server's disk)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shequ.cases.errors import CaseError
from shequ.core.errors import DomainError

MAX_SIDE = 2048
MAX_PHOTOS = 9
# Decompression bombs: a tiny file that expands to gigabytes of pixels is refused.
Image.MAX_IMAGE_PIXELS = 40_000_000


@dataclass
class CleanPhoto:
    content: ContentFile
    width: int
    height: int


def clean_photo(upload: Any) -> CleanPhoto:
    name = getattr(upload, "name", "") or "photo"
    limit = settings.CASE_PHOTO_MAX_MB * 1024 * 1024
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise DomainError(
            CaseError.PHOTO_TOO_LARGE,
            _("The photo %(name)s is larger than %(mb)s MB.")
            % {"name": name, "mb": settings.CASE_PHOTO_MAX_MB},
            {"field": "photos"},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as opened:
            img: Image.Image = (ImageOps.exif_transpose(opened) or opened).convert("RGB")
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=85, optimize=True)
            width, height = img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DomainError(
            CaseError.BAD_PHOTO,
            _("The file %(name)s is not a photo (JPEG, PNG, WebP or HEIF exported as JPEG).")
            % {"name": name},
            {"field": "photos"},
        ) from exc
    return CleanPhoto(ContentFile(out.getvalue(), name="photo.jpg"), width, height)


def clean_photos(uploads: list[Any]) -> list[CleanPhoto]:
    if len(uploads) > MAX_PHOTOS:
        raise DomainError(
            CaseError.BAD_PHOTO,
            _("At most %(n)s photos may be attached at once.") % {"n": MAX_PHOTOS},
            {"field": "photos"},
        )
    return [clean_photo(u) for u in uploads]
