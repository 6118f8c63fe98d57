"""Local HTTP sandboxes speaking the platforms' protocols, with state.

``python -m sandboxes --all --port-base 8070`` serves every sandbox of
:data:`SANDBOXES` on consecutive ports, in that order (append new sandboxes at
the end so that the ports of the others stay put).
"""

import importlib

from .toolkit import (
    REGISTRY,
    ApiError,
    BaseSandbox,
    Clock,
    Fault,
    FaultPlan,
    LeakyBucket,
    RecordedRequest,
    Recorder,
    SandboxServer,
    TokenBucket,
    WebhookSender,
    register,
)

# Module names; each module registers a sandbox under the same name.
SANDBOXES = ("testshop", "shopify", "stripe", "threepl")


def available() -> dict:
    """Import every known sandbox module; return ``{name: factory}`` in order."""
    for name in SANDBOXES:
        importlib.import_module(f"{__name__}.{name}")
    return {name: REGISTRY[name] for name in SANDBOXES}


__all__ = [
    "SANDBOXES",
    "ApiError",
    "BaseSandbox",
    "Clock",
    "Fault",
    "FaultPlan",
    "LeakyBucket",
    "RecordedRequest",
    "Recorder",
    "SandboxServer",
    "TokenBucket",
    "WebhookSender",
    "available",
    "register",
]
