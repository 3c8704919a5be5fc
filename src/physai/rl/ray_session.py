"""The Ray a sweep runs on: a fresh local one bound to loopback (no dashboard, no usage stats), or a cluster.

Loopback only for the local one: Ray maps _node_ip_address="127.0.0.1" to the host's routable IP and then
serves on it unless "cluster mode" is off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read by Ray at import and by
every process it spawns); the session refuses to run if the GCS is not on 127.0.0.1 anyway.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK = "127.0.0.1"


CONNECT_TIMEOUT_S = 5.0
"""How long the probe of a cluster's address waits for a TCP answer (Ray itself retries for minutes)."""


def check_reachable(address: str) -> None:
    """ValueError unless something accepts TCP connections at `address` ("host:port"; "auto" and ray:// pass)."""
    import socket

    if address == "auto" or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"--ray-address {address}; expected HOST:PORT of a Ray head (`ray start --head`) or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ValueError(
            f"--ray-address {address}: no Ray head answers there ({reason}); expected HOST:PORT of a running "
            "`ray start --head` (its GCS port, 6379 by default) or auto"
        ) from None


def _log_level(config: Any) -> int:
    """Ray's own log level: warnings only unless verbose ≥ 2 (its start-up banner and worker logs)."""
    import logging

    return logging.INFO if config.verbose > 1 else logging.WARNING


@contextmanager
def ray_session(config: Any) -> Iterator[Any]:
    """Ray for the sweep: a fresh local one bound to loopback (shut down after), or the given cluster."""
    if config.ray_address is not None:
        check_reachable(config.ray_address)
        if config.ray_address.split(":")[0] in (LOOPBACK, "localhost"):  # a cluster on this host: stay on loopback
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        import ray

        if ray.is_initialized():
            raise RuntimeError("Ray is already initialised in this process; cannot connect to another cluster")
        ray.init(address=config.ray_address, log_to_driver=config.verbose > 1, logging_level=_log_level(config))
        try:
            yield ray
        finally:
            ray.shutdown()
        return
    # Loopback only: Ray maps _node_ip_address="127.0.0.1" to the host's routable IP and then serves on it
    # unless "cluster mode" is off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read by Ray at import and by every
    # process it spawns). No usage statistics leave the host.
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    saved_env = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    import ray
    from ray._private import ray_constants

    if ray.is_initialized():
        raise RuntimeError("Ray is already initialised in this process; a sweep starts its own local Ray")
    saved_cluster = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before the variable was set
    try:
        ray.init(
            num_cpus=config.num_cpus or os.cpu_count(),
            include_dashboard=False,
            _node_ip_address=LOOPBACK,
            log_to_driver=config.verbose > 1,
            logging_level=_log_level(config),
        )
        try:
            address = str(ray.get_runtime_context().gcs_address)
            if not address.startswith(f"{LOOPBACK}:"):
                raise RuntimeError(f"the local Ray serves on {address}, not on loopback; refusing to run the sweep")
            yield ray
        finally:
            ray.shutdown()
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_cluster
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
