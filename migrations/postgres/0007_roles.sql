-- Realm roles (client_id '') and client roles, Keycloak's model; composites
-- is an array of {"client"?, "name"}. The built-in default-roles-<realm>,
-- offline_access and uma_authorization are not stored unless replaced.
CREATE TABLE roles (
    client_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    composites  JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (client_id, name)
);

-- Who holds a role directly: holder_kind 'user' (holder_id: the user's id),
-- 'group' (a group path, /parent/child) or 'client' (a service account).
CREATE TABLE role_grants (
    holder_kind TEXT NOT NULL,
    holder_id   TEXT NOT NULL,
    role_client TEXT NOT NULL,
    role_name   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (holder_kind, holder_id, role_client, role_name)
);
CREATE INDEX role_grants_by_role ON role_grants (role_client, role_name);
