"""Django-free helpers: environment parsing, TOTP, geometry."""
