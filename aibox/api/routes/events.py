"""Live progress of a file as Server-Sent Events."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/files", tags=["files"])
