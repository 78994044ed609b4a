-- Keycloak's webOrigins (JSON array of strings): `+` (the redirect URIs'
-- origins, what every client allowed before this column), `*`, or origins.
ALTER TABLE clients ADD COLUMN web_origins TEXT NOT NULL DEFAULT '["+"]';
