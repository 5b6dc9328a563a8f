"""A deterministic synthetic city for `shequ demo`."""
