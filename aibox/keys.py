"""Every Redis key name aibox uses, in one place.

The first three keep the old system's names; aibox's own keys live under ``aibox:``.
"""

from __future__ import annotations


def processing_status(file_id: str) -> str:
    """Hash: a file's processing status (old field names, flattened; see aibox/store/status.py)."""
    return f"processing:status:{file_id}"


def upload_progress(file_id: str) -> str:
    """String (JSON): a file's upload progress."""
    return f"upload:progress:{file_id}"


def jwt_blacklist(token_hash: str) -> str:
    """String: a logged-out token, kept for the token's remaining life."""
    return f"jwt:blacklist:{token_hash}"


def account(user_id: str) -> str:
    """Hash: one user account (username, password hash, role)."""
    return f"aibox:account:{user_id}"


def accounts() -> str:
    """Sorted set: every user id, scored by creation time."""
    return "aibox:accounts"


def file_record(file_id: str) -> str:
    """Hash: a file's metadata record."""
    return f"aibox:file:{file_id}"


def user_files(user_id: str) -> str:
    """Sorted set: a user's file ids scored by upload time."""
    return f"aibox:user:{user_id}:files"


def file_jobs(file_id: str) -> str:
    """Set: ids of every job submitted for a file (to revoke them when it is deleted)."""
    return f"aibox:file:{file_id}:jobs"


def user_file_embedders(user_id: str) -> str:
    """Hash: file id -> id of the embedder its vectors were indexed with."""
    return f"aibox:user:{user_id}:embedders"


def chunks(file_id: str) -> str:
    """Hash: chunk index -> chunk JSON (text and offsets) for one file."""
    return f"aibox:chunks:{file_id}"


def job(job_id: str) -> str:
    """Hash: one job's registry record."""
    return f"aibox:job:{job_id}"


def jobs_by_state(queue: str, state: str) -> str:
    """Sorted set: job ids of one queue in one state, scored by the time they entered it."""
    return f"aibox:jobs:{queue}:{state}"


def user_queued(queue: str, user_id: str) -> str:
    """Sorted set: one user's queued job ids on one queue, scored by the time they were queued
    (the registry's scripts name it from ``jobs_by_state(queue, "queued")``: keep in step)."""
    return f"{jobs_by_state(queue, 'queued')}:user:{user_id}"


def queued_users(queue: str) -> str:
    """Set: the users with queued jobs on one queue (named like ``user_queued``)."""
    return f"{jobs_by_state(queue, 'queued')}:users"


def fair_ring(queue: str) -> str:
    """List: the users with messages waiting for their turn on one queue, next to serve first
    (aibox/fairness.py)."""
    return f"aibox:fair:{queue}:ring"


def fair_waiting(queue: str, user_id: str) -> str:
    """List: one user's messages waiting for their turn on one queue (oldest at the right end);
    with ``user_id=""``, the prefix the fairness scripts add a user id to."""
    return f"aibox:fair:{queue}:user:{user_id}"


def fair_pattern(queue: str) -> str:
    """SCAN pattern: every fair-scheduling key of one queue."""
    return f"aibox:fair:{queue}:*"


def vector_set(user_id: str, embedder_id: str) -> str:
    """Vector set: one user's chunk vectors from one embedder (never mixed)."""
    return f"aibox:vectors:{user_id}:{embedder_id}"


def graph(user_id: str) -> str:
    """FalkorDB graph: one user's knowledge graph."""
    return f"aibox:graph:{user_id}"


def fulltext_postings(user_id: str, term: str) -> str:
    """Hash: one user's postings of one term, a field per file (see aibox/store/fulltext.py)."""
    return f"aibox:fulltext:{user_id}:term:{term}"


def fulltext_pattern(user_id: str) -> str:
    """SCAN pattern: every key of one user's full-text index."""
    return f"aibox:fulltext:{user_id}:*"


def fulltext_files(user_id: str) -> str:
    """Hash: file id -> ``"ref chunks length"`` of each file in the user's full-text index."""
    return f"aibox:fulltext:{user_id}:files"


def fulltext_refs(user_id: str) -> str:
    """Hash: ref -> file id, the inverse of ``fulltext_files``."""
    return f"aibox:fulltext:{user_id}:refs"


def fulltext_stats(user_id: str) -> str:
    """Hash: the user's full-text totals (``chunks``, ``length``) and ``next_ref``."""
    return f"aibox:fulltext:{user_id}:stats"


def fulltext_file_terms(user_id: str, file_id: str) -> str:
    """String: the terms a file may have postings under, one per line."""
    return f"aibox:fulltext:{user_id}:file:{file_id}:terms"


def llm_answer(request_hash: str) -> str:
    """String: a chat model's answer to one request, by the request's hash (with a TTL)."""
    return f"aibox:llm:cache:{request_hash}"


def check_probe(probe_id: str) -> str:
    """String: the node that ran one of ``aibox check``'s probes (short TTL)."""
    return f"aibox:check:probe:{probe_id}"


def content_index(user_id: str) -> str:
    """Hash: sha256 of content -> id of the user's newest file with that content."""
    return f"aibox:user:{user_id}:sha256"


def status_channel(file_id: str) -> str:
    """Pub/sub channel: each change of a file's status record is announced here."""
    return f"aibox:status:{file_id}"


def file_lock(file_id: str) -> str:
    """String: the token of the job holding one file's lock (with a TTL it renews)."""
    return f"aibox:lock:file:{file_id}"


def metrics_tasks() -> str:
    """Set: the task names with a duration histogram."""
    return "aibox:metrics:tasks"


def task_durations(task: str) -> str:
    """Hash: one task's duration histogram (``le:<bound>`` buckets, ``count``, ``sum``)."""
    return f"aibox:metrics:duration:{task}"


def migrated_rq_jobs() -> str:
    """Hash: old RQ job id -> the aibox job it was moved to (``aibox migrate-rq``)."""
    return "aibox:migrated:rq"


def capability_probe() -> str:
    """Vector set never written: read to learn whether the server has vector sets."""
    return "aibox:capability-probe"
