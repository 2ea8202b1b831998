"""Jobs: state, progress, result or error of one job; retry and revoke (admin only)."""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult
from fastapi import APIRouter

from aibox.api.deps import AdminUser, CurrentUser, RegistryDep
from aibox.api.schemas import Envelope, JobPublic
from aibox.api.schemas_monitoring import RetryPublic, RevocationPublic
from aibox.celery_app import app as celery_app
from aibox.errors import NotFoundError
from aibox.monitoring.jobs import retry_job, revoke_job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=Envelope[JobPublic])
def get_job(job_id: str, user: CurrentUser, registry: RegistryDep) -> Envelope[JobPublic]:
    """A job's state, progress, and its result or error. Unknown ids are 404, not PENDING."""
    record = registry.get(job_id)
    if record is None or record.user_id != user.user_id:
        raise NotFoundError(f"job {job_id} not found")
    result = AsyncResult(job_id, app=celery_app)
    meta = result.info if isinstance(result.info, dict) else {}
    job: dict[str, Any] = record.model_dump(exclude={"traceback", "user_id", "worker"})
    job["celery_state"] = result.state
    if result.state == "PROGRESS":
        job.update(
            progress=meta.get("progress"), stage=meta.get("stage"), message=meta.get("message")
        )
    elif result.state == "SUCCESS":
        job.update(progress=100, result=meta)
    return Envelope(data=JobPublic.model_validate(job))


@router.post("/{job_id}/retry", response_model=Envelope[RetryPublic])
def retry(job_id: str, _: AdminUser) -> Envelope[RetryPublic]:
    """Queue a failed job again under its id, or a revoked one as a new job (409 otherwise)."""
    data = RetryPublic.model_validate(retry_job(job_id))
    return Envelope(message=f"job {job_id} queued again as {data.job_id}", data=data)


@router.post("/{job_id}/revoke", response_model=Envelope[RevocationPublic])
def revoke(job_id: str, _: AdminUser) -> Envelope[RevocationPublic]:
    """Revoke a queued job, or terminate a running one (409 if it has already ended)."""
    data = RevocationPublic.model_validate(revoke_job(job_id))
    message = "revoked" if data.state == "revoked" else "revoke sent; the job is still running"
    return Envelope(message=message, data=data)
