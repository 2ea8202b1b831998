"""aibox: documents in over HTTP; Celery workers on Redis parse, chunk, embed and extract a
knowledge graph from them.

``celery -A aibox worker`` finds the Celery app here as ``aibox.app``.
"""

from aibox.celery_app import app

__all__ = ["app"]
__version__ = "0.1.0"
