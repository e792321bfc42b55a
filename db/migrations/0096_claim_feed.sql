-- The change feed's entries for claims, rendered for the whole statement at once.
--
-- claim_state (0004, 0080) reads the claim's source with a subquery, so PostgreSQL runs
-- it as a function call per claim instead of inlining it: 16 s for the 113,000 claims
-- of one import of the shared investments file, in the import and in its COPY floor
-- alike. Rendered from a join of the statement's claims with their sources, the same
-- entries take 2.5 s. claim_state_of(claim, source) is the one place a claim's state is
-- written; claim_state(claim) reads its source and calls it, as before.

create function claim_state_of(c claims, s sources) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('clm', c.id), 'round_id', public_id('rnd', c.round_id),
        'acquisition_id', public_id('acq', c.acquisition_id),
        'participation_id', public_id('par', c.participation_id),
        'source', case when s.id is not null then jsonb_build_object(
                       'id', public_id('src', s.id), 'url', s.url, 'publisher', s.publisher,
                       'title', s.title, 'published_at', s.published_at, 'kind', s.kind,
                       'language', s.language) end,
        'quote', c.quote, 'attribution', c.attribution,
        'status', c.status, 'stage', c.stage, 'amount', money_json(c.amount),
        'pre_money_valuation', money_json(c.pre_money_valuation),
        'post_money_valuation', money_json(c.post_money_valuation),
        'expected_close_on', c.expected_close_on,
        'expected_close_precision', c.expected_close_precision,
        'is_lead', c.is_lead, 'recorded_at', c.recorded_at,
        'closed_on', c.closed_on, 'terms', c.terms,
        'percent_acquired', c.percent_acquired::text)
$$;

create or replace function claim_state(c claims) returns jsonb
language sql stable as $$
    select claim_state_of(c, s) from (select) one left join sources s on s.id = c.source_id
$$;

-- record_changes (0004) for claims, with each claim's source joined once per statement.
create function record_claim_changes() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into changes (entity, entity_id, operation, state)
        select 'claim', n.id, 'create', claim_state_of(n, s)
        from new_rows n left join sources s on s.id = n.source_id
        order by n.id;
    elsif tg_op = 'UPDATE' then
        insert into changes (entity, entity_id, operation, state)
        select 'claim', n.id, 'update', claim_state_of(n, s)
        from new_rows n
        join old_rows o on o.id = n.id
        left join sources s on s.id = n.source_id
        where n is distinct from o
        order by n.id;
    else
        insert into changes (entity, entity_id, operation, state)
        select 'claim', o.id, 'delete', null from old_rows o order by o.id;
    end if;
    return null;
end
$$;

drop trigger claims_created on claims;
drop trigger claims_updated on claims;
drop trigger claims_deleted on claims;
create trigger claims_created after insert on claims
    referencing new table as new_rows
    for each statement execute function record_claim_changes();
create trigger claims_updated after update on claims
    referencing new table as new_rows old table as old_rows
    for each statement execute function record_claim_changes();
create trigger claims_deleted after delete on claims
    referencing old table as old_rows
    for each statement execute function record_claim_changes();
