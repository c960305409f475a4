"""Webhooks: API, signing, and delivery to real receivers."""
