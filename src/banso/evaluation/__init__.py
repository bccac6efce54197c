"""Evaluation of CSMs: evaluation.yaml weights and targets per team × job title, the book
scorecard of a period from the real KPIs, and the managers' qualitative scores."""
