"""The FastAPI application: a thin edge over :mod:`terminology`."""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI

from api import curation, fhir, review_page
from api.errors import install_error_handlers
from api.limits import BodyLimit, HeavyGate, SafetyHeaders
from terminology import __version__
from terminology.services.database import open_database
from terminology.services.operations import StoredCodeSystems
from terminology.services.retraining import RetrainRunner
from terminology.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (the environment's by default); the database engine
    is made here, when an app is made, never at import time."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Concordance",
        version=__version__,
        summary="Terminology mapping: curation API, review page and FHIR terminology services.",
    )
    app.router.on_startup.append(lambda: tune_interpreter(settings))
    app.state.settings = settings
    app.state.store = open_database(settings)
    app.state.code_systems = StoredCodeSystems(
        app.state.store,
        max_concepts=settings.code_system_cache_concepts,
        after_index=gc.freeze if settings.freeze_indexes else None,
    )
    app.state.heavy = HeavyGate(settings.heavy_operations, seconds=settings.operation_seconds)
    app.state.retrain_every = settings.retrain_every
    app.state.retrainer = RetrainRunner(
        app.state.store,
        settings.database_url,
        workers=settings.retrain_workers,
        memory_mb=settings.retrain_memory_mb,
        threads=settings.retrain_threads,
    )
    app.router.on_shutdown.append(app.state.retrainer.stop_all)  # no refit outlives its worker
    app.state.map_cache = fhir.MapCache(app.state.store)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SafetyHeaders)  # outermost: the 413 refusals carry the headers too
    app.include_router(fhir.router)  # first: $translate is the hot path, matched in route order
    app.include_router(curation.router, prefix="/api")
    app.include_router(review_page.router)
    return app


def tune_interpreter(settings: Settings) -> None:
    """What the server sets of its own process when it starts, and nothing else does: a
    heavy operation's thread hands the interpreter back every ``thread_switch_ms`` (Python's
    5 ms made each light request wait ~5 ms per step — accept, read, answer — behind it)."""
    sys.setswitchinterval(settings.thread_switch_ms / 1000)
