"""The FastAPI application: ``uvicorn aibox.api.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

import aibox
from aibox.api.errors import ERROR_RESPONSES, install_error_handlers
from aibox.api.routes import (
    auth,
    events,
    files,
    graph,
    health,
    jobs,
    metrics,
    queues,
    rq,
    search,
    workers,
)
from aibox.auth.tokens import signing_secret
from aibox.connections import check_capabilities, get_redis
from aibox.logs import configure_logging
from aibox.settings import get_settings


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Refuse to start against a Redis server that lacks vector sets or FalkorDB."""
    configure_logging()
    signing_secret(get_settings())  # refuses a missing or placeholder secret outside development
    check_capabilities(get_redis())
    yield


def create_app() -> FastAPI:
    """Build the API application.

    The docs pages (Swagger UI at /docs, ReDoc at /redoc) load their scripts and styles from
    the ``fastapi-offline`` package, served under /static-offline-docs, not from a CDN: they
    work on machines without internet access."""
    app = FastAPIOffline(
        title="aibox",
        version=aibox.__version__,
        description="Upload documents; follow their processing; read jobs and results.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(auth.router, prefix="/api/v1")
    app.include_router(files.router, prefix="/api/v1")
    app.include_router(jobs.router, prefix="/api/v1")
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(graph.router, prefix="/api/v1")
    app.include_router(events.router, prefix="/api/v1")
    app.include_router(queues.router, prefix="/api/v1")
    app.include_router(workers.router, prefix="/api/v1")
    app.include_router(rq.router, prefix="/api/v1")
    app.add_middleware(rq.DeprecatedPaths, prefix="/api/v1" + rq.PREFIX)
    app.include_router(metrics.router)
    return app


app = create_app()
