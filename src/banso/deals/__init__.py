"""Sales pipeline deals from the CRM (records that the import writes and pages read)."""
