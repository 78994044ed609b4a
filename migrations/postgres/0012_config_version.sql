-- A change counter over the configuration a token reads (clients, mappers,
-- roles, role grants): every instance caches that configuration and reads
-- this one row per token, reloading when it moved. Statement triggers bump
-- it in the writing transaction, so the new count commits with the change,
-- whoever makes it (an instance, the CLI, an import).
CREATE TABLE config_version (
    id      SMALLINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER clients_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version();
CREATE TRIGGER mappers_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mappers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version();
CREATE TRIGGER roles_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version();
CREATE TRIGGER role_grants_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_grants
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version();
