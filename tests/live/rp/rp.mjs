// A relying party built on openid-client (OpenID-certified), run by tests/live/test_openid_client.py.
// It discovers voltgate, prints the authorization URL, serves the redirect URI on 127.0.0.1, and
// when the browser lands there completes the flow: code + PKCE, ID token validation, userinfo,
// refresh, revocation. Results go to stdout as one JSON line each; errors exit non-zero.
import http from 'node:http';
import * as client from 'openid-client';

const issuer = new URL(process.env.ISSUER);
const clientId = process.env.CLIENT_ID;
const port = Number(process.env.PORT);
const redirectUri = `http://127.0.0.1:${port}/callback`;
const scope = process.env.SCOPE ?? 'openid offline_access profile email vehicle_device_data';

const emit = (record) => process.stdout.write(JSON.stringify(record) + '\n');

// A public (open_source) client: no secret, PKCE instead; plain http on loopback only.
const config = await client.discovery(issuer, clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
  timeout: 10,
});

const verifier = client.randomPKCECodeVerifier();
const challenge = await client.calculatePKCECodeChallenge(verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope,
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state,
  nonce,
});

async function complete(currentUrl) {
  const tokens = await client.authorizationCodeGrant(config, currentUrl, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  await client.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' });
  return {
    claims,
    userinfo,
    first: { access_token: tokens.access_token, refresh_token: tokens.refresh_token },
    refreshed: { access_token: refreshed.access_token, refresh_token: refreshed.refresh_token },
    scope: tokens.scope,
  };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  if (url.pathname !== '/callback') {
    res.writeHead(404).end();
    return;
  }
  try {
    const result = await complete(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1 id="done">Signed in</h1>');
    emit({ event: 'done', ...result });
    server.close();
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('relying party failed');
    emit({ event: 'error', name: error.name, code: error.code, message: error.message });
    server.close();
    process.exitCode = 1;
  }
});

server.listen(port, '127.0.0.1', () => {
  emit({ event: 'ready', authorization_url: authorizationUrl.href, redirect_uri: redirectUri });
});
