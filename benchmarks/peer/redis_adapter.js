// Redis storage adapter for oidc-provider, used by server.js with
// `--adapter redis`.
//
// This is oidc-provider's own example Redis adapter, kept as close to it as
// possible: example/adapters/redis.js in panva/node-oidc-provider (last
// version in the repository at commit 3c5ebe10, v8/v9 ESM; removed from the
// repository in 2025 and since published in the project's GitHub Discussions,
// "Example Redis adapter implementation", #1309). The adapter API it implements
// is documented in the repository's example/my_adapter.js.
//
// As in the example:
//   * one key per model instance, `<Model>:<id>`, with the instance's TTL
//     (`expiresIn`, seconds);
//   * payloads are JSON strings (SET), except for consumable models, which are
//     hashes (HMSET) whose `payload` field is the JSON string, so that
//     `consume` can add a `consumed` field (HSET, epoch seconds) in place;
//   * grantable models are indexed by grantId in a list, `grant:<grantId>`,
//     whose TTL is raised to the longest member's; `revokeByGrantId` deletes
//     every listed key and the list;
//   * the `userCode` index (`userCode:<userCode>`, DeviceCode) and the `uid`
//     index (`uid:<uid>`, Session) map to the instance's id, with its TTL;
//   * every key carries ioredis' `keyPrefix` ('oidc:' in the example, here
//     `--redis-prefix`, default 'oidc:').
//
// Deviations from the example, and why:
//   * the client is not created at import time from process.env.REDIS_URL with
//     a fixed 'oidc:' prefix: server.js calls connect(url, { keyPrefix }) once,
//     before the provider is created, and disconnect() on shutdown. The class
//     itself uses the module's client exactly like the example does;
//   * lodash's isEmpty is replaced by an equivalent local function (lodash is
//     not a dependency of oidc-provider 9 nor of this package);
//   * the `grantable` and `consumable` sets also list the models added to
//     oidc-provider after the example was written: PreAuthorizedCode (grantable
//     and consumable; grantable like in oidc-provider 9's own memory adapter)
//     and PushedAuthorizationRequest (consumable: PAR is enabled by default in
//     v9 and the request object is consumed at the authorization endpoint;
//     stored as a string, its `consume` would fail with WRONGTYPE);
//   * the example's comment says `npm i ioredis@^4.0.0`; ioredis 4 is no longer
//     maintained, package.json pins ioredis 5, whose API is the same for every
//     command used here (and which, like 4, speaks RESP2 by default).

import Redis from 'ioredis';

let client;

export function connect(url, { keyPrefix = 'oidc:' } = {}) {
  client = new Redis(url, { keyPrefix });
  return client;
}

export async function disconnect() {
  if (client) {
    const c = client;
    client = undefined;
    await c.quit();
  }
}

// lodash/isEmpty for the values find() can get back: null (GET on a missing
// key), {} (HGETALL on a missing key) or a string.
function isEmpty(value) {
  if (value == null) {
    return true;
  }
  if (typeof value === 'string') {
    return value.length === 0;
  }
  return Object.keys(value).length === 0;
}

const grantable = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode', // not in the example: added to oidc-provider later
]);

const consumable = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode', // not in the example: added to oidc-provider later
  'PushedAuthorizationRequest', // not in the example: consumed in oidc-provider 9
]);

function grantKeyFor(id) {
  return `grant:${id}`;
}

function userCodeKeyFor(userCode) {
  return `userCode:${userCode}`;
}

function uidKeyFor(uid) {
  return `uid:${uid}`;
}

class RedisAdapter {
  constructor(name) {
    this.name = name;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const store = consumable.has(this.name)
      ? { payload: JSON.stringify(payload) } : JSON.stringify(payload);

    const multi = client.multi();
    multi[consumable.has(this.name) ? 'hmset' : 'set'](key, store);

    if (expiresIn) {
      multi.expire(key, expiresIn);
    }

    if (grantable.has(this.name) && payload.grantId) {
      const grantKey = grantKeyFor(payload.grantId);
      multi.rpush(grantKey, key);
      // if you're seeing grant key lists growing out of acceptable proportions consider using LTRIM
      // here to trim the list to an appropriate length
      const ttl = await client.ttl(grantKey);
      if (expiresIn > ttl) {
        multi.expire(grantKey, expiresIn);
      }
    }

    if (payload.userCode) {
      const userCodeKey = userCodeKeyFor(payload.userCode);
      multi.set(userCodeKey, id);
      multi.expire(userCodeKey, expiresIn);
    }

    if (payload.uid) {
      const uidKey = uidKeyFor(payload.uid);
      multi.set(uidKey, id);
      multi.expire(uidKey, expiresIn);
    }

    await multi.exec();
  }

  async find(id) {
    const data = consumable.has(this.name)
      ? await client.hgetall(this.key(id))
      : await client.get(this.key(id));

    if (isEmpty(data)) {
      return undefined;
    }

    if (typeof data === 'string') {
      return JSON.parse(data);
    }
    const { payload, ...rest } = data;
    return {
      ...rest,
      ...JSON.parse(payload),
    };
  }

  async findByUid(uid) {
    const id = await client.get(uidKeyFor(uid));
    return this.find(id);
  }

  async findByUserCode(userCode) {
    const id = await client.get(userCodeKeyFor(userCode));
    return this.find(id);
  }

  async destroy(id) {
    const key = this.key(id);
    await client.del(key);
  }

  async revokeByGrantId(grantId) { // eslint-disable-line class-methods-use-this
    const multi = client.multi();
    const tokens = await client.lrange(grantKeyFor(grantId), 0, -1);
    tokens.forEach((token) => multi.del(token));
    multi.del(grantKeyFor(grantId));
    await multi.exec();
  }

  async consume(id) {
    await client.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
  }

  key(id) {
    return `${this.name}:${id}`;
  }
}

export default RedisAdapter;
