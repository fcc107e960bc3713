// A confidential app on openid-client, following one dialect's own guide, run by
// tests/live/test_dialect_clients.py:
// - DIALECT=evenergy: ev.energy publishes no discovery document, so the app is configured with
//   the guide's endpoints by hand; its authorization URL carries no scope (the app's registered
//   scopes are granted) and no PKCE, as the guide's first URL; the secret goes in the body.
// - DIALECT=tesla: discovery from the metadata URL Tesla's guide gives; scopes, PKCE, state and
//   nonce; the ID token validated; userinfo.
// It prints the authorization URL, serves the redirect URI on 127.0.0.1 and, when the browser
// lands there, redeems the code, calls PROBE with the token, refreshes and (ev.energy) revokes. One JSON line per event.
import http from 'node:http';
import * as client from 'openid-client';

const base = process.env.BASE;
const dialect = process.env.DIALECT;
const clientId = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
const port = Number(process.env.PORT);
const redirectUri = `http://127.0.0.1:${port}/callback`;

const emit = (record) => process.stdout.write(JSON.stringify(record) + '\n');

let config;
let params;
let checks = {};
if (dialect === 'evenergy') {
  config = new client.Configuration(
    {
      issuer: base,
      authorization_endpoint: `${base}/o/authorize/`,
      token_endpoint: `${base}/o/token`,
      revocation_endpoint: `${base}/o/revoke_token/`,
    },
    clientId,
    clientSecret,
    client.ClientSecretPost(clientSecret),
  );
  client.allowInsecureRequests(config);
  params = { redirect_uri: redirectUri };
} else {
  const metadata = new URL(`${base}/oauth2/v3/thirdparty/.well-known/openid-configuration`);
  config = await client.discovery(metadata, clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
    timeout: 10,
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  params = {
    redirect_uri: redirectUri,
    scope: process.env.SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  checks = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true };
}
const authorizationUrl = client.buildAuthorizationUrl(config, params);

async function complete(currentUrl) {
  const tokens = await client.authorizationCodeGrant(config, currentUrl, checks);
  const result = {
    token_endpoint: config.serverMetadata().token_endpoint,
    first: {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_in: tokens.expires_in,
      scope: tokens.scope,
    },
  };
  if (dialect === 'tesla') {
    const claims = tokens.claims();
    result.claims = claims;
    result.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  }
  // The API the token is for (PROBE), before anything is revoked.
  const probe = await fetch(`${base}${process.env.PROBE}`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  result.probe = { status: probe.status, body: await probe.json() };
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  result.refreshed = {
    access_token: refreshed.access_token,
    refresh_token: refreshed.refresh_token,
    expires_in: refreshed.expires_in,
  };
  if (dialect === 'evenergy') {
    await client.tokenRevocation(config, refreshed.refresh_token);
    result.revoked = refreshed.refresh_token;
  }
  return result;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  if (url.pathname !== '/callback') {
    res.writeHead(404).end();
    return;
  }
  try {
    const result = await complete(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1 id="done">Connected</h1>');
    emit({ event: 'done', ...result });
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('the app failed');
    emit({ event: 'error', name: error.name, code: error.code, message: error.message, cause: String(error.cause ?? '') });
    process.exitCode = 1;
  }
  server.close();
});

server.listen(port, '127.0.0.1', () => {
  emit({ event: 'ready', authorization_url: authorizationUrl.href, redirect_uri: redirectUri });
});
