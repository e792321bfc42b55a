-- A replayed write that created something answers, like the first time, with where it
-- is: the Location header is kept beside the stored answer (null when nothing was created).
alter table idempotent_requests add column location text;
