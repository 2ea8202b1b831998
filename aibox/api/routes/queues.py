"""Monitoring: queues (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/queues", tags=["monitoring"])
