"""Open311 GeoReport v2 at /open311/v2/: our case categories as services, cases as requests.

What the public sees, and why (GET answers need no key and reveal no personal data):

- Only cases of categories offered to the public (`Category.public`) are listed; a case of any
  other category does not exist for Open311 (404).
- `status` is `open` while the case is someone's work (reported, accepted, dispatched, being
  handled, on the long-term register) and `closed` once the handling unit has answered or the
  loop has finished (resolved, verified, rated, closed, not accepted, merged). A redo or a
  reopening makes it `open` again.
- `status_notes` is the unit's public answer, the reason a case was not accepted, the case it
  was merged into, or else the name of the current step. Staff write these for the reporter.
- `description`, `address` and exact `lat`/`long` are what the reporter wrote and where they
  stood. They are published only for cases reported through Open311, whose clients publish
  them anyway. For cases reported on our own pages, at the desk or on the hotline the text may
  name people and the point may be someone's door: `description` is null, `address` names the
  grid and the areas above it (largest first, as Chinese addresses are written), and
  `lat`/`long` are rounded to 0.001° (about 100 m).
- Reporter names, phone numbers and e-mail addresses never appear; `media_url` is always null.

POST answers at once with the case number as `service_request_id` (no tokens).
"""
