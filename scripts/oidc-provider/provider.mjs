// A real OpenID provider on loopback for the test suite (started by scripts/with-test-services.sh).
//
// The certified `oidc-provider` package with its own login page (login + password), two
// clients and a handful of test people. Consent is implied for these first-party clients.
// Usage: PORT=12345 node provider.mjs   (prints "listening" when ready)
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const CALLBACK_PATH = '/sign-in/organisation/callback/';
const LOGOUT_PATH = '/sign-in/';
// The suite's servers: Django's test client ("testserver") and live servers on loopback.
const TEST_HOSTS = new Set(['testserver', '127.0.0.1', 'localhost']);

export const ACR_MFA = 'urn:test:mfa';

// sub -> person. amr/acr say how they sign in here.
const people = {
  'alice-sub': { login: 'alice', password: 'alice-password', email: 'alice@council-a.test',
    email_verified: true, name: 'Alice Council', amr: ['pwd', 'mfa'] },
  'bob-sub': { login: 'bob', password: 'bob-password', email: 'bob@council-a.test',
    email_verified: true, name: 'Bob Council', amr: ['pwd'] },
  'ada-sub': { login: 'ada', password: 'ada-password', email: 'ada@council-a.test',
    email_verified: true, name: 'Ada Acr', amr: ['pwd'], acr: ACR_MFA },
  'una-sub': { login: 'una', password: 'una-password', email: 'una@council-a.test',
    email_verified: false, name: 'Una Unverified', amr: ['pwd', 'mfa'] },
  'olly-sub': { login: 'olly', password: 'olly-password', email: 'olly@elsewhere.test',
    email_verified: true, name: 'Olly Otherdomain', amr: ['pwd', 'mfa'] },
  'nia-sub': { login: 'nia', password: 'nia-password', email: 'nia@council-a.test',
    email_verified: true, name: 'Nia New', amr: ['pwd', 'mfa'] },
  'cara-sub': { login: 'cara', password: 'cara-password', email: 'cara@icb-b.test',
    email_verified: true, name: 'Cara ICB', amr: ['pwd', 'mfa'] },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [
    { client_id: 'council-a', client_secret: 'council-a-secret',
      redirect_uris: [`http://testserver${CALLBACK_PATH}`],
      post_logout_redirect_uris: [`http://testserver${LOGOUT_PATH}`] },
    { client_id: 'icb-b', client_secret: 'icb-b-secret',
      redirect_uris: [`http://testserver${CALLBACK_PATH}`],
      post_logout_redirect_uris: [`http://testserver${LOGOUT_PATH}`] },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['test-only-cookie-key'] },
  acrValues: [ACR_MFA, 'urn:test:pwd'],
  // How the person signed in (acr, amr) travels with the openid scope, as Entra ID sends it.
  claims: { sid: null, iss: null, openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'], profile: ['name'] },
  // ID tokens carry the claims (as Entra ID's do), so no userinfo call is needed.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const person = people[sub];
    if (!person) return undefined;
    return {
      accountId: sub,
      claims: async () => ({ sub, email: person.email, email_verified: person.email_verified,
        name: person.name }),
    };
  },
  async loadExistingGrant(ctx) {
    // First-party clients: consent is implied for what they ask.
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Error</title><h1>Sign-in error</h1><p id="error">${out.error}</p>`;
  },
};

const provider = new Provider(issuer, configuration);
// Redirect and logout addresses are allowed on any port of the suite's hosts: live servers
// take a random port.
const allowed = (value, path) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && TEST_HOSTS.has(url.hostname) && url.pathname === path;
  } catch { return false; }
};
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return allowed(value, CALLBACK_PATH);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutAllowed(value) {
  return allowed(value, LOGOUT_PATH);
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider: sign in</h1>
${error ? `<p role="alert" id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Username</label> <input id="login" name="login" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(new URL(req.url, issuer).pathname);
  if (!match) { callback(req, res); return; }
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') {
      await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'POST' && match[2]) {
      const form = await readForm(req);
      const entry = Object.entries(people).find(([, p]) => p.login === form.get('login'));
      if (!entry || entry[1].password !== form.get('password')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(loginPage(details.uid, 'Wrong username or password'));
        return;
      }
      const [sub, person] = entry;
      await provider.interactionFinished(req, res, {
        login: { accountId: sub, amr: person.amr, acr: person.acr || 'urn:test:pwd' },
      }, { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(loginPage(details.uid));
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction error: ${error.message}`);
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${issuer}`);
});
