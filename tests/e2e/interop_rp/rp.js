// A relying party we did not write: openid-client 6 (panva, certified, on oauth4webapi), driven
// one step at a time by tests/e2e/test_interop_openid_client.py. Each line on stdin is a JSON
// command {"step": ..., ...}; each answer is one JSON line on stdout. The browser part (the
// identity provider's login, the consent screen) is the Python test's: this process only
// builds the addresses it sends the browser to and reads the address the browser comes back
// to, exactly as a web application would.
//
// Every check is openid-client's own: discovery (issuer), PAR, private_key_jwt assertions,
// DPoP proofs (nonces retried by the library), the authorization response (state, RFC 9207
// iss), the ID token (signature against the broker's JWKS, iss, aud, azp, nonce, exp, iat),
// userinfo (sub matches the ID token's), refresh, revocation, the end-session address.

import { createInterface } from 'node:readline'
import * as client from 'openid-client'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK } from 'jose'

const CLIENT_KEY_ID = 'interop-rp-1'

const rp = {
  // The client's own signing key: the private half never leaves this process.
  clientKeys: await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]),
  dpopKeys: await client.randomDPoPKeyPair('ES256'),
  config: undefined,
  dpop: undefined,
  request: undefined, // the pending authorization request: verifier, state, nonce
  tokens: undefined,
  idToken: undefined,
  sub: undefined,
}

// What went over the wire during the current step, for the test to read: the library's
// requests pass through here unchanged.
const wire = []

async function recordingFetch(url, options) {
  const headers = new Headers(options.headers)
  const body = options.body instanceof URLSearchParams ? options.body : new URLSearchParams()
  const response = await fetch(url, options)
  wire.push({
    method: options.method,
    path: new URL(url).pathname,
    status: response.status,
    authorization: headers.get('authorization')?.split(' ')[0] ?? null,
    client_assertion_type: body.get('client_assertion_type'),
    dpop_proof: describeProof(headers.get('dpop')),
  })
  return response
}

function describeProof(proof) {
  if (!proof) return null
  const { typ, alg, jwk } = decodeProtectedHeader(proof)
  const claims = decodeJwt(proof)
  return {
    typ,
    alg,
    has_jwk: Boolean(jwk),
    htm: claims.htm,
    htu: claims.htu,
    ath: 'ath' in claims,
    nonce: 'nonce' in claims,
  }
}

const steps = {
  // The issuer's discovery document, read and checked by the library; the client
  // authenticates with private_key_jwt (ES256, audience: the issuer).
  async discover({ issuer, client_id, redirect_uri, post_logout_redirect_uri }) {
    rp.config = await client.discovery(
      new URL(issuer),
      client_id,
      {
        redirect_uris: [redirect_uri],
        post_logout_redirect_uris: [post_logout_redirect_uri],
        id_token_signed_response_alg: 'ES256',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        require_auth_time: true,
      },
      client.PrivateKeyJwt({ key: rp.clientKeys.privateKey, kid: CLIENT_KEY_ID }),
      {
        execute: [client.allowInsecureRequests], // the broker listens on loopback http
        [client.customFetch]: recordingFetch,
      },
    )
    // ID tokens from the token endpoint are checked against the broker's JWKS too, not only
    // their claims (openid-client skips the signature unless asked, OIDC Core §3.1.3.7).
    client.enableNonRepudiationChecks(rp.config)
    rp.dpop = client.getDPoPHandle(rp.config, rp.dpopKeys)
    const server = rp.config.serverMetadata()
    return {
      issuer: server.issuer,
      pushed_authorization_request_endpoint: server.pushed_authorization_request_endpoint ?? null,
      dpop_signing_alg_values_supported: server.dpop_signing_alg_values_supported ?? null,
      dpop_jkt: await calculateJwkThumbprint(await exportJWK(rp.dpopKeys.publicKey)),
    }
  },

  // A pushed authorization request (RFC 9126), DPoP-bound (RFC 9449 §10); the answer is the
  // address to send the browser to: client_id and request_uri only.
  async authorize({ scope, redirect_uri, prompt }) {
    const verifier = client.randomPKCECodeVerifier()
    rp.request = { verifier, state: client.randomState(), nonce: client.randomNonce() }
    const parameters = {
      redirect_uri,
      scope,
      state: rp.request.state,
      nonce: rp.request.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(prompt ? { prompt } : {}),
    }
    const url = await client.buildAuthorizationUrlWithPAR(rp.config, parameters, {
      DPoP: rp.dpop,
    })
    return { url: url.href, parameters: [...url.searchParams.keys()].sort() }
  },

  // The browser came back: the library checks the response (state, iss) and redeems the code
  // with the verifier, its assertion and a DPoP proof, then validates the ID token.
  async callback({ url }) {
    const tokens = await client.authorizationCodeGrant(
      rp.config,
      new URL(url),
      {
        pkceCodeVerifier: rp.request.verifier,
        expectedState: rp.request.state,
        expectedNonce: rp.request.nonce,
        idTokenExpected: true,
      },
      undefined,
      { DPoP: rp.dpop },
    )
    rp.tokens = { access_token: tokens.access_token, refresh_token: tokens.refresh_token }
    rp.idToken = tokens.id_token
    const claims = tokens.claims()
    rp.sub = claims.sub
    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, rp.sub, {
      DPoP: rp.dpop,
    })
    return { ...describeTokens(tokens), id_token_claims: claims, userinfo }
  },

  // Refresh with the same DPoP key; the new access token works at userinfo. A refresh token
  // in the answer replaces ours; without one, ours stays in use (RFC 6749 §6).
  async refresh() {
    const previous = rp.tokens
    const tokens = await client.refreshTokenGrant(rp.config, previous.refresh_token, undefined, {
      DPoP: rp.dpop,
    })
    rp.tokens = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token ?? previous.refresh_token,
    }
    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, rp.sub, {
      DPoP: rp.dpop,
    })
    return { ...describeTokens(tokens), userinfo }
  },

  // RFC 7009 for the access token, then for the refresh token; then what the library meets
  // when it uses them again.
  async revoke() {
    const { access_token, refresh_token } = rp.tokens
    await client.tokenRevocation(rp.config, access_token, { token_type_hint: 'access_token' })
    const userinfo = await outcome(() =>
      client.fetchUserInfo(rp.config, access_token, rp.sub, { DPoP: rp.dpop }),
    )
    await client.tokenRevocation(rp.config, refresh_token, { token_type_hint: 'refresh_token' })
    const refresh = await outcome(() =>
      client.refreshTokenGrant(rp.config, refresh_token, undefined, { DPoP: rp.dpop }),
    )
    return { userinfo_after_revocation: userinfo, refresh_after_revocation: refresh }
  },

  // RP-initiated logout: the address to send the browser to.
  async logout({ post_logout_redirect_uri, state }) {
    const url = client.buildEndSessionUrl(rp.config, {
      id_token_hint: rp.idToken,
      post_logout_redirect_uri,
      state,
    })
    return { url: url.href }
  },
}

function describeTokens(tokens) {
  const access = decodeJwt(tokens.access_token)
  return {
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expires_in,
    access_token: tokens.access_token,
    access_token_claims: access,
    refresh_token: tokens.refresh_token ?? null,
  }
}

async function outcome(call) {
  try {
    await call()
    return { ok: true }
  } catch (error) {
    return { ok: false, ...describeError(error) }
  }
}

function describeError(error) {
  const described = { name: error.name, code: error.code ?? null, message: error.message }
  if (error.error) described.error = error.error // OAuth error responses
  if (error.error_description) described.error_description = error.error_description
  if (error.status) described.status = error.status
  if (error instanceof client.WWWAuthenticateChallengeError) described.challenges = error.cause
  return described
}

function answer(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

answer({
  ready: true,
  client_jwk: { ...(await exportJWK(rp.clientKeys.publicKey)), kid: CLIENT_KEY_ID, alg: 'ES256' },
})

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line)
  if (command.step === 'exit') break
  try {
    answer({ ok: true, ...(await steps[command.step](command)), wire: wire.splice(0) })
  } catch (error) {
    answer({ ok: false, step: command.step, ...describeError(error), wire: wire.splice(0) })
  }
}
