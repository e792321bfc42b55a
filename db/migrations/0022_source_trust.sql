-- Who may record which kind of source.

-- The source kinds a key may record (issue 14, item 8). Keys made before keep every
-- kind, as they could; keys made from now on get, unless told otherwise, the kinds a
-- partner feeding press and vendor data needs: not a party's statement nor a filing,
-- which make a round CONFIRMED or DENIED (`dealgraph keys create --source-kinds`; the
-- CLI gives admin keys and the embedded default's demo key every kind).
alter table api_keys
    add column source_kinds source_kind[] not null default enum_range(null::source_kind),
    add constraint api_key_source_kinds_given check (cardinality(source_kinds) > 0);
alter table api_keys
    alter column source_kinds set default '{PRESS_ANONYMOUS,PRESS_ON_RECORD,DATA_VENDOR}';
