"""The demo online service: a town hall's school-canteen pricing page that signs citizens in
through the broker. It is a relying party like any other and uses Authlib's client (PKCE S256,
private_key_jwt) and joserfc to verify the ID token, never the broker's own protocol code.

It also receives the broker's consent events (RFC 8417 SETs pushed per RFC 8935) at
``/backchannel/consent-events`` and shows them to the citizen they concern."""

from __future__ import annotations

import json
import secrets
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from jinja2 import DictLoader, Environment, select_autoescape
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from litestar import Litestar, Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Response

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib nudges towards httpx2; the design card fixes httpx
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from broker.demo.seed import DEMO_DATA_SCOPES, DEMO_SCOPE, NOTIFICATION_PATH

COOKIE = "cantine_session"
SET_MEDIA_TYPE = "application/secevent+jwt"
EVENTS_NAMESPACE = "https://consent-broker.example/events/"
EVENT_KINDS = {
    EVENTS_NAMESPACE + "consent-revoked": "revoked",
    EVENTS_NAMESPACE + "consent-narrowed": "narrowed",
    EVENTS_NAMESPACE + "consent-expired": "expired",
}
ITEM_LABELS = {
    "cnaf_quotient_familial": "votre quotient familial",
    "cnaf_allocataires": "l'identité des allocataires",
    "cnaf_adresse": "votre adresse connue de la CAF",
}
PARIS = ZoneInfo("Europe/Paris")
PAGES = {
    "layout": """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} – Mairie de Villebourg</title><link rel="stylesheet" href="/style.css"></head>
<body><header><p class="town">Mairie de Villebourg</p><p>Restauration scolaire</p></header>
<main>{% block main %}{% endblock %}</main>
<footer>Service de démonstration : aucune donnée réelle.</footer></body></html>""",
    "home": """{% extends "layout" %}{% block main %}<h1>Tarifs de la cantine scolaire</h1>
<p>Le prix du repas dépend de la situation de votre foyer. Plutôt que d'envoyer des justificatifs,
connectez-vous : avec votre accord, la mairie reçoit directement les informations utiles.</p>
<p><a class="button" href="/login">Se connecter avec le courtier de consentement</a></p>
{% endblock %}""",
    "welcome": """{% extends "layout" %}{% block main %}<h1>Bonjour {{ claims.given_name or "" }}
{{ claims.family_name or "" }}</h1><p>Vous êtes connecté(e) au service de la cantine.</p>
<table><caption>Informations reçues de l'administration</caption>
{% for name, value in claims.items() %}<tr><th scope="row">{{ name }}</th><td data-claim="{{ name }}">{{ value }}</td></tr>{% endfor %}
</table><p>Niveau d'authentification : <span data-acr>{{ acr }}</span></p>
{% if events %}<section aria-labelledby="accord"><h2 id="accord">Votre accord</h2><ul>
{% for event in events %}<li data-consent-event="{{ event.kind }}">{{ event.message }}</li>{% endfor %}
</ul></section>{% endif %}
{% if refreshed %}<p data-refreshed>Données actualisées le {{ refreshed }}.</p>{% endif %}
{% if data.refused %}<p role="alert" data-refused="{{ data.refused.code }}">L'API de données a
refusé de répondre (code <code>{{ data.refused.code }}</code>{% if data.refused.title %} :
{{ data.refused.title }}{% endif %}). Si vous avez retiré votre accord, la mairie ne reçoit plus
vos informations : reconnectez-vous pour le donner à nouveau.</p>{% endif %}
<section aria-labelledby="tarif"><h2 id="tarif">Votre tarif</h2>
{% if quotient is not none %}<div data-scope="cnaf_quotient_familial"><p>Quotient familial ({{ quotient.fournisseur }}, {{ quotient.mois }}/{{ quotient.annee }}) :
<strong data-quotient>{{ quotient.valeur }}</strong>.</p></div>
<p>Prix du repas : <strong data-price>{{ price }}</strong>.</p>
{% else %}<p data-no-quotient>{{ data.problem }}</p>{% endif %}</section>
{% if "cnaf_allocataires" in shown %}<section data-scope="cnaf_allocataires" aria-labelledby="alloc">
<h2 id="alloc">Allocataires du dossier CAF</h2><ul>{% for person in shown.cnaf_allocataires %}
<li>{{ person.prenoms }} {{ person.nom_usage or person.nom_naissance }}{% if person.date_naissance %}, né(e) le {{ person.date_naissance | french_date }}{% endif %}</li>
{% else %}<li>Aucun allocataire transmis.</li>{% endfor %}</ul></section>{% endif %}
{% if "cnaf_adresse" in shown %}<section data-scope="cnaf_adresse" aria-labelledby="adresse">
<h2 id="adresse">Adresse connue de la CAF</h2><address>{% for line in shown.cnaf_adresse %}{{ line }}<br>{% endfor %}</address></section>{% endif %}
<p><a class="button" href="/refresh">Actualiser mes données</a></p>
<p><a href="/">Retour à l'accueil</a></p>{% endblock %}""",
    "problem": """{% extends "layout" %}{% block main %}<h1>{{ title }}</h1><p>{{ message }}</p>
<p>Code : <code data-error>{{ error }}</code></p><p><a href="/">Retour à l'accueil</a></p>
{% endblock %}""",
}
CSS = """body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafaf7}
header{background:#5a2d0c;color:#fff;padding:1rem 2rem}header p{margin:0}.town{font-weight:700}
main{max-width:44rem;margin:2rem auto;padding:0 1rem}footer{text-align:center;color:#555;padding:2rem}
.button{display:inline-block;background:#5a2d0c;color:#fff;padding:.75rem 1.25rem;text-decoration:none;border-radius:4px}
.button:focus{outline:3px solid #e6a100;outline-offset:2px}table{border-collapse:collapse}
th,td{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #ddd}
[role=alert]{border-left:4px solid #b00020;padding:.5rem 1rem;background:#fff0f0}"""


class EventRejected(Exception):
    """RFC 8935 §2.4: the SET is refused; ``err`` is one of its error codes."""

    def __init__(self, err: str, description: str) -> None:
        super().__init__(description)
        self.err, self.description = err, description


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    private_key: ECKey
    base_url: str
    data_api_url: str = ""
    transport: httpx.AsyncBaseTransport | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by pairwise sub
    seen_jtis: set[str] = field(default_factory=set)
    jwks: KeySet | None = None
    jwks_fetched_at: float = 0.0

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    @property
    def notification_uri(self) -> str:
        return f"{self.base_url}{NOTIFICATION_PATH}"

    def client(self) -> AsyncOAuth2Client:
        client = AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.private_key,
            scope=DEMO_SCOPE,
            redirect_uri=self.redirect_uri,
            token_endpoint_auth_method="private_key_jwt",
            code_challenge_method="S256",
            transport=self.transport,
            timeout=10,
        )
        client.register_client_auth_method(
            PrivateKeyJWT(self.metadata["token_endpoint"], alg="ES256")
        )
        return client

    async def discover(self) -> None:
        if self.metadata:
            return
        async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
            response = await http.get(f"{self.issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            self.metadata = response.json()

    async def broker_keys(self, kid: str | None = None) -> KeySet:
        """The broker's JWKS, fetched again when a token names an unknown key (a rotation),
        at most every 5 seconds."""
        known = self.jwks is not None and any(key.kid == kid for key in self.jwks.keys)
        if self.jwks is None or (not known and time.monotonic() - self.jwks_fetched_at > 5):
            await self.discover()
            async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
                response = await http.get(self.metadata["jwks_uri"])
                response.raise_for_status()
                self.jwks = KeySet.import_key_set(response.json())
            self.jwks_fetched_at = time.monotonic()
        return self.jwks

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = await self.broker_keys(_header(id_token).get("kid"))
        token = jwt.decode(id_token, keys, algorithms=["ES256", "RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
        return token.claims

    async def receive_event(self, token: str) -> dict[str, Any]:
        """Verifies a consent SET and records it for its ``sub``; a duplicate ``jti`` is
        accepted again but recorded once (RFC 8935 §2)."""
        header = _header(token)
        if header.get("typ", "").lower().removeprefix("application/") != "secevent+jwt":
            raise EventRejected("invalid_request", "typ must be secevent+jwt")
        try:
            keys = await self.broker_keys(header.get("kid"))
            claims = jwt.decode(token, keys, algorithms=["ES256", "RS256"]).claims
        except httpx.HTTPError:
            raise
        except (JoseError, ValueError) as exc:
            raise EventRejected("invalid_key", f"signature not verified: {exc}") from None
        if claims.get("iss") != self.issuer:
            raise EventRejected("invalid_issuer", "iss is not this service's broker")
        audience = claims.get("aud")
        if self.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise EventRejected("invalid_audience", "aud is not this service")
        events = claims.get("events")
        known = (
            {
                EVENT_KINDS[uri]: payload
                for uri, payload in events.items()
                if uri in EVENT_KINDS and isinstance(payload, dict)
            }
            if isinstance(events, dict)
            else {}
        )
        if (
            not known
            or not all(isinstance(claims.get(c), str) for c in ("jti", "sub"))
            or not isinstance(claims.get("iat"), int)
        ):
            raise EventRejected("invalid_request", "not a consent event (jti, iat, sub, events)")
        if claims["jti"] not in self.seen_jtis:
            self.seen_jtis.add(claims["jti"])
            for kind, payload in known.items():
                self.events.setdefault(claims["sub"], []).append(
                    {
                        "kind": kind,
                        "at": claims["iat"],
                        "consent_id": claims.get("consent_id"),
                        "scopes": list(payload.get("scopes") or []),
                        "reason": payload.get("reason"),
                    }
                )
        return claims


def _header(token: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError):
        return {}


def french_date(value: str) -> str:
    """``1962-08-24`` as ``24/08/1962``; anything else as it is."""
    parts = str(value).split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 and all(parts) else str(value)


def event_message(event: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(event["at"], PARIS).strftime("%d/%m/%Y à %H:%M")
    if event["kind"] == "narrowed":
        items = ", ".join(ITEM_LABELS.get(s, s) for s in event["scopes"])
        return f"Vous avez retiré votre accord pour {items} le {when}."
    if event["kind"] == "expired":
        return f"Votre accord est arrivé à échéance le {when}."
    return f"Votre accord a été retiré le {when}."


# Meal price by family quotient (upper bound of each bracket, price in euros).
PRICE_BRACKETS = ((400, "0,50 €"), (700, "1,20 €"), (1000, "2,10 €"), (1500, "3,00 €"))
FULL_PRICE = "4,20 €"


def meal_price(quotient: int) -> str:
    return next((price for bound, price in PRICE_BRACKETS if quotient <= bound), FULL_PRICE)


@dataclass
class DataResult:
    data: dict[str, Any] | None = None  # ``data`` of the data API's answer
    problem: str = ""  # why there is no family quotient, in French
    refused: dict[str, str] | None = None  # 401/403: the JSON:API error code and title


async def family_data(rp: RelyingParty, access_token: str) -> DataResult:
    """The CAF data from the data API (the family quotient, and the optional items the token
    carries), or why there is none."""
    if not rp.data_api_url:
        return DataResult(problem="Le service n'est pas relié à l'API de données : tarif plein.")
    url = f"{rp.data_api_url}/v3/dss/quotient_familial/france_connect"
    try:
        async with httpx.AsyncClient(transport=rp.transport, timeout=15) as http:
            response = await http.get(url, headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError:
        return DataResult(
            problem="L'API de données est injoignable : réessayez plus tard, ou tarif plein."
        )
    if response.status_code == 200:
        return DataResult(data=response.json()["data"])
    try:
        error = response.json()["errors"][0]
        detail, code, title = error["detail"], str(error["code"]), error.get("title", "")
    except (ValueError, KeyError, IndexError, TypeError):
        detail, code, title = f"réponse {response.status_code}", str(response.status_code), ""
    refused = {"code": code, "title": title} if response.status_code in (401, 403) else None
    return DataResult(
        problem=f"Quotient familial indisponible ({detail}) : tarif plein ({FULL_PRICE}).",
        refused=refused,
    )


def shown_items(result: DataResult, granted: set[str]) -> dict[str, Any]:
    """The optional items to show: only those granted (the token's scope) and received."""
    data, shown = result.data or {}, {}
    if "cnaf_allocataires" in granted and isinstance(data.get("allocataires"), list):
        shown["cnaf_allocataires"] = data["allocataires"]
    if "cnaf_adresse" in granted and isinstance(data.get("adresse"), dict):
        shown["cnaf_adresse"] = [
            line
            for line in (
                data["adresse"].get(k)
                for k in (
                    "destinataire",
                    "complement_information",
                    "complement_information_geographique",
                    "numero_libelle_voie",
                    "lieu_dit",
                    "code_postal_ville",
                    "pays",
                )
            )
            if line
        ]
    return shown


def create_service_app(rp: RelyingParty) -> Litestar:
    env = Environment(loader=DictLoader(PAGES), autoescape=select_autoescape(default=True))
    env.filters["french_date"] = french_date

    def html(name: str, status: int = 200, **context: Any) -> Response:
        return Response(
            env.get_template(name).render(**context), status_code=status, media_type="text/html"
        )

    async def welcome(session: dict[str, Any], refreshed: bool = False) -> Response:
        result = await family_data(rp, session["access_token"])
        granted = session["granted"]
        quotient = (
            (result.data or {}).get("quotient_familial")
            if "cnaf_quotient_familial" in granted
            else None
        )
        price = meal_price(quotient["valeur"]) if quotient else FULL_PRICE
        if result.data is not None and quotient is None:
            result.problem = f"Quotient familial non transmis : tarif plein ({FULL_PRICE})."
        events = [
            {"kind": e["kind"], "message": event_message(e)}
            for e in rp.events.get(session["claims"].get("sub"), [])
            if e["at"] >= session["at"] and e["reason"] != "replaced"
        ]
        when = datetime.now(PARIS).strftime("%d/%m/%Y à %H:%M:%S") if refreshed else None
        return html(
            "welcome",
            title="Bienvenue",
            claims=session["claims"],
            acr=session["acr"],
            quotient=quotient,
            price=price,
            data=result,
            shown=shown_items(result, granted),
            events=events,
            refreshed=when,
        )

    @get("/")
    async def home() -> Response:
        return html("home", title="Tarifs de la cantine")

    @get("/style.css")
    async def style() -> Response:
        return Response(CSS, media_type="text/css")

    @get("/login")
    async def login() -> Redirect:
        await rp.discover()
        verifier, state, nonce = (
            secrets.token_urlsafe(48),
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(16),
        )
        async with rp.client() as client:
            url, _ = client.create_authorization_url(
                rp.metadata["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
            )
        rp.pending[state] = {"verifier": verifier, "nonce": nonce}
        return Redirect(path=url, status_code=302)

    @get("/callback")
    async def callback(request: Request) -> Response:
        params = request.query_params
        pending = rp.pending.pop(params.get("state", ""), None)
        if pending is None:
            return html(
                "problem",
                400,
                title="Session inconnue",
                error="invalid_state",
                message="Cette réponse ne correspond à aucune connexion en cours.",
            )
        if params.get("iss") != rp.issuer:
            return html(
                "problem",
                400,
                title="Émetteur inattendu",
                error="invalid_issuer",
                message="La réponse ne vient pas du courtier attendu (RFC 9207).",
            )
        if params.get("error"):
            refused = params["error"] == "access_denied"
            return html(
                "problem",
                403 if refused else 400,
                error=params["error"],
                title="Connexion refusée" if refused else "Connexion impossible",
                message="Vous n'avez pas donné votre accord : aucune donnée n'a été transmise."
                if refused
                else "Le courtier a signalé une erreur.",
            )
        try:
            async with rp.client() as client:
                token = await client.fetch_token(
                    rp.metadata["token_endpoint"],
                    code=params.get("code"),
                    code_verifier=pending["verifier"],
                )
                id_claims = await rp.verify_id_token(token["id_token"], pending["nonce"])
                userinfo = (await client.get(rp.metadata["userinfo_endpoint"])).json()
        except (httpx.HTTPError, JoseError, KeyError, ValueError) as exc:
            return html(
                "problem",
                502,
                title="Connexion impossible",
                error=type(exc).__name__,
                message="L'échange avec le courtier a échoué.",
            )
        if userinfo.get("sub") != id_claims["sub"]:
            return html(
                "problem",
                502,
                title="Réponse incohérente",
                error="sub_mismatch",
                message="Les informations reçues ne concernent pas la même personne.",
            )
        # RFC 6749 §5.1: no scope in the response means the requested one was granted.
        granted = set(str(token.get("scope") or DEMO_SCOPE).split()) & set(DEMO_DATA_SCOPES)
        session_id = secrets.token_urlsafe(24)
        session = rp.sessions[session_id] = {
            "claims": userinfo,
            "acr": id_claims.get("acr"),
            "at": int(time.time()),
            "access_token": token["access_token"],
            "granted": granted,
        }
        response = await welcome(session)
        response.cookies.append(Cookie(key=COOKIE, value=session_id, httponly=True, samesite="lax"))
        return response

    @get("/refresh")
    async def refresh(request: Request) -> Response:
        """The data again, with the access token of the sign-in: refused once consent ends."""
        session = rp.sessions.get(request.cookies.get(COOKIE, ""))
        if session is None:
            return html(
                "problem",
                401,
                title="Session expirée",
                error="no_session",
                message="Reconnectez-vous pour consulter vos informations.",
            )
        return await welcome(session, refreshed=True)

    @post(NOTIFICATION_PATH, request_max_body_size=16_384)
    async def consent_events(request: Request) -> Response:
        """RFC 8935 push delivery: 202 once verified and recorded, 400 with ``err`` else."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if media_type != SET_MEDIA_TYPE:
                raise EventRejected("invalid_request", f"Content-Type must be {SET_MEDIA_TYPE}")
            await rp.receive_event((await request.body()).decode("ascii", "replace").strip())
        except EventRejected as exc:
            return Response(
                json.dumps({"err": exc.err, "description": exc.description}),
                status_code=400,
                media_type="application/json",
            )
        except httpx.HTTPError:  # the broker's keys are unreachable: the broker retries
            return Response(b"", status_code=503)
        return Response(b"", status_code=202)

    return Litestar(
        route_handlers=[home, style, login, callback, refresh, consent_events],
        debug=False,
        logging_config=None,
    )
