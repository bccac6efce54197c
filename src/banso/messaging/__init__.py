"""Outgoing messages: the outbox, delivery by SMTP/HTTP, suppressions and unsubscribe links."""
