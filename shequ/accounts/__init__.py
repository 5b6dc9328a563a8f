"""Users, roles, memberships (user × area × role) and the scoping every query goes through."""
