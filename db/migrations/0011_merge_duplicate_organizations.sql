-- Earlier imports made one organization twice when an investor's name was a company's
-- while the company's permalink differed ("New York Times": `newyorktimes`, the company,
-- and `new-york-times`, the investor), and kept spellings apart ("BB&T Fund" / "BBT
-- Fund"). By the entity-resolution rule (db/entities.py) organizations with one name key
-- are one organization: this merges them, losing no participation.
--
-- A group is merged only when at most one of its organizations has rounds of its own
-- (raised as a company): that one is kept, else the one with the most participations,
-- then the oldest, then the first slug. Groups of two companies with rounds (two
-- permalinks of one name, such as "AlterG" and "AlterG Inc") are left apart: the rule
-- reports them as ambiguous.

create function merge_organization(p_keep uuid, p_drop uuid) returns void
language plpgsql as $$
begin
    -- Where both took part in one round, the dropped one's claims and events move to
    -- the kept one's participation, then its participation goes.
    update claims c set participation_id = k.id
    from participations d
    join participations k on k.round_id = d.round_id and k.investor_organization_id = p_keep
    where d.investor_organization_id = p_drop and c.participation_id = d.id;
    update status_events e set participation_id = k.id
    from participations d
    join participations k on k.round_id = d.round_id and k.investor_organization_id = p_keep
    where d.investor_organization_id = p_drop and e.participation_id = d.id;
    delete from participations d
    using participations k
    where d.investor_organization_id = p_drop
      and k.round_id = d.round_id and k.investor_organization_id = p_keep;
    update participations set investor_organization_id = p_keep, updated_at = now()
    where investor_organization_id = p_drop;
    update rounds set company_id = p_keep, updated_at = now() where company_id = p_drop;
    update round_negotiators set organization_id = p_keep where organization_id = p_drop;
    insert into person_roles (person_id, organization_id, title)
    select person_id, p_keep, title from person_roles where organization_id = p_drop
    on conflict do nothing;
    delete from person_roles where organization_id = p_drop;
    -- The dropped name, and its aliases, become aliases of the kept one.
    insert into organization_aliases (organization_id, alias)
    select p_keep, a.alias from organization_aliases a where a.organization_id = p_drop
    union
    select p_keep, d.name from organizations d where d.id = p_drop
    on conflict do nothing;
    delete from organization_aliases a
    using organizations k where k.id = p_keep and a.organization_id = p_keep and a.alias = k.name;
    -- Tables of later migrations, present when this runs on a database that has them.
    if to_regclass('acquisitions') is not null then
        execute 'update acquisitions set target_id = $1 where target_id = $2'
            using p_keep, p_drop;
        execute 'delete from acquirers d using acquirers k where d.organization_id = $2'
                ' and k.organization_id = $1 and k.acquisition_id = d.acquisition_id'
            using p_keep, p_drop;
        execute 'update acquirers set organization_id = $1 where organization_id = $2'
            using p_keep, p_drop;
    end if;
    delete from organizations where id = p_drop;
end
$$;

do $$
declare
    pair record;
begin
    for pair in
        with member as (
            select o.id, o.slug, o.name_key, o.created_at,
                exists (select 1 from rounds r where r.company_id = o.id) as raised,
                (select count(*) from participations p where p.investor_organization_id = o.id)
                    as investments
            from organizations o
            where o.name_key in (select name_key from organizations
                                 where name_key is not null
                                 group by name_key having count(*) > 1)
        ), mergeable as (
            select name_key from member group by name_key
            having count(*) filter (where raised) <= 1
        ), kept as (
            select distinct on (m.name_key) m.name_key, m.id
            from member m join mergeable g on g.name_key = m.name_key
            order by m.name_key, m.raised desc, m.investments desc, m.created_at, m.slug
        )
        select k.id as keep, m.id as drop
        from member m join kept k on k.name_key = m.name_key
        where m.id <> k.id
        order by m.name_key, m.id
    loop
        perform merge_organization(pair.keep, pair.drop);
    end loop;
end
$$;
