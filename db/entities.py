"""Who a name is: the one entity-resolution rule, for imports and API writes alike.

A mention (a name, maybe a slug, maybe whether it is a person or an organization) is
resolved by the first step that finds it, in this order:

1. `slug`: an organization or person with exactly that slug whose name agrees (same
   name key, see below), or any name when the mention gives none;
2. `name`: one organization or person whose name key equals the mention's;
3. `alias`: one organization with an alias whose key equals the mention's;
4. `fuzzy`: one organization whose name key is at least `FUZZY_THRESHOLD` similar
   (pg_trgm trigram similarity) to the mention's, and no second one that is;
5. otherwise it is `new` (the caller creates it), or `ambiguous` when a step found two
   or more candidates: those are never merged silently, the caller refuses the mention
   and names them.

The name key is `entity_name_key()` in SQL (migration 0010): lower case, accents
stripped, punctuation dropped, whitespace collapsed, a leading "the" and trailing legal
suffixes (Inc., Ltd., LLC, GmbH, S.A., Pvt. Ltd., Corp., Co., ...) removed; stored and
indexed on organizations, aliases and people. A company and an investor with one
identity are one organization, whichever role named it first.
"""

import re
import secrets
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from db.infra.types import Connection

FUZZY_THRESHOLD = 0.85
# Keys shorter than this are never matched fuzzily: a letter more or less in a short
# name is another name ("Idx" / "Ida").
FUZZY_MIN_LENGTH = 6
# How many tries a new slug gets from its base ("acme", "acme-2", ...) before a random
# suffix ("acme-7f3a9c1e"): a base taken a thousand times never blocks a name.
SLUG_NUMBERED_TRIES = 5
_SLUG_BASE_LENGTH = 180
_NON_SLUG = re.compile(r"[^a-z0-9]+")
# Letters that Unicode decomposition does not turn into ASCII.
_TRANSLITERATION = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ı": "i"}
)  # fmt: skip

ORGANIZATION = "organization"
PERSON = "person"
STEPS = ("slug", "name", "alias", "fuzzy", "new", "ambiguous")


@dataclass(frozen=True, slots=True)
class Mention:
    name: str | None
    slug: str | None = None
    # ORGANIZATION or PERSON when the source tells; None: either.
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    step: str
    kind: str | None = None
    entity_id: uuid.UUID | None = None
    # The slugs of the candidates when ambiguous.
    candidates: tuple[str, ...] = ()


def slugify(text: str) -> str | None:
    """The slug for a name ("Sequoia Capital" → "sequoia-capital"), if it has any letter."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_SLUG.sub("-", ascii_text).strip("-")[:_SLUG_BASE_LENGTH].strip("-")
    return slug or None


# One statement for any number of mentions. Each step only looks at mentions the steps
# before it did not settle; each lookup is an index scan on a key column.
_RESOLVE = """
with mention as (
    select m.ord, m.name, m.slug, m.kind, entity_name_key(m.name) as key
    from unnest($1::text[], $2::text[], $3::text[]) with ordinality as m(name, slug, kind, ord)
), by_slug as (
    select m.ord, 'slug' as step, array[x.kind] as kinds, array[x.id] as ids,
        array[x.slug::text] as slugs
    from mention m
    cross join lateral (
        select 'organization'::text as kind, o.id, o.slug from organizations o
        where o.slug = m.slug and (m.key is null or o.name_key = m.key)
          and m.kind is distinct from 'person'
        union all
        select 'person', p.id, p.slug from people p
        where p.slug = m.slug and (m.key is null or p.name_key = m.key)
          and m.kind is distinct from 'organization'
        limit 1
    ) x
    where m.slug is not null
), by_name as (
    select m.ord, 'name' as step, array_agg(x.kind) as kinds, array_agg(x.id) as ids,
        array_agg(x.slug::text order by x.slug) as slugs
    from mention m
    cross join lateral (
        (select 'organization'::text as kind, o.id, o.slug from organizations o
         where o.name_key = m.key and m.kind is distinct from 'person' limit 5)
        union all
        (select 'person', p.id, p.slug from people p
         where p.name_key = m.key and m.kind is distinct from 'organization' limit 5)
        union all
        -- A name without a key (no letter nor digit: "????") is found as written, or
        -- each import of it would make it again.
        (select 'organization', o.id, o.slug from organizations o
         where m.key is null and o.name_key is null and o.name = m.name
           and m.kind is distinct from 'person' limit 5)
        union all
        (select 'person', p.id, p.slug from people p
         where m.key is null and p.name_key is null and p.name = m.name
           and m.kind is distinct from 'organization' limit 5)
    ) x
    where m.ord not in (select ord from by_slug)
    group by m.ord
), by_alias as (
    select m.ord, 'alias' as step, array_agg('organization'::text) as kinds, array_agg(o.id) as ids,
        array_agg(o.slug::text order by o.slug) as slugs
    from mention m
    cross join lateral (
        select distinct a.organization_id from organization_aliases a
        where a.alias_key = m.key limit 5
    ) a
    join organizations o on o.id = a.organization_id
    where m.key is not null and m.kind is distinct from 'person'
      and m.ord not in (select ord from by_slug union all select ord from by_name)
    group by m.ord
), by_fuzzy as (
    select m.ord, 'fuzzy' as step, array_agg('organization'::text) as kinds, array_agg(x.id) as ids,
        array_agg(x.slug::text order by x.slug) as slugs
    from mention m
    cross join lateral (
        select o.id, o.slug from organizations o
        where o.name_key % m.key and similarity(o.name_key, m.key) >= $4
        order by similarity(o.name_key, m.key) desc
        limit 5
    ) x
    where length(m.key) >= $5 and m.kind is distinct from 'person'
      and m.ord not in (select ord from by_slug union all select ord from by_name
                        union all select ord from by_alias)
    group by m.ord
), found as (
    select * from by_slug union all select * from by_name
    union all select * from by_alias union all select * from by_fuzzy
)
select m.ord, coalesce(f.step, 'new') as step, f.kinds, f.ids, f.slugs
from mention m left join found f on f.ord = m.ord
order by m.ord
"""


async def resolve(conn: Connection, mentions: Sequence[Mention]) -> list[Resolution]:
    """One resolution per mention, in order. Runs inside the caller's transaction (the
    fuzzy step's index threshold is set for it)."""
    if not mentions:
        return []
    # The trigram index answers `%` at this threshold; the query checks it again.
    await conn.execute(
        "select set_config('pg_trgm.similarity_threshold', $1, true)", str(FUZZY_THRESHOLD)
    )
    rows = await conn.fetch(
        _RESOLVE,
        [m.name for m in mentions],
        [m.slug for m in mentions],
        [m.kind for m in mentions],
        FUZZY_THRESHOLD,
        FUZZY_MIN_LENGTH,
    )
    resolutions = []
    for row in rows:
        ids, kinds = row["ids"], row["kinds"]
        if row["step"] == "new":
            resolutions.append(Resolution("new"))
        elif len(ids) > 1:
            resolutions.append(Resolution("ambiguous", candidates=tuple(row["slugs"])))
        else:
            resolutions.append(Resolution(row["step"], kinds[0], ids[0]))
    return resolutions


_CREATE = """
with wanted as (
    select w.name, w.base, w.ord,
        row_number() over (partition by w.base order by w.ord) as n
    from unnest($1::text[], $2::text[]) with ordinality as w(name, base, ord)
)
insert into {table} (slug, name)
select case
        when $3 = 0 and n = 1 then base
        when $3 < $4 then base || '-' || (n + $3)
        else base || '-' || substr(md5(random()::text || ord), 1, 8)
    end,
    name
from wanted
order by ord
on conflict (slug) do nothing
returning id, name
"""


async def create(
    conn: Connection,
    names: Sequence[str],
    *,
    kind: str = ORGANIZATION,
    slugs: Sequence[str | None] | None = None,
) -> list[uuid.UUID]:
    """New organizations (or people) with these distinct names, in order, each with a
    free slug: the one wished for (`slugs`) or the name's, else with "-2", "-3", ... when
    the batch repeats it, else with a random suffix: a slug is always found."""
    table = "people" if kind == PERSON else "organizations"
    wished = slugs or [None] * len(names)
    bases = {
        n: (s or slugify(n) or "entity-" + secrets.token_hex(3))
        for n, s in zip(names, wished, strict=True)
    }
    ids: dict[str, uuid.UUID] = {}
    pending = list(bases)
    attempt = 0
    # Each round inserts what it can; a slug taken (by an older row, or by another writer
    # meanwhile) sends its name to the next round: "-2", "-3", ..., then a random suffix.
    while pending:
        rows = await conn.fetch(
            _CREATE.format(table=table),
            pending,
            [bases[n] for n in pending],
            attempt,
            SLUG_NUMBERED_TRIES,
        )
        ids.update((r["name"], r["id"]) for r in rows)
        pending = [n for n in pending if n not in ids]
        attempt += 1
    return [ids[n] for n in names]


async def add_aliases(conn: Connection, spellings: Sequence[tuple[uuid.UUID, str]]) -> int:
    """Record new spellings of known organizations as aliases (not mere differences of
    case); how many were new."""
    if not spellings:
        return 0
    status = await conn.execute(
        """
        insert into organization_aliases (organization_id, alias)
        select distinct s.id, s.alias
        from unnest($1::uuid[], $2::text[]) as s(id, alias)
        join organizations o on o.id = s.id
        -- A difference of case alone is no new spelling.
        where lower(o.name) <> lower(s.alias)
          and not exists (select from organization_aliases a
                          where a.organization_id = s.id and lower(a.alias) = lower(s.alias))
        on conflict do nothing
        """,
        [i for i, _ in spellings],
        [a for _, a in spellings],
    )
    return int(status.rsplit(" ", 1)[1])
