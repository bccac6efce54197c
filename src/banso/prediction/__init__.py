"""Churn prediction: point-in-time features, the model, honest backtests, reasons, drift."""
