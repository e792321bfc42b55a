-- Organization search (README, "Searching organizations"): index-backed, names and
-- aliases alike, ranked by how a name matches first and by prominence second. It
-- replaces a similarity() computed for every name and alias on each search.
create extension if not exists unaccent;
create extension if not exists fuzzystrmatch;

-- A name as search reads it: lower case, accents off, its words (runs of letters and
-- digits) separated by single spaces. "Abe's Market" -> "abe s market".
create function search_words(value text) returns text
language sql immutable parallel safe strict
return btrim(regexp_replace(
    lower(public.unaccent('public.unaccent'::regdictionary, value)), '[^[:alnum:]]+', ' ', 'g'));

-- The same without spaces, so that "face book", "Face-Book" and "Facebook" are one key.
create function search_key(value text) returns text
language sql immutable parallel safe strict
return replace(search_words(value), ' ', '');

-- How many edits (Levenshtein) turn `typed` (a search_key) into the start of a name
-- from one of its words on (`words` as search_words has them): "facebok" is one edit
-- from "facebook", "sequioa" two from "sequoia capital" (a swap of two letters is two).
-- In PL/pgSQL: as a SQL function it cost 40 us a call, ten times more.
create function search_edits(typed text, words text) returns integer
language plpgsql immutable parallel safe strict
as $$
declare
    word text[] := string_to_array(words, ' ');
    best integer;
    tail text;
begin
    for i in 1 .. coalesce(array_length(word, 1), 0) loop
        tail := array_to_string(word[i:], '');
        for n in length(typed) - 1 .. length(typed) + 1 loop
            best := least(best, levenshtein(typed, left(tail, n)));
        end loop;
    end loop;
    return best;
end
$$;

-- Every name and alias of an organization as search reads it, with the organization's
-- prominence (rounds raised plus investments made), so that a search reads its
-- candidates and ranks them from this table's indexes alone. Kept by the triggers
-- below; organization_search_rebuild() makes it again from the tables (for a bulk load
-- that bypasses triggers).
create table organization_search_names (
    organization_id uuid not null references organizations (id) on delete cascade,
    name text not null,
    is_alias boolean not null,
    words text not null,
    key text collate "C" not null,
    prominence integer not null default 0
);
-- Superseded by organization_search_names' indexes (these were on the raw text, accents
-- and all).
drop index organizations_name_trgm;
drop index organization_aliases_alias_trgm;

create function organization_prominence(p_organization uuid) returns integer
language sql stable parallel safe
return (select count(*) from rounds r where r.company_id = p_organization)
       + (select count(*) from participations p where p.investor_organization_id = p_organization);

-- Fills organization_search_names from the tables and builds its indexes, in bulk: the
-- migration's first fill, and the way back after a load that bypassed the triggers
-- (574k names in 51 s here, where keeping the indexes row by row took 158 s). It locks
-- the table meanwhile.
create function organization_search_rebuild() returns void
language sql as $$
    drop index if exists organization_search_names_organization, organization_search_names_key,
        organization_search_names_words, organization_search_names_trgm;
    truncate organization_search_names;
    insert into organization_search_names (organization_id, name, is_alias, words, key, prominence)
    select n.organization_id, n.name, n.is_alias, search_words(n.name), search_key(n.name),
           coalesce(r.count, 0) + coalesce(p.count, 0)
    from (select id as organization_id, name, false as is_alias from organizations
          union all
          select organization_id, alias, true from organization_aliases) n
    left join (select company_id, count(*) as count from rounds group by company_id) r
        on r.company_id = n.organization_id
    left join (select investor_organization_id, count(*) as count from participations
               where investor_organization_id is not null group by investor_organization_id) p
        on p.investor_organization_id = n.organization_id;
    create index organization_search_names_organization
        on organization_search_names (organization_id);
    -- Exact names and name starts, read from the index alone.
    create index organization_search_names_key
        on organization_search_names (key) include (prominence, organization_id, words);
    -- Word starts. Without a pending list: a scan would read it whole until a vacuum.
    create index organization_search_names_words
        on organization_search_names using gin (to_tsvector('simple'::regconfig, words))
        with (fastupdate = off);
    -- Typos.
    create index organization_search_names_trgm
        on organization_search_names using gin (words gin_trgm_ops) with (fastupdate = off);
    analyze organization_search_names;
$$;
select organization_search_rebuild();

-- Names: an organization's own on insert and rename, aliases as they come and go.
create function organization_search_names_changed() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'organizations' then
        if tg_op = 'UPDATE' then
            delete from organization_search_names n
            using old_rows o join new_rows w on w.id = o.id
            where n.organization_id = o.id and not n.is_alias and o.name is distinct from w.name;
            insert into organization_search_names (organization_id, name, is_alias, words, key,
                                                   prominence)
            select w.id, w.name, false, search_words(w.name), search_key(w.name),
                   organization_prominence(w.id)
            from old_rows o join new_rows w on w.id = o.id
            where o.name is distinct from w.name;
        else
            insert into organization_search_names (organization_id, name, is_alias, words, key)
            select w.id, w.name, false, search_words(w.name), search_key(w.name) from new_rows w;
        end if;
    else
        if tg_op in ('UPDATE', 'DELETE') then
            delete from organization_search_names n
            using old_rows o
            where n.organization_id = o.organization_id and n.is_alias and n.name = o.alias;
        end if;
        if tg_op in ('UPDATE', 'INSERT') then
            insert into organization_search_names (organization_id, name, is_alias, words, key,
                                                   prominence)
            select w.organization_id, w.alias, true, search_words(w.alias), search_key(w.alias),
                   organization_prominence(w.organization_id)
            from new_rows w;
        end if;
    end if;
    return null;
end
$$;
create trigger organizations_search_created after insert on organizations
    referencing new table as new_rows
    for each statement execute function organization_search_names_changed();
create trigger organizations_search_renamed after update on organizations
    referencing old table as old_rows new table as new_rows
    for each statement execute function organization_search_names_changed();
create trigger organization_aliases_search_added after insert on organization_aliases
    referencing new table as new_rows
    for each statement execute function organization_search_names_changed();
create trigger organization_aliases_search_changed after update on organization_aliases
    referencing old table as old_rows new table as new_rows
    for each statement execute function organization_search_names_changed();
create trigger organization_aliases_search_removed after delete on organization_aliases
    referencing old table as old_rows
    for each statement execute function organization_search_names_changed();

-- Prominence: +1 for each round raised or investment made, -1 when it goes (TG_ARGV[0]
-- names the organization's column). Rows are locked in organization order, so that two
-- writers cannot deadlock here.
create function organization_search_prominence_changed() returns trigger
language plpgsql as $$
declare
    changes text := case tg_op
        when 'INSERT' then format('select %I, 1 from new_rows', tg_argv[0])
        when 'DELETE' then format('select %I, -1 from old_rows', tg_argv[0])
        else format('select %1$I, -1 from old_rows union all select %1$I, 1 from new_rows',
                    tg_argv[0])
    end;
begin
    execute format($sql$
        with moved as (
            select organization_id, sum(delta)::integer as delta
            from (%s) d (organization_id, delta)
            where organization_id is not null
            group by organization_id
            having sum(delta) <> 0
        ), locked as (
            select n.ctid, m.delta from organization_search_names n
            join moved m on m.organization_id = n.organization_id
            order by n.organization_id
            for update of n
        )
        update organization_search_names n set prominence = n.prominence + l.delta
        from locked l where n.ctid = l.ctid
    $sql$, changes);
    return null;
end
$$;
create trigger rounds_search_created after insert on rounds
    referencing new table as new_rows
    for each statement execute function organization_search_prominence_changed('company_id');
create trigger rounds_search_updated after update on rounds
    referencing old table as old_rows new table as new_rows
    for each statement execute function organization_search_prominence_changed('company_id');
create trigger rounds_search_deleted after delete on rounds
    referencing old table as old_rows
    for each statement execute function organization_search_prominence_changed('company_id');
create trigger participations_search_created after insert on participations
    referencing new table as new_rows
    for each statement execute function
        organization_search_prominence_changed('investor_organization_id');
create trigger participations_search_updated after update on participations
    referencing old table as old_rows new table as new_rows
    for each statement execute function
        organization_search_prominence_changed('investor_organization_id');
create trigger participations_search_deleted after delete on participations
    referencing old table as old_rows
    for each statement execute function
        organization_search_prominence_changed('investor_organization_id');

-- The organizations a search finds, each with its rank (lower is better): the grade of
-- its best name or alias first, then its prominence, the larger first.
--    0  the whole name, as search_key has it ("face book" finds Facebook);
--   10  the start of the name ("sequ" finds Sequoia Capital as one types);
--   20  the start of a word of the name, for every word of 3 or more letters typed
--       ("horowitz" finds Andreessen Horowitz; "cap sequ" finds Sequoia Capital);
--   30 + edits  a misspelling, looked for only when fewer than 20 organizations match
--       as typed, and for 4 or more characters: alike by trigrams (word_similarity >=
--       0.5) and at most one edit from the start of a word of the name (two edits
--       from 6 characters on).
-- Each way of matching takes at most 1,000 names (misspellings 200), in its index's
-- order, so that the work stays bounded whatever is typed.
create function organization_search(p_search text)
returns table (organization_id uuid, rank bigint)
language plpgsql stable parallel safe
set pg_trgm.word_similarity_threshold = 0.5
-- The planner takes a trigram comparison for cheap and would compare every name (90 ms
-- at 30k names) rather than read the index; each step here is meant to read an index.
set enable_seqscan = off
-- Its estimates for this bounded statement are far above what it does, and would have
-- it compiled by LLVM on each call (~100 ms).
set jit = off
as $$
declare
    typed_words text := search_words(p_search);
    typed text collate "C" := search_key(p_search);
    -- Words of one or two letters are left out: as prefixes they match a large part
    -- of all names, which the index would have to gather before any limit applies.
    prefixes tsquery := (
        select to_tsquery('simple', string_agg(w || ':*', ' & '))
        from unnest(string_to_array(search_words(p_search), ' ')) w
        where length(w) >= 3);
    edits_allowed integer := case when length(typed) >= 6 then 2
                                  when length(typed) >= 4 then 1 else -1 end;
begin
    if typed = '' then
        return;
    end if;
    return query
    with as_typed as (
        (select n.organization_id, n.prominence,
                case when n.key = typed then 0 else 10 end as grade
         from organization_search_names n
         where n.key >= typed and n.key < typed || chr(1114111)
         limit 1000)
        union all
        (select n.organization_id, n.prominence,
                case when n.key = typed then 0 when starts_with(n.key, typed) then 10 else 20 end
         from organization_search_names n
         where to_tsvector('simple'::regconfig, n.words) @@ prefixes
         limit 1000)
    ), misspelt as (
        select f.organization_id, f.prominence, 30 + search_edits(typed, f.words) as grade
        from (select n.organization_id, n.prominence, n.words
              from organization_search_names n
              where edits_allowed > 0
                and (select count(distinct a.organization_id) from as_typed a) < 20
                and typed_words <% n.words
              limit 200) f
    ), graded as (
        select * from as_typed
        union all
        select * from misspelt m where m.grade <= 30 + edits_allowed
    )
    select g.organization_id,
           min(g.grade)::bigint * 10000000000 + 9999999999 - least(max(g.prominence), 9999999999)
    from graded g
    group by g.organization_id;
end
$$;
