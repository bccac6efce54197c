"""Voice of the customer: survey definitions, invitations, the public answer page, reports."""
