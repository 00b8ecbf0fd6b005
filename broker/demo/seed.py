"""Idempotent demo data: the demo identity providers in the registry, the demo online service
(owned by the Mairie de Villebourg), and the roles of the operators' portal's test agents."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey
from sqlmodel import Session, col, select

from broker.admin.agents import find_grant
from broker.admin.clients import (
    ClientRegistration,
    add_client,
    check_https_url,
    check_redirect_uri,
)
from broker.admin.consent_information import StatedInformation
from broker.admin.habilitations import (
    HabilitationRequest,
    add_habilitation,
    set_consent_information,
)
from broker.admin.principal import Role
from broker.core.settings import Settings
from broker.demo.agents import AGENTS, VILLEBOURG_SIRET
from broker.demo.idp.registration import seed_demo_idps
from broker.demo.openapi_examples import DINUM
from broker.demo.service_logo import DEMO_LOGO, DEMO_LOGO_TYPE
from broker.oidc.models import ConsentMode
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service
from broker.store.portal_models import PortalRole

DEMO_CLIENT_ID = "demo-cantine-villebourg"
DEMO_SERVICE_NAME = "Mairie de Villebourg – Tarifs de la cantine scolaire"
# The family quotient is required (it sets the price); the citizen may choose to share the
# other items (unticked until ticked).
DEMO_DATA_SCOPES = ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_adresse"]
DEMO_OPTIONAL_SCOPES = ["cnaf_allocataires", "cnaf_adresse"]
DEMO_SCOPE = "openid profile birth email " + " ".join(DEMO_DATA_SCOPES)
DEMO_CONSENT_DAYS = 180
NOTIFICATION_PATH = "/backchannel/consent-events"  # where the demo service receives SETs
LOGOUT_PATH = "/backchannel/logout"  # where it receives logout tokens (Back-Channel Logout)
DEMO_PURPOSE = "Calcul du tarif de la cantine scolaire selon le quotient familial"
DEMO_LEGAL_BASIS = (
    "Code de l'éducation, article L. 131-13 (tarifs de la restauration "
    "scolaire modulés selon les ressources des familles)"
)
DEMO_LEGAL_BASIS_URL = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006071191"
DEMO_KEY_FILE = "demo-service-key.json"
# The public bodies the demo habilitation's data may be sent to (the data API refuses any
# other ``recipient``): the Mairie itself, and DINUM, the recipient of the documentation's and
# the OpenAPI document's examples.
DEMO_RECIPIENTS = (VILLEBOURG_SIRET, DINUM)
SEED_ACTOR = "demo:seed"

# What the consent screen tells the citizen (French data shown as written, not translated): a
# reason for each item it lists (not for openid, a technical identifier it does not list).
DEMO_REASONS = {
    "profile": "Pour ouvrir le compte de la cantine à votre nom.",
    "birth": (
        "Pour ne pas vous confondre avec une personne qui a le même nom "
        "et la même date de naissance."
    ),
    "email": "Pour vous envoyer votre tarif et les factures de la cantine.",
    "cnaf_quotient_familial": "Il fixe le prix du repas : plus il est bas, moins vous payez.",
    "cnaf_allocataires": "Pour vérifier que ce dossier CAF est bien celui de votre foyer.",
    "cnaf_adresse": "Pour vérifier que vous habitez Villebourg, sans justificatif de domicile.",
}
DEMO_INFORMATION = StatedInformation(
    controller="Mairie de Villebourg",
    contact="cantine@villebourg.example",
    dpo="protection-donnees@villebourg.example",
    retention=(
        "La mairie garde ces informations jusqu'à la fin de l'année scolaire, "
        "puis un an pour les contrôles. Ensuite, elle les efface."
    ),
    reasons=tuple(f"{scope}={reason}" for scope, reason in DEMO_REASONS.items()),
    if_refused=(
        "Vous pouvez aussi apporter votre attestation de quotient familial (CAF ou MSA) "
        "au guichet des affaires scolaires de la mairie. Le tarif sera le même."
    ),
)


def demo_service_key(var_dir: Path) -> ECKey:
    """The demo service's private key for private_key_jwt, created once under var/."""
    path = var_dir / DEMO_KEY_FILE
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text()))
    var_dir.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key(
        "P-256", parameters={"kid": "demo-service-1", "alg": "ES256", "use": "sig"}, private=True
    )
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return key


def seed_demo_service(session: Session, var_dir: Path, service_url: str) -> dict[str, Any]:
    """The demo client, its redirect URI and its back-channel URIs at ``service_url``: the
    latest seed's service URL receives the consent events and the logout tokens."""
    base = service_url.rstrip("/")
    redirect_uri, notification_uri = f"{base}/callback", f"{base}{NOTIFICATION_PATH}"
    logout_uri = f"{base}{LOGOUT_PATH}"
    check_redirect_uri(redirect_uri)
    check_https_url(notification_uri, "notification URI")
    check_https_url(logout_uri, "back-channel logout URI")
    jwks = {"keys": [demo_service_key(var_dir).as_dict(private=False)]}
    existing = session.get(OAuthClient, DEMO_CLIENT_ID)
    if existing is None:
        return add_client(
            session,
            ClientRegistration(
                name=DEMO_SERVICE_NAME,
                redirect_uris=[redirect_uri],
                scope=DEMO_SCOPE,
                auth_method="private_key_jwt",
                jwks=jwks,
                client_id=DEMO_CLIENT_ID,
                notification_uri=notification_uri,
                post_logout_redirect_uris=(f"{base}/",),
                backchannel_logout_uri=logout_uri,
            ),
        )
    if redirect_uri not in existing.redirect_uris:
        existing.redirect_uris = [*existing.redirect_uris, redirect_uri]
    existing.jwks, existing.scope = jwks, DEMO_SCOPE
    existing.notification_uri = notification_uri
    existing.backchannel_logout_uri = logout_uri
    if f"{base}/" not in existing.post_logout_redirect_uris:
        existing.post_logout_redirect_uris = [*existing.post_logout_redirect_uris, f"{base}/"]
    session.add(existing)
    return {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uris": list(existing.redirect_uris),
        "notification_uri": notification_uri,
        "backchannel_logout_uri": logout_uri,
    }


def seed_demo_habilitation(session: Session) -> str:
    """The demo service may ask for the family quotient, for its canteen pricing, and for the
    allocataires and the address, which the citizen may choose to share. An active habilitation
    with these rights is kept, its consent information brought up to date in place (a
    database seeded before it existed gets it): the consents given under it stand."""
    client = session.get(OAuthClient, DEMO_CLIENT_ID)
    if client is None:
        raise LookupError(f"no client {DEMO_CLIENT_ID!r}: seed_demo_service comes first")
    service_id = client.service_id
    for existing in session.exec(
        select(Habilitation).where(
            Habilitation.service_id == service_id, col(Habilitation.revoked_at).is_(None)
        )
    ).all():
        if (
            set(existing.scopes) == set(DEMO_DATA_SCOPES)
            and existing.expires_at is None
            and set(existing.optional_scopes or ()) == set(DEMO_OPTIONAL_SCOPES)
        ):
            # Unchanged values are not written: seeding again writes nothing.
            set_consent_information(session, existing.id, DEMO_INFORMATION)
            return existing.id
    service = session.get(Service, service_id)
    if service is None:  # the foreign key rules it out
        raise LookupError(f"client {DEMO_CLIENT_ID!r} has no service")
    return add_habilitation(
        session,
        HabilitationRequest(
            service=service.name,
            scopes=" ".join(DEMO_DATA_SCOPES),
            purpose=DEMO_PURPOSE,
            legal_basis=DEMO_LEGAL_BASIS,
            optional_scopes=" ".join(DEMO_OPTIONAL_SCOPES),
            consent_mode=ConsentMode.RECURRING,
            consent_days=DEMO_CONSENT_DAYS,
            legal_basis_url=DEMO_LEGAL_BASIS_URL,
            information=DEMO_INFORMATION,
            recipients=DEMO_RECIPIENTS,
        ),
    )["id"]


def seed_demo_logo(session: Session) -> str | None:
    """The demo service's logo, unless it has one (set with ``broker clients logo``)."""
    client = session.get(OAuthClient, DEMO_CLIENT_ID)
    service = session.get(Service, client.service_id) if client else None
    if service is None:
        raise LookupError(f"no client {DEMO_CLIENT_ID!r}: seed_demo_service comes first")
    if service.logo is None:
        service.logo, service.logo_type = DEMO_LOGO, DEMO_LOGO_TYPE
        session.add(service)
        session.flush()
    return service.logo_type


def seed_demo_organisation(session: Session, habilitation_id: str) -> str:
    """The demo service and its habilitation belong to the Mairie de Villebourg: its agents
    manage them on the portal; the habilitation's data goes to DEMO_RECIPIENTS. Databases
    seeded before are brought up to date in place. Demo data, like the rest of the seed: not
    an operator's change, not in the audit trail."""
    client = session.get(OAuthClient, DEMO_CLIENT_ID)
    service = session.get(Service, client.service_id) if client else None
    habilitation = session.get(Habilitation, habilitation_id)
    if service is None or habilitation is None:
        raise LookupError("seed_demo_service and seed_demo_habilitation come first")
    for record in (service, habilitation):
        if record.organisation_siret != VILLEBOURG_SIRET:  # seeding again writes nothing
            record.organisation_siret = VILLEBOURG_SIRET
            session.add(record)
    missing = [r for r in DEMO_RECIPIENTS if r not in (habilitation.recipients or ())]
    if missing:  # a database seeded before recipients were checked gets them
        habilitation.recipients = [*(habilitation.recipients or ()), *missing]
        session.add(habilitation)
    session.flush()
    return VILLEBOURG_SIRET


def seed_portal_roles(session: Session) -> list[dict[str, str]]:
    """The test agents' roles (requesters need none: their SIRET is enough). Demo data: not
    in the audit trail (roles given by operators are: ``broker portal roles grant``)."""
    granted = []
    now = int(time.time())
    for agent in AGENTS:
        for role, provider in agent.roles:
            if find_grant(session, agent.email, Role(role), provider) is None:
                session.add(
                    PortalRole(
                        email=agent.email,
                        role=role,
                        provider=provider,
                        granted_at=now,
                        granted_by=SEED_ACTOR,
                    )
                )
            granted.append({"email": agent.email, "role": role, "provider": provider})
    session.flush()
    return granted


def seed(session: Session, settings: Settings, service_url: str) -> dict[str, Any]:
    """The demo identity providers in the registry, the demo service and its habilitation, the
    portal's test agents' roles."""
    identity_providers = seed_demo_idps(session, settings)
    client = seed_demo_service(session, settings.var_dir, service_url)
    habilitation_id = seed_demo_habilitation(session)
    logo_type = seed_demo_logo(session)
    organisation = seed_demo_organisation(session, habilitation_id)
    roles = seed_portal_roles(session)
    return {
        "identity_providers": identity_providers,
        "demo_client_id": client["client_id"],
        "demo_redirect_uris": client["redirect_uris"],
        "demo_habilitation_id": habilitation_id,
        "demo_service_logo_type": logo_type,
        "demo_organisation_siret": organisation,
        "portal_roles": roles,
    }
