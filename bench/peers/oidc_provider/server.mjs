// panva/oidc-provider set up for voltgate's bench: one confidential client (client_secret_basic),
// the in-memory adapter (the default), and two routes of our own in the provider's Koa app:
// a protected read that checks a bearer token the way a resource server next to the provider
// would, and an empty floor route. Configured through the environment by bench/peers/oidc_provider.py.
//
//   BENCH_PORT, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET  listen on 127.0.0.1:<port>; the client
//   BENCH_TOKEN_FORMAT  "opaque" (default) or "jwt" (ES256 JWT access tokens for one resource)
//   BENCH_STATE_FILE    where to write {"refresh_token": …} before listening

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const port = Number(process.env.BENCH_PORT);
const clientId = process.env.BENCH_CLIENT_ID;
const clientSecret = process.env.BENCH_CLIENT_SECRET;
const format = process.env.BENCH_TOKEN_FORMAT ?? 'opaque';
const stateFile = process.env.BENCH_STATE_FILE;
if (!port || !clientId || !clientSecret || !stateFile || !['opaque', 'jwt'].includes(format)) {
  throw new Error('BENCH_PORT, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_STATE_FILE required');
}

const issuer = `http://${HOST}:${port}`;
// The one resource server (API) the JWT set-up issues access tokens for.
const RESOURCE = 'urn:voltgate-bench:api';
const ACCOUNT = 'bench-user';
const KID = 'bench-es256';
const ROUTES = {
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  me: '/bench/me',
  floor: '/bench/floor',
};

// A fresh ES256 signing key per run: signs JWT access tokens (and ID tokens, never issued here).
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'ES256', use: 'sig' };

// A client may introspect and revoke the tokens issued to it.
const ownTokensOnly = async (_ctx, client, token) => token.clientId === client.clientId;

const resourceIndicators = format === 'jwt'
  ? {
    enabled: true,
    // No `resource` parameter in the request: the token is for our one API.
    defaultResource: async () => RESOURCE,
    useGrantedResource: async () => true,
    getResourceServerInfo: async (_ctx, resource) => {
      if (resource !== RESOURCE) throw new Provider.errors.InvalidTarget();
      return {
        scope: 'read',
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'ES256', kid: KID } },
      };
    },
  }
  : { enabled: false };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/callback`],
    scope: 'openid offline_access read',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: ownTokensOnly },
    revocation: { enabled: true, allowedPolicy: ownTokensOnly },
    resourceIndicators,
  },
  // Refresh tokens stay valid when used, so the refresh grant can be replayed under load.
  rotateRefreshToken: false,
  findAccount: async (_ctx, sub) => (sub === ACCOUNT
    ? { accountId: sub, claims: async () => ({ sub }) }
    : undefined),
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    Grant: 86400,
    RefreshToken: 86400,
  },
  routes: { token: ROUTES.token, introspection: ROUTES.introspection, revocation: ROUTES.revocation },
});

function bearer(ctx) {
  const header = ctx.get('authorization');
  return header.startsWith('Bearer ') ? header.slice(7) : undefined;
}

function unauthorized(ctx) {
  ctx.status = 401;
  ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  ctx.body = { error: 'invalid_token' };
}

// The resource server's check. Opaque: the token's record in the provider's store (what the
// introspection endpoint looks up; `find` rejects expired ones). JWT: signature with the
// provider's public key, `typ` at+jwt, `iss`, `aud` and `exp` (jose), on every request.
const verifyBearer = format === 'jwt'
  ? async (value) => {
    const { payload } = await jwtVerify(value, publicKey, {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer,
      audience: RESOURCE,
      requiredClaims: ['exp', 'client_id'],
    });
    return { sub: payload.sub, client_id: payload.client_id, scope: payload.scope };
  }
  : async (value) => {
    const token = await provider.ClientCredentials.find(value)
      ?? await provider.AccessToken.find(value);
    if (!token?.isValid) throw new Error('invalid token');
    return { sub: token.accountId ?? token.clientId, client_id: token.clientId, scope: token.scope };
  };

// Runs before the provider's router (Provider#use inserts ahead of it).
provider.use(async (ctx, next) => {
  if (ctx.path === ROUTES.floor && ctx.method === 'GET') {
    ctx.body = { status: 'ok' };
    return;
  }
  if (ctx.path === ROUTES.me && ctx.method === 'GET') {
    const value = bearer(ctx);
    if (!value) {
      unauthorized(ctx);
      return;
    }
    try {
      ctx.body = await verifyBearer(value);
    } catch {
      unauthorized(ctx);
    }
    return;
  }
  await next();
});

// A reusable refresh token without a browser: the grant and refresh token an authorization
// code exchange with `offline_access` would leave, created through the provider's own models.
// No `openid` scope, so refreshing issues an access token only (no ID token).
async function seedRefreshToken() {
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId });
  grant.addOIDCScope('offline_access');
  if (format === 'jwt') grant.addResourceScope(RESOURCE, 'read');
  const grantId = await grant.save();
  const refreshToken = new provider.RefreshToken({
    accountId: ACCOUNT,
    client,
    grantId,
    gty: 'authorization_code',
    scope: format === 'jwt' ? 'offline_access read' : 'offline_access',
    resource: format === 'jwt' ? RESOURCE : undefined,
    expiresWithSession: false,
    rotations: 0,
  });
  return refreshToken.save();
}

writeFileSync(stateFile, JSON.stringify({ refresh_token: await seedRefreshToken() }));

const server = provider.listen(port, HOST, () => {
  process.stderr.write(`oidc-provider (${format}) listening on ${issuer}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
