-- A change counter over the configuration a token reads (clients, mappers,
-- roles, role grants): every instance caches that configuration and reads
-- this one row per token, reloading when it moved. Triggers bump it on any
-- write, whoever makes it (the server, the CLI, an import, another process).
CREATE TABLE config_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 0);

CREATE TRIGGER clients_insert_bumps AFTER INSERT ON clients
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER clients_update_bumps AFTER UPDATE ON clients
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER clients_delete_bumps AFTER DELETE ON clients
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER mappers_insert_bumps AFTER INSERT ON mappers
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER mappers_update_bumps AFTER UPDATE ON mappers
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER mappers_delete_bumps AFTER DELETE ON mappers
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER roles_insert_bumps AFTER INSERT ON roles
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER roles_update_bumps AFTER UPDATE ON roles
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER roles_delete_bumps AFTER DELETE ON roles
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER role_grants_insert_bumps AFTER INSERT ON role_grants
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER role_grants_update_bumps AFTER UPDATE ON role_grants
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER role_grants_delete_bumps AFTER DELETE ON role_grants
BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
