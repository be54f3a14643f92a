"""Embedded sandbox: a local HTTP server that implements the Get Customers Bulk contract.

It serves a synthetic SQLite data set on a loopback address and can play
named contract faults, harmless variants and network failures (see
`faults.FAULTS`), so the suite can show that it catches regressions.
"""

from .app import create_app
from .data import build_database
from .faults import FAULTS, Fault, fault_names
from .server import SandboxServer
from .settings import Credentials, SandboxSettings

__all__ = [
    "FAULTS",
    "Credentials",
    "Fault",
    "SandboxServer",
    "SandboxSettings",
    "build_database",
    "create_app",
    "fault_names",
]
