-- Indexes on the exact sort keys of round lists (db/rounds.py SORT_KEYS), so a page
-- anywhere in a list reads its rows in index order instead of sorting the whole list.
-- The null sentinels differ by direction (nulls sort last either way), hence two each;
-- each index serves its direction read backward or forward with the id tie-break.
create index rounds_announced_desc_key on rounds (coalesce(announced_on, '-infinity'::date), id);
create index rounds_announced_asc_key on rounds (coalesce(announced_on, 'infinity'::date), id);
create index rounds_amount_desc_key on rounds (coalesce(amount_usd, '-Infinity'::numeric), id);
create index rounds_amount_asc_key on rounds (coalesce(amount_usd, 'Infinity'::numeric), id);
-- The same for one company's rounds, the default order of Organization.rounds.
create index rounds_company_announced_key
    on rounds (company_id, coalesce(announced_on, '-infinity'::date), id);
-- Participations of a round in the order every face shows them.
create index participations_round_order
    on participations (round_id, is_lead desc, ((amount).usd) desc nulls last, id);
