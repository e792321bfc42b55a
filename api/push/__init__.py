"""Pushing changes out: webhooks and GraphQL subscriptions."""
