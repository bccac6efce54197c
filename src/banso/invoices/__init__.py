"""Invoices of the billing system (records that the import writes and pages read)."""
