-- How many investments each investor (organization or person) has, kept by triggers on
-- investment_order in the transaction that writes it: an investor's `investments`
-- totalCount reads one row instead of counting the investor's index entries, which at
-- a million rounds is 18,000 for the busiest and made its portfolio page 1.6 times
-- slower than at 30k (issue 19). The resolvers, the compiler's reference, still count
-- the rows, so the differential test checks these counts against them.
create table investment_counts (
    investor_id uuid primary key,
    n bigint not null
);

-- +1 for each participation in, -1 for each one out, by investor; an update that keeps
-- the investor (a round dated again) moves nothing. Counter rows are locked in investor
-- order, so that two writers cannot deadlock here; writers of one investor's
-- investments wait for each other's commit, as they already do on its search row's
-- prominence (0050).
create function investment_counts_changed() returns trigger
language plpgsql as $$
declare
    changes text := case tg_op
        when 'INSERT' then 'select investor_id, 1 from new_rows'
        when 'DELETE' then 'select investor_id, -1 from old_rows'
        else 'select investor_id, -1 from old_rows union all select investor_id, 1 from new_rows'
    end;
begin
    execute format($sql$
        insert into investment_counts (investor_id, n)
        select investor_id, sum(delta) from (%s) d (investor_id, delta)
        group by investor_id
        having sum(delta) <> 0
        order by investor_id
        on conflict (investor_id) do update set n = investment_counts.n + excluded.n
    $sql$, changes);
    return null;
end
$$;
create trigger investment_order_counted_created after insert on investment_order
    referencing new table as new_rows
    for each statement execute function investment_counts_changed();
create trigger investment_order_counted_updated after update on investment_order
    referencing old table as old_rows new table as new_rows
    for each statement execute function investment_counts_changed();
create trigger investment_order_counted_deleted after delete on investment_order
    referencing old table as old_rows
    for each statement execute function investment_counts_changed();

-- The counts again from investment_order, after it was rebuilt: a bulk load that bypassed
-- the triggers calls investment_order_rebuild() and gets both.
create function investment_counts_rebuild() returns void
language sql as $$
    delete from investment_counts;
    insert into investment_counts (investor_id, n)
    select investor_id, count(*) from investment_order group by investor_id;
$$;
create or replace function investment_order_rebuild() returns void
language sql as $$
    delete from investment_order;
    insert into investment_order (participation_id, investor_id, round_announced_key)
    select p.id, coalesce(p.investor_organization_id, p.investor_person_id),
           coalesce(r.announced_on, '-infinity'::date)
    from participations p join rounds r on r.id = p.round_id;
    select investment_counts_rebuild();
$$;

-- Filled after the triggers exist: creating them locked out writers of investment_order
-- until this migration commits, so no investment is missed or counted twice.
select investment_counts_rebuild();
