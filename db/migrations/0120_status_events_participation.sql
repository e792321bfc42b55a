-- The change feed finds the status event that explains a participation's change by its
-- participation (db/webhooks/feed.py read_feed): without an index, every status event
-- was read for each change, 38 s a batch of 500 changes after a CrunchBase import, in
-- every `serve` process's webhook dispatcher.
create index status_events_participation on status_events (participation_id, at)
    where participation_id is not null;
