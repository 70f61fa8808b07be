"""The review page's words for the domain's codes, in French and English.

The page shows only what the server knows: the ten FHIR R4 equivalence codes, the row
statuses, the actions, the roles and the candidate methods all come from here, so a code
added to the domain cannot be missing from the page.

>>> from typing import get_args
>>> from terminology.review.workflow import Equivalence, Status
>>> sorted(EQUIVALENCES) == sorted(get_args(Equivalence))
True
>>> set(STATUSES) == {status.value for status in Status}
True
"""

from __future__ import annotations

from typing import Any

from terminology.models import MatchMethod
from terminology.review.workflow import RULES, Role

EQUIVALENCES: dict[str, dict[str, str]] = {
    "equivalent": {"fr": "équivalent", "en": "equivalent"},
    "equal": {"fr": "égal", "en": "equal"},
    "wider": {"fr": "plus large", "en": "wider"},
    "subsumes": {"fr": "englobe", "en": "subsumes"},
    "narrower": {"fr": "plus étroit", "en": "narrower"},
    "specializes": {"fr": "spécialise", "en": "specializes"},
    "relatedto": {"fr": "apparenté", "en": "related to"},
    "inexact": {"fr": "inexact", "en": "inexact"},
    "unmatched": {"fr": "sans correspondance", "en": "unmatched"},
    "disjoint": {"fr": "disjoint", "en": "disjoint"},
}
"""FHIR R4 ConceptMapEquivalence (http://hl7.org/fhir/concept-map-equivalence), the
target seen from the source: ``wider`` means the target is broader than the source."""

STATUSES: dict[str, dict[str, str]] = {
    "unmapped": {"fr": "à traiter", "en": "unmapped"},
    "draft": {"fr": "brouillon", "en": "draft"},
    "in_review": {"fr": "en revue", "en": "in review"},
    "accepted": {"fr": "validé", "en": "accepted"},
    "rejected": {"fr": "rejeté", "en": "rejected"},
    "conflict": {"fr": "en conflit", "en": "conflict"},
}

ACTIONS: dict[str, dict[str, str]] = {
    "map": {"fr": "proposer", "en": "map"},
    "no_map": {"fr": "pas de correspondance", "en": "no map"},
    "submit": {"fr": "soumettre", "en": "submit"},
    "accept": {"fr": "valider", "en": "accept"},
    "reject": {"fr": "rejeter", "en": "reject"},
    "reopen": {"fr": "rouvrir", "en": "reopen"},
    "flag": {"fr": "signaler", "en": "flag"},
    "unflag": {"fr": "lever le signalement", "en": "unflag"},
    "assign": {"fr": "attribuer", "en": "assign"},
    "comment": {"fr": "commenter", "en": "comment"},
    "reconcile": {"fr": "arbitrer", "en": "reconcile"},
    "undo": {"fr": "annuler", "en": "undo"},
}

ROLES: dict[str, dict[str, str]] = {
    "viewer": {"fr": "lecteur", "en": "viewer"},
    "author": {"fr": "auteur", "en": "author"},
    "reviewer": {"fr": "relecteur", "en": "reviewer"},
    "reconciler": {"fr": "arbitre", "en": "reconciler"},
    "admin": {"fr": "administrateur", "en": "admin"},
}

METHODS: dict[str, dict[str, str]] = {
    "lexical": {"fr": "lexical", "en": "lexical"},
    "ancestor": {"fr": "ancêtre", "en": "ancestor"},
    "parent-context": {"fr": "contexte du parent", "en": "parent context"},
    "decided-neighbour": {"fr": "voisin décidé", "en": "decided neighbour"},
    "code-rule": {"fr": "règle de code", "en": "code rule"},
    "memory": {"fr": "mémoire", "en": "memory"},
}


def vocabulary() -> dict[str, Any]:
    """Every code the page may show or send, with its words, and what needs a reason."""
    return {
        "equivalences": [{"code": code, **words} for code, words in EQUIVALENCES.items()],
        "statuses": [{"code": code, **words} for code, words in STATUSES.items()],
        "actions": [
            {"code": code, **words, "needs_comment": code in ("reject", "flag")}
            for code, words in ACTIONS.items()
            if code in RULES or code in ("reconcile", "undo")
        ],
        "roles": [{"code": role.value, **ROLES[role.value]} for role in Role],
        "methods": [{"code": method.value, **METHODS[method.value]} for method in MatchMethod],
    }
