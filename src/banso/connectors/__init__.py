"""Connectors: records pulled from CRM, billing and support services into Banso incrementally."""
