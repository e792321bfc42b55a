-- A participation's status events by the participation, as the change feed looks up
-- the event that explains a participation's change (db/webhooks/feed.py read_feed):
-- without it, each such change read every status event. Built in the migration's
-- transaction, so writes of status events wait for it (a few seconds per million
-- events); reads go on.
create index status_events_participation on status_events (participation_id, at)
    where participation_id is not null;
