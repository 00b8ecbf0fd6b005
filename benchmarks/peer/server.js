// Reference peer for benchmarks/flows.py: node `oidc-provider` (v9) with its
// built-in development interactions (login + consent pages), one confidential
// client and ES256 ID tokens. Storage: the default in-memory adapter, or with
// `--adapter redis` a Redis adapter (redis_adapter.js, oidc-provider's own
// example Redis adapter on ioredis).
//
//   taskset -c 0 node benchmarks/peer/server.js --port 4000
//   node benchmarks/peer/server.js --port 4000 --adapter redis \
//     --redis-url redis://127.0.0.1:6379/0
//
// Options (argv wins over env):
//   --port P           / PEER_PORT      (default 4000)
//   --host H           / PEER_HOST      (default 127.0.0.1)
//   --client-id ID     / PEER_CLIENT_ID (default "bench")
//   --client-secret S  / PEER_CLIENT_SECRET (default "bench-secret-…")
//   --redirect-uri U   / PEER_REDIRECT_URI (default http://127.0.0.1:9/cb)
//   --adapter A        / PEER_ADAPTER   memory (default) or redis
//   --lru-size N       / PEER_LRU_SIZE  memory adapter only (default: not set,
//                        i.e. oidc-provider's own memory adapter, an LRU of
//                        1,000 entries x 2 generations). When set: the same
//                        MemoryAdapter class, on an LRU of N entries. Used by
//                        the token benchmark (run_flows.py), which mints
//                        thousands of codes before redeeming them: the default
//                        LRU would evict them. Ignored (with a note on stderr)
//                        with --adapter redis, which evicts nothing before TTL.
//   --redis-url URL    / PEER_REDIS_URL redis adapter only (default
//                        redis://127.0.0.1:6379/0; the path is the db number)
//   --redis-prefix P   / PEER_REDIS_PREFIX redis adapter only: key prefix
//                        (default "oidc:", as in the example adapter)
//   --par-dpop         / PEER_PAR_DPOP=1 the client of the FAPI 2.0-shaped flow
//                        (flows.py --flow par-dpop): it must push its
//                        authorization requests (require_pushed_authorization_requests)
//                        and its access tokens are bound to a DPoP key
//                        (dpop_bound_access_tokens); same secret, same
//                        client_secret_basic. DPoP nonces are never required nor
//                        issued (no nonceSecret), as on our side by default.
//   --dpop-nonce       / PEER_DPOP_NONCE=1 require DPoP server nonces (a nonceSecret
//                        made at start): not for the benchmark's rows, only to
//                        check the driver's use_dpop_nonce retry
//   --pivot            / PEER_PIVOT=1   act as an upstream identity provider of
//                        the broker (FranceConnect-style): one scope per
//                        identity-pivot claim (given_name, family_name,
//                        birthdate, gender, birthplace, birthcountry), every
//                        account is the test citizen Angela Claire Louise
//                        DUBOIS, acr eidas1 (tests/e2e/test_interop_oidc_provider.py)
//
// With --adapter redis, one key per stored instance, `<prefix><Model>:<id>`,
// expiring with the instance (plus `grant:`, `uid:` and `userCode:` index
// keys); nothing is flushed at start or at exit. The server connects (PING)
// before listening and exits with status 2 when Redis cannot be reached.
//
// On start it prints one JSON line on stdout:
//   {"ready":true,"issuer":…,"client_id":…,"client_secret":…,"redirect_uri":…,
//    "adapter":"memory"|"redis",…}
// The orchestrator (benchmarks/run_flows.py) waits for that line.
// On SIGTERM/SIGINT it closes the HTTP server and, with --adapter redis, the
// Redis connection (QUIT), then exits.
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
    adapter: { type: 'string' },
    'redis-url': { type: 'string' },
    'redis-prefix': { type: 'string' },
    pivot: { type: 'boolean' },
    'par-dpop': { type: 'boolean' },
    'dpop-nonce': { type: 'boolean' },
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

const adapterName = args.adapter ?? process.env.PEER_ADAPTER ?? 'memory';
if (adapterName !== 'memory' && adapterName !== 'redis') {
  console.error(`invalid adapter: ${adapterName} (memory or redis)`);
  process.exit(2);
}
const redisUrl = args['redis-url'] ?? process.env.PEER_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const redisPrefix = args['redis-prefix'] ?? process.env.PEER_REDIS_PREFIX ?? 'oidc:';

const lruSizeArg = args['lru-size'] ?? process.env.PEER_LRU_SIZE;
let lruSize = lruSizeArg === undefined ? undefined : Number.parseInt(lruSizeArg, 10);
if (lruSize !== undefined && (!Number.isInteger(lruSize) || lruSize < 1)) {
  console.error(`invalid lru size: ${lruSizeArg}`);
  process.exit(2);
}
if (lruSize !== undefined && adapterName !== 'memory') {
  console.error(`note: --lru-size ${lruSize} ignored: it only applies to the memory adapter`);
  lruSize = undefined;
}

// The Redis URL as printed: without its password, if any.
function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '***';
    }
    return u.toString();
  } catch {
    return url;
  }
}

const issuer = `http://${host}:${port}`;
const pivot = Boolean(args.pivot) || process.env.PEER_PIVOT === '1';
const parDpop = Boolean(args['par-dpop']) || process.env.PEER_PAR_DPOP === '1';
const dpopNonce = Boolean(args['dpop-nonce']) || process.env.PEER_DPOP_NONCE === '1';
// The identity pivot as FranceConnect sends it: one scope per claim.
const PIVOT_CLAIMS = ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'];
const ANGELA = {
  given_name: 'Angela Claire Louise',
  family_name: 'DUBOIS',
  birthdate: '1962-08-24',
  gender: 'female',
  birthplace: '75107',
  birthcountry: '99100',
};

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
    scope: pivot ? ['openid', ...PIVOT_CLAIMS].join(' ') : 'openid profile',
    ...(parDpop
      ? { require_pushed_authorization_requests: true, dpop_bound_access_tokens: true }
      : {}),
  }],
  jwks: { keys: [signingJwk] },
  // v9's default only requires PKCE for public clients (and FAPI 2.0), so it
  // is made mandatory here for the confidential client, like on our side.
  // oidc-provider v9 only supports the S256 method.
  pkce: { required: () => true },
  scopes: pivot ? ['openid', ...PIVOT_CLAIMS] : ['openid', 'profile'],
  claims: pivot
    ? { openid: ['sub'], ...Object.fromEntries(PIVOT_CLAIMS.map((c) => [c, [c]])) }
    : {
      openid: ['sub'],
      profile: ['family_name', 'given_name', 'name', 'preferred_username', 'updated_at'],
    },
  ...(pivot ? { acrValues: ['eidas1'] } : {}),
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
  },
  features: {
    devInteractions: { enabled: true }, // built-in login/consent pages
    // Both are v9's defaults, spelt out: pushed requests accepted (required per client with
    // --par-dpop), DPoP proofs accepted and checked (jti replay through the adapter), and,
    // with no nonceSecret, no server nonce ever required or sent (unless --dpop-nonce).
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    dPoP: dpopNonce
      ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true }
      : { enabled: true, requireNonce: () => false },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims(use, scope) {
        if (pivot) {
          return { sub: id, ...ANGELA };
        }
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
  // With --adapter redis, `adapter` is set below.
};

let redis; // the ioredis client, with --adapter redis
let disconnectRedis = async () => {};

if (adapterName === 'redis') {
  const { default: RedisAdapter, connect, disconnect } = await import('./redis_adapter.js');
  redis = connect(redisUrl, { keyPrefix: redisPrefix });
  disconnectRedis = disconnect;
  // Without a listener, ioredis prints "Unhandled error event" for each
  // failed (re)connection attempt. Log each distinct error once in a row.
  let lastRedisError;
  redis.on('error', (err) => {
    if (err.message !== lastRedisError) {
      lastRedisError = err.message;
      console.error('redis error:', err.message);
    }
  });
  redis.on('ready', () => { lastRedisError = undefined; });
  try {
    await redis.ping();
  } catch (err) {
    console.error(`cannot reach Redis at ${redactUrl(redisUrl)}: ${err.message}`);
    redis.disconnect();
    process.exit(2);
  }
  configuration.adapter = RedisAdapter;
} else if (lruSize !== undefined) {
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
    adapter: adapterName,
    pivot,
    par_dpop: parDpop,
    dpop_nonce: dpopNonce,
    ...(adapterName === 'redis'
      ? { redis_url: redactUrl(redisUrl), redis_prefix: redisPrefix }
      : { lru_size: lruSize ?? 'default' }),
    pid: process.pid,
    node: process.version,
  })}\n`);
});
server.keepAliveTimeout = 75_000;
server.headersTimeout = 76_000;

let stopping = false;
const stop = () => {
  if (stopping) {
    return;
  }
  stopping = true;
  server.close(async () => {
    try {
      await disconnectRedis(); // QUIT: waits for the replies still pending
    } catch (err) {
      console.error('redis quit:', err.message);
    }
    process.exit(0);
  });
  server.closeAllConnections?.();
  setTimeout(() => {
    redis?.disconnect();
    process.exit(0);
  }, 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
