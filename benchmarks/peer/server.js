// Reference peer for benchmarks/flows.py: node `oidc-provider` (v9) with its
// built-in development interactions (login + consent pages), the default
// in-memory storage adapter, one confidential client and ES256 ID tokens.
//
//   taskset -c 0 node benchmarks/peer/server.js --port 4000
//
// Options (argv wins over env):
//   --port P           / PEER_PORT      (default 4000)
//   --host H           / PEER_HOST      (default 127.0.0.1)
//   --client-id ID     / PEER_CLIENT_ID (default "bench")
//   --client-secret S  / PEER_CLIENT_SECRET (default "bench-secret-…")
//   --redirect-uri U   / PEER_REDIRECT_URI (default http://127.0.0.1:9/cb)
//   --lru-size N       / PEER_LRU_SIZE  (default: not set, i.e. oidc-provider's
//                        own memory adapter, an LRU of 1,000 entries x 2
//                        generations). When set: the same MemoryAdapter class,
//                        on an LRU of N entries. Used by the token benchmark
//                        (run_flows.py), which mints thousands of codes before
//                        redeeming them: the default LRU would evict them.
//
// On start it prints one JSON line on stdout:
//   {"ready":true,"issuer":…,"client_id":…,"client_secret":…,"redirect_uri":…}
// The orchestrator (benchmarks/run_flows.py) waits for that line.
//
// Nothing here is meant for production: the dev interactions accept any login
// and do not check the password at all.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    'lru-size': { type: 'string' },
  },
  strict: true,
});

const host = args.host ?? process.env.PEER_HOST ?? '127.0.0.1';
const port = Number.parseInt(args.port ?? process.env.PEER_PORT ?? '4000', 10);
const clientId = args['client-id'] ?? process.env.PEER_CLIENT_ID ?? 'bench';
const clientSecret = args['client-secret'] ?? process.env.PEER_CLIENT_SECRET
  ?? 'bench-secret-0123456789abcdef0123456789abcdef';
const redirectUri = args['redirect-uri'] ?? process.env.PEER_REDIRECT_URI ?? 'http://127.0.0.1:9/cb';

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`invalid port: ${args.port ?? process.env.PEER_PORT}`);
  process.exit(2);
}

const lruSizeArg = args['lru-size'] ?? process.env.PEER_LRU_SIZE;
const lruSize = lruSizeArg === undefined ? undefined : Number.parseInt(lruSizeArg, 10);
if (lruSize !== undefined && (!Number.isInteger(lruSize) || lruSize < 1)) {
  console.error(`invalid lru size: ${lruSizeArg}`);
  process.exit(2);
}

const issuer = `http://${host}:${port}`;

// Fresh P-256 key at every start: ID tokens are signed with ES256, as ours are.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `bench-${randomBytes(6).toString('hex')}`,
  alg: 'ES256',
  use: 'sig',
};

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    scope: 'openid profile',
  }],
  jwks: { keys: [signingJwk] },
  // v9's default only requires PKCE for public clients (and FAPI 2.0), so it
  // is made mandatory here for the confidential client, like on our side.
  // oidc-provider v9 only supports the S256 method.
  pkce: { required: () => true },
  scopes: ['openid', 'profile'],
  claims: {
    openid: ['sub'],
    profile: ['family_name', 'given_name', 'name', 'preferred_username', 'updated_at'],
  },
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
  },
  features: {
    devInteractions: { enabled: true }, // built-in login/consent pages
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims(use, scope) {
        return {
          sub: id,
          family_name: 'Dupont',
          given_name: 'Camille',
          name: 'Camille Dupont',
          preferred_username: id,
          updated_at: 1700000000,
        };
      },
    };
  },
  // Default in-memory adapter (no `adapter` key): nothing is persisted.
};

if (lruSize !== undefined) {
  // The library's own memory adapter and LRU, only bigger (deep imports: the
  // package has no "exports" map). clockTolerance 15 is the library default,
  // which the default adapter receives too.
  const { default: MemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
  const { default: LRU } = await import('oidc-provider/lib/helpers/lru.js');
  const store = new LRU({ maxSize: lruSize });
  configuration.adapter = (model) => new MemoryAdapter(model, store, 15);
}

const provider = new Provider(issuer, configuration);
// Stay quiet: no per-request logging. Server errors go to stderr.
provider.on('server_error', (ctx, err) => {
  console.error('server_error', err);
});

const server = provider.listen(port, host, () => {
  process.stdout.write(`${JSON.stringify({
    ready: true,
    issuer,
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uri: redirectUri,
    lru_size: lruSize ?? 'default',
    pid: process.pid,
    node: process.version,
  })}\n`);
});
server.keepAliveTimeout = 75_000;
server.headersTimeout = 76_000;

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
