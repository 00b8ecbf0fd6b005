"""The demo online service: a town hall's school-canteen pricing page that signs citizens in
through the broker. It is a relying party like any other and uses Authlib's client (PKCE S256,
private_key_jwt) and joserfc to verify the ID token, never the broker's own protocol code."""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
from jinja2 import DictLoader, Environment, select_autoescape
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from litestar import Litestar, Request, get
from litestar.datastructures import Cookie
from litestar.response import Redirect, Response

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib nudges towards httpx2; the design card fixes httpx
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from broker.demo.seed import DEMO_SCOPE

COOKIE = "cantine_session"
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
<section aria-labelledby="tarif"><h2 id="tarif">Votre tarif</h2>
{% if quotient is not none %}<p>Quotient familial ({{ quotient.fournisseur }}, {{ quotient.mois }}/{{ quotient.annee }}) :
<strong data-quotient>{{ quotient.valeur }}</strong>.</p>
<p>Prix du repas : <strong data-price>{{ price }}</strong>.</p>
{% else %}<p data-no-quotient>{{ quotient_problem }}</p>{% endif %}</section>
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
th,td{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #ddd}"""


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

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    def client(self) -> AsyncOAuth2Client:
        client = AsyncOAuth2Client(
            client_id=self.client_id, client_secret=self.private_key, scope=DEMO_SCOPE,
            redirect_uri=self.redirect_uri, token_endpoint_auth_method="private_key_jwt",
            code_challenge_method="S256", transport=self.transport, timeout=10,
        )
        client.register_client_auth_method(
            PrivateKeyJWT(self.metadata["token_endpoint"], alg="ES256"))
        return client

    async def discover(self) -> None:
        if self.metadata:
            return
        async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
            response = await http.get(f"{self.issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            self.metadata = response.json()

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
            jwks = (await http.get(self.metadata["jwks_uri"])).json()
        token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["ES256", "RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
        return token.claims


# Meal price by family quotient (upper bound of each bracket, price in euros).
PRICE_BRACKETS = ((400, "0,50 €"), (700, "1,20 €"), (1000, "2,10 €"), (1500, "3,00 €"))
FULL_PRICE = "4,20 €"


def meal_price(quotient: int) -> str:
    return next((price for bound, price in PRICE_BRACKETS if quotient <= bound), FULL_PRICE)


async def family_quotient(rp: RelyingParty, access_token: str) -> tuple[dict | None, str]:
    """The family quotient from the data API, or why there is none (the problem, in French)."""
    if not rp.data_api_url:
        return None, "Le service n'est pas relié à l'API de données : tarif plein."
    url = f"{rp.data_api_url}/v3/dss/quotient_familial/france_connect"
    try:
        async with httpx.AsyncClient(transport=rp.transport, timeout=15) as http:
            response = await http.get(url, headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError:
        return None, "L'API de données est injoignable : réessayez plus tard, ou tarif plein."
    if response.status_code == 200:
        return response.json()["data"].get("quotient_familial"), ""
    try:
        detail = response.json()["errors"][0]["detail"]
    except (ValueError, KeyError, IndexError, TypeError):
        detail = f"réponse {response.status_code}"
    return None, f"Quotient familial indisponible ({detail}) : tarif plein ({FULL_PRICE})."


def create_service_app(rp: RelyingParty) -> Litestar:
    env = Environment(loader=DictLoader(PAGES), autoescape=select_autoescape(default=True))

    def html(name: str, status: int = 200, **context: Any) -> Response:
        return Response(env.get_template(name).render(**context), status_code=status,
                        media_type="text/html")

    @get("/")
    async def home() -> Response:
        return html("home", title="Tarifs de la cantine")

    @get("/style.css")
    async def style() -> Response:
        return Response(CSS, media_type="text/css")

    @get("/login")
    async def login() -> Redirect:
        await rp.discover()
        verifier, state, nonce = (secrets.token_urlsafe(48), secrets.token_urlsafe(16),
                                  secrets.token_urlsafe(16))
        async with rp.client() as client:
            url, _ = client.create_authorization_url(
                rp.metadata["authorization_endpoint"], state=state, code_verifier=verifier,
                nonce=nonce)
        rp.pending[state] = {"verifier": verifier, "nonce": nonce}
        return Redirect(path=url, status_code=302)

    @get("/callback")
    async def callback(request: Request) -> Response:
        params = request.query_params
        pending = rp.pending.pop(params.get("state", ""), None)
        if pending is None:
            return html("problem", 400, title="Session inconnue", error="invalid_state",
                        message="Cette réponse ne correspond à aucune connexion en cours.")
        if params.get("iss") != rp.issuer:
            return html("problem", 400, title="Émetteur inattendu", error="invalid_issuer",
                        message="La réponse ne vient pas du courtier attendu (RFC 9207).")
        if params.get("error"):
            refused = params["error"] == "access_denied"
            return html("problem", 403 if refused else 400, error=params["error"],
                        title="Connexion refusée" if refused else "Connexion impossible",
                        message="Vous n'avez pas donné votre accord : aucune donnée n'a été "
                                "transmise." if refused else "Le courtier a signalé une erreur.")
        try:
            async with rp.client() as client:
                token = await client.fetch_token(
                    rp.metadata["token_endpoint"], code=params.get("code"),
                    code_verifier=pending["verifier"])
                id_claims = await rp.verify_id_token(token["id_token"], pending["nonce"])
                userinfo = (await client.get(rp.metadata["userinfo_endpoint"])).json()
        except (httpx.HTTPError, JoseError, KeyError, ValueError) as exc:
            return html("problem", 502, title="Connexion impossible", error=type(exc).__name__,
                        message="L'échange avec le courtier a échoué.")
        if userinfo.get("sub") != id_claims["sub"]:
            return html("problem", 502, title="Réponse incohérente", error="sub_mismatch",
                        message="Les informations reçues ne concernent pas la même personne.")
        session_id = secrets.token_urlsafe(24)
        rp.sessions[session_id] = {"claims": userinfo, "acr": id_claims.get("acr"),
                                   "at": int(time.time())}
        quotient, problem = await family_quotient(rp, token["access_token"])
        price = meal_price(quotient["valeur"]) if quotient else FULL_PRICE
        response = html("welcome", title="Bienvenue", claims=userinfo, acr=id_claims.get("acr"),
                        quotient=quotient, quotient_problem=problem, price=price)
        response.cookies.append(Cookie(key=COOKIE, value=session_id, httponly=True))
        return response

    return Litestar(route_handlers=[home, style, login, callback], debug=False,
                    logging_config=None)
