"""shequ — community service and governance platform."""
