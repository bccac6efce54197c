"""Segments as rules (``segments.yaml``), their membership history, and the touch model and
tier each account gets from its segment or a manual override."""
