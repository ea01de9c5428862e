-- cutover control schema, version 9: migration groups.
-- A group's members carry its name in their definition (definition ->> 'group'); their state
-- rows move together, in one transaction, so each member's phase and read percentage always
-- equal the group's. That change is one event, written for the group: events.group_name names
-- it, and its migration is null (an event names a migration, a group, or both).
ALTER TABLE :CUTOVER_SCHEMA.events ALTER COLUMN migration DROP NOT NULL;
ALTER TABLE :CUTOVER_SCHEMA.events ADD COLUMN group_name text;
ALTER TABLE :CUTOVER_SCHEMA.events ADD CONSTRAINT events_name_a_subject CHECK (migration IS NOT NULL OR group_name IS NOT NULL);
CREATE INDEX events_group_at ON :CUTOVER_SCHEMA.events (group_name, id DESC) WHERE group_name IS NOT NULL;
CREATE INDEX migrations_group ON :CUTOVER_SCHEMA.migrations ((definition ->> 'group')) WHERE definition ? 'group';
