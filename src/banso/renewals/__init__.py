"""Renewals: the calendar of renewals due, the pipeline of renewals with the CSM's forecast."""
