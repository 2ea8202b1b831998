"""Monitoring: workers (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/workers", tags=["monitoring"])
