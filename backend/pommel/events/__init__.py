"""The event log (append, read) and its fan-out to subscribers and webhooks."""
