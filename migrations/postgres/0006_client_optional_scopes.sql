-- Keycloak's optional client scopes of a client (array of strings), granted
-- only when a request names them. Clients stored before have none.
ALTER TABLE clients ADD COLUMN optional_scopes JSONB NOT NULL DEFAULT '[]'::jsonb;
