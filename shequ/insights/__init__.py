"""Dashboards (一幅图): the home page per role, later maps and targets per area level."""
