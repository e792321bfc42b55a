-- Entity resolution (db/entities.py) compares names by a key: the name in lower case,
-- accents stripped, punctuation dropped, whitespace collapsed, a leading "the" and
-- trailing legal suffixes (Inc., Ltd., LLC, GmbH, S.A., Pvt. Ltd., Corp., Co., ...)
-- removed. "GetJar, Inc." and "GetJar Inc" share the key "getjar"; "Start-Up Chile" and
-- "StartUp Chile" share "startup chile". Written once here, as a stored generated column
-- with an index on each table a name is looked up in, so that resolving a name (one API
-- write, or a whole import at once) is an index lookup, never a scan.
create function entity_name_key(name text) returns text
language sql immutable parallel safe strict as $$
    with plain as (
        select btrim(regexp_replace(
            regexp_replace(
                replace(replace(replace(replace(translate(lower(name),
                    'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľŀńņňŉōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžſơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳøłđıħŧ' || chr(160),
                    'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijkllllnnnnooorrrssssttuuuuuuwyzzzsouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooyoldiht '),
                    'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'),
                -- ASCII punctuation and the common typographic marks go, without a space:
                -- "Start-Up" and "StartUp", "BB&T" and "BBT" are one spelling.
                '[!-/:-@\[-`{-~’‘“”«»–—·•´]+', '', 'g'),
            '\s+', ' ', 'g')) as key
    ), trimmed as (
        select regexp_replace(
            regexp_replace(key, '^the ', ''),
            '( (inc|incorporated|ltd|limited|llc|llp|plc|gmbh|ag|sa|sas|sarl|srl|spa|bv|nv'
            '|pty|pte|pvt|private|corp|corporation|co))+$', '') as key
        from plain
    )
    -- A name that is nothing but a suffix ("The Co.") keeps what it has.
    select case when trimmed.key <> '' then trimmed.key else nullif(plain.key, '') end
    from plain, trimmed
$$;

alter table organizations
    add column name_key text generated always as (entity_name_key(name)) stored;
create index organizations_name_key on organizations (name_key);
create index organizations_name_key_trgm on organizations using gin (name_key gin_trgm_ops);

alter table organization_aliases
    add column alias_key text generated always as (entity_name_key(alias)) stored;
create index organization_aliases_alias_key on organization_aliases (alias_key);

alter table people
    add column name_key text generated always as (entity_name_key(name)) stored;
create index people_name_key on people (name_key);
