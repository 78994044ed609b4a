-- Keycloak's webOrigins (array of strings): `+` (the redirect URIs'
-- origins, what every client allowed before this column), `*`, or origins.
ALTER TABLE clients ADD COLUMN web_origins JSONB NOT NULL DEFAULT '["+"]'::jsonb;
