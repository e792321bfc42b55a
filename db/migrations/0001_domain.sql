-- The domain model of DESIGN.md: organizations, people, rounds, participations,
-- and the provenance behind them (sources, claims, status events).

create extension if not exists pg_trgm;

create type deal_status as enum ('REPORTED', 'CONFIRMED', 'DENIED', 'RETRACTED');
create type deal_stage as enum ('IN_TALKS', 'ANNOUNCED', 'CLOSED', 'ABANDONED');
create type amount_qualifier as enum ('EXACT', 'ABOUT', 'UP_TO', 'AT_LEAST', 'RANGE');
create type date_precision as enum ('DAY', 'MONTH', 'QUARTER', 'YEAR');
create type round_type as enum (
    'PRE_SEED', 'SEED', 'ANGEL', 'SERIES_A', 'SERIES_B', 'SERIES_C', 'SERIES_D',
    'SERIES_E_PLUS', 'SERIES_UNKNOWN', 'CORPORATE', 'PRIVATE_EQUITY', 'DEBT', 'CONVERTIBLE',
    'GRANT', 'EQUITY_CROWDFUNDING', 'SECONDARY', 'POST_IPO', 'OTHER'
);
create type source_kind as enum (
    'PRESS_ANONYMOUS', 'PRESS_ON_RECORD', 'COMPANY_STATEMENT', 'INVESTOR_STATEMENT',
    'REGULATORY_FILING', 'DATA_VENDOR'
);
create type investor_type as enum (
    'VENTURE_CAPITAL', 'CORPORATE', 'SOVEREIGN_WEALTH_FUND', 'PRIVATE_EQUITY', 'ANGEL_GROUP',
    'ACCELERATOR', 'BANK', 'FAMILY_OFFICE', 'HEDGE_FUND', 'GOVERNMENT', 'OTHER'
);

create domain slug as text
    constraint slug_format check (value ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(value) <= 200);
create domain currency_code as text
    constraint currency_code_format check (value ~ '^[A-Z]{3}$');
create domain display_name as text
    constraint display_name_not_blank check (btrim(value) <> '' and length(value) <= 500);

-- Money as reported: the qualifier says how to read low/high (EXACT and ABOUT fill
-- both with one value, UP_TO only high, AT_LEAST only low, RANGE both with low < high),
-- in the currency of the source, with usd the normalized value used to sort and filter.
create type money_estimate_fields as (
    qualifier amount_qualifier,
    currency text,
    low numeric,
    high numeric,
    usd numeric
);
create domain money_estimate as money_estimate_fields
    constraint money_estimate_shape check (
        value is null or (
            (value).qualifier is not null
            and (value).currency ~ '^[A-Z]{3}$'
            and coalesce((value).low, 0) >= 0
            and coalesce((value).high, 0) >= 0
            and coalesce((value).usd, 0) >= 0
            and case (value).qualifier
                when 'EXACT' then (value).low is not null and (value).low = (value).high
                when 'ABOUT' then (value).low is not null and (value).low = (value).high
                when 'UP_TO' then (value).low is null and (value).high is not null
                when 'AT_LEAST' then (value).low is not null and (value).high is null
                when 'RANGE' then (value).low is not null and (value).high is not null
                    and (value).low < (value).high
            end
        )
    );

-- A date known only to a month, quarter or year is stored as the first day of that
-- period, so that comparisons and sorting stay plain date arithmetic.
create function date_fits_precision(d date, p date_precision) returns boolean
language sql immutable as $$
    select d is null or p is null or case p
        when 'DAY' then true
        when 'MONTH' then extract(day from d) = 1
        when 'QUARTER' then extract(day from d) = 1 and extract(month from d) in (1, 4, 7, 10)
        when 'YEAR' then extract(day from d) = 1 and extract(month from d) = 1
    end
$$;

create table organizations (
    id uuid primary key default gen_random_uuid(),
    slug slug not null unique,
    name display_name not null,
    description text,
    website text check (website ~ '^https?://'),
    country_code text check (country_code ~ '^[A-Z]{3}$'),
    city text,
    founded_on date,
    founded_precision date_precision,
    categories text[] not null default '{}',
    investor_types investor_type[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint founded_precision_given check ((founded_on is null) = (founded_precision is null)),
    constraint founded_fits_precision check (date_fits_precision(founded_on, founded_precision))
);
create index organizations_name_trgm on organizations using gin (name gin_trgm_ops);

create table organization_aliases (
    organization_id uuid not null references organizations (id) on delete cascade,
    alias display_name not null,
    primary key (organization_id, alias)
);
create index organization_aliases_alias_trgm on organization_aliases using gin (alias gin_trgm_ops);

create table people (
    id uuid primary key default gen_random_uuid(),
    slug slug not null unique,
    name display_name not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table person_roles (
    person_id uuid not null references people (id) on delete cascade,
    organization_id uuid not null references organizations (id) on delete cascade,
    title display_name not null,
    primary key (person_id, organization_id, title)
);
create index person_roles_organization on person_roles (organization_id);

create table sources (
    id uuid primary key default gen_random_uuid(),
    url text unique check (url ~ '^https?://'),
    publisher display_name not null,
    title text,
    language text check (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    published_at timestamptz,
    kind source_kind not null,
    created_at timestamptz not null default now()
);

create table rounds (
    id uuid primary key default gen_random_uuid(),
    company_id uuid not null references organizations (id),
    round_type round_type not null,
    reported_label text,
    status deal_status not null,
    stage deal_stage not null,
    announced_on date,
    announced_precision date_precision,
    closed_on date,
    expected_close_on date,
    expected_close_precision date_precision,
    amount money_estimate,
    target_amount money_estimate,
    pre_money_valuation money_estimate,
    post_money_valuation money_estimate,
    amount_usd numeric generated always as ((amount).usd) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint announced_precision_given
        check ((announced_on is null) = (announced_precision is null)),
    constraint announced_fits_precision
        check (date_fits_precision(announced_on, announced_precision)),
    constraint expected_close_precision_given
        check ((expected_close_on is null) = (expected_close_precision is null)),
    constraint expected_close_fits_precision
        check (date_fits_precision(expected_close_on, expected_close_precision)),
    constraint closed_on_needs_closed_stage check (closed_on is null or stage = 'CLOSED')
);
create index rounds_company on rounds (company_id);
create index rounds_announced on rounds (announced_on, id);
create index rounds_amount_usd on rounds (amount_usd, id);
create index rounds_status_stage on rounds (status, stage);

create table participations (
    id uuid primary key default gen_random_uuid(),
    round_id uuid not null references rounds (id) on delete cascade,
    investor_organization_id uuid references organizations (id),
    investor_person_id uuid references people (id),
    amount money_estimate,
    is_lead boolean not null default false,
    status deal_status not null,
    stage deal_stage not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint one_investor check (
        num_nonnulls(investor_organization_id, investor_person_id) = 1
    ),
    constraint participation_round_key unique (id, round_id),
    constraint one_participation_per_organization unique (round_id, investor_organization_id),
    constraint one_participation_per_person unique (round_id, investor_person_id)
);
create index participations_investor_organization on participations (investor_organization_id);
create index participations_investor_person on participations (investor_person_id);

-- What one source says about a round, or about one participation in it. Every
-- claimed field is nullable: null means "this source says nothing about it".
create table claims (
    id uuid primary key default gen_random_uuid(),
    source_id uuid not null references sources (id),
    round_id uuid not null references rounds (id) on delete cascade,
    participation_id uuid,
    quote text,
    attribution text,
    status deal_status,
    stage deal_stage,
    amount money_estimate,
    pre_money_valuation money_estimate,
    post_money_valuation money_estimate,
    expected_close_on date,
    expected_close_precision date_precision,
    is_lead boolean,
    recorded_at timestamptz not null default now(),
    constraint claim_participation_in_round foreign key (participation_id, round_id)
        references participations (id, round_id) on delete cascade,
    constraint expected_close_precision_given
        check ((expected_close_on is null) = (expected_close_precision is null)),
    constraint expected_close_fits_precision
        check (date_fits_precision(expected_close_on, expected_close_precision)),
    constraint valuations_are_round_level check (
        participation_id is null
        or (pre_money_valuation is null and post_money_valuation is null
            and expected_close_on is null)
    ),
    constraint is_lead_is_participation_level check (participation_id is not null or is_lead is null)
);
create index claims_round on claims (round_id, recorded_at);
create index claims_source on claims (source_id);

-- Who negotiates a round, on whose behalf, and the claim that says so.
create table round_negotiators (
    round_id uuid not null references rounds (id) on delete cascade,
    person_id uuid not null references people (id),
    organization_id uuid references organizations (id),
    claim_id uuid references claims (id) on delete set null,
    primary key (round_id, person_id)
);

-- Each change of a round's (or a participation's) status or stage: history and
-- "as of" answers come from here.
create table status_events (
    id uuid primary key default gen_random_uuid(),
    round_id uuid not null references rounds (id) on delete cascade,
    participation_id uuid,
    at timestamptz not null,
    status deal_status not null,
    stage deal_stage not null,
    source_id uuid references sources (id),
    claim_id uuid references claims (id) on delete set null,
    recorded_at timestamptz not null default now(),
    constraint event_participation_in_round foreign key (participation_id, round_id)
        references participations (id, round_id) on delete cascade
);
create index status_events_round on status_events (round_id, at);
