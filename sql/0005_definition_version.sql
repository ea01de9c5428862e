-- cutover control schema, version 5: live definition changes.
-- state.definition_version increases each time `cutover register` changes a migration's
-- definition; the change bumps state.version too and is notified like a state change, so
-- running processes reload the definition and acknowledge it as they acknowledge a phase.
-- instances.definitions: migration name -> the definition version this process has loaded
-- (only for migrations it has a DAL for); `cutover doctor` reports processes still behind.
ALTER TABLE :CUTOVER_SCHEMA.state ADD COLUMN definition_version bigint NOT NULL DEFAULT 1;
ALTER TABLE :CUTOVER_SCHEMA.instances ADD COLUMN definitions jsonb NOT NULL DEFAULT '{}';
