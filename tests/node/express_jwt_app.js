// A resource server verifying this issuer's access tokens with express-jwt
// and jwks-rsa, unmodified, configured the way their READMEs show.
// Environment: JWKS_URI, ISSUER, AUDIENCE. Prints "listening <port>" when ready.
const express = require('express');
const { expressjwt } = require('express-jwt');
const jwksRsa = require('jwks-rsa');

const app = express();
app.get(
  '/protected',
  expressjwt({
    secret: jwksRsa.expressJwtSecret({
      jwksUri: process.env.JWKS_URI,
      cache: true,
      rateLimit: true,
    }),
    audience: process.env.AUDIENCE,
    issuer: process.env.ISSUER,
    algorithms: ['RS256'],
  }),
  (req, res) => res.json({ sub: req.auth.sub, typ: req.auth.typ, azp: req.auth.azp }),
);
app.use((err, req, res, next) => {
  res.status(err.status || 500).json({ error: err.code || err.name, message: err.message });
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
