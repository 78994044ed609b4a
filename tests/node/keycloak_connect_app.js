// A resource server guarded by keycloak-connect (Keycloak's Node adapter),
// unmodified, in bearer-only mode, configured the way Keycloak's docs show.
// Environment: AUTH_SERVER_URL (…/auth), REALM, RESOURCE (the client id),
// VERIFY_AUDIENCE ("true"/"false"). Prints "listening <port>" when ready.
const express = require('express');
const Keycloak = require('keycloak-connect');

const keycloak = new Keycloak({}, {
  realm: process.env.REALM,
  'auth-server-url': process.env.AUTH_SERVER_URL,
  'ssl-required': 'none',
  resource: process.env.RESOURCE,
  'bearer-only': true,
  'verify-token-audience': process.env.VERIFY_AUDIENCE === 'true',
  'confidential-port': 0,
});

const app = express();
app.use(keycloak.middleware());
app.get('/protected', keycloak.protect(), (req, res) => {
  const token = req.kauth.grant.access_token.content;
  res.json({ user: token.preferred_username, typ: token.typ, azp: token.azp });
});
// Keycloak's role guards: a realm role, and a role of the resource's client.
app.get('/admin', keycloak.protect('realm:admin'), (req, res) => {
  res.json({ admin: true });
});
app.get('/role', keycloak.protect(`${process.env.RESOURCE}:role`), (req, res) => {
  res.json({ role: true });
});
app.get('/open', (req, res) => res.json({ open: true }));

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
