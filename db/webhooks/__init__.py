"""Webhooks in the database: endpoints, the feed position the dispatcher keeps, and the
delivery queue (migration 0040)."""
