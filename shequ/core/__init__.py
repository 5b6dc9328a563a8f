"""Cross-cutting pieces: base models, errors, audit log, request context, API helpers."""
