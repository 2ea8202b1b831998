"""The HTTP API (FastAPI): ``aibox.api.main:app``."""
