"""Command line entry point: run the sandbox server in the foreground.

    python -m contract_support.sandbox --port 8080 [--fault NAME] [--list-faults]

Credentials come from the options, then from the environment variables
SANDBOX_USERNAME, SANDBOX_PASSWORD, SANDBOX_OAUTH_KEY and SANDBOX_OAUTH_SECRET.
Any that are still missing are generated and printed once at start, since
this is a local test server.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import secrets
import sys
import threading

from contract_support.auth import basic_header_value

from .faults import FAULTS, fault_names
from .server import SandboxServer
from .settings import Credentials

logger = logging.getLogger("contract_support.sandbox")

_CREDENTIAL_SOURCES = (
    ("username", "SANDBOX_USERNAME"),
    ("password", "SANDBOX_PASSWORD"),
    ("oauth_key", "SANDBOX_OAUTH_KEY"),
    ("oauth_secret", "SANDBOX_OAUTH_SECRET"),
)


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m contract_support.sandbox",
        description="Serve the Get Customers Bulk sandbox on a loopback address until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port to listen on; 0 picks a free port (default: 8080)")
    parser.add_argument("--fault", help="name of a fault, variant or network mode to play (see --list-faults)")
    parser.add_argument("--list-faults", action="store_true", help="print the catalogue of faults and exit")
    parser.add_argument("--username", help="Basic auth username (default: $SANDBOX_USERNAME or generated)")
    parser.add_argument("--password", help="Basic auth password in plain text (default: $SANDBOX_PASSWORD or generated)")
    parser.add_argument("--oauth-key", help="OAuth key (default: $SANDBOX_OAUTH_KEY or generated)")
    parser.add_argument("--oauth-secret", help="OAuth secret (default: $SANDBOX_OAUTH_SECRET or generated)")
    return parser.parse_args(argv)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve_credentials(arguments: argparse.Namespace) -> tuple[Credentials, list[str]]:
    """Return the credentials and the names of those that were generated."""
    values = {}
    generated = []
    for name, variable in _CREDENTIAL_SOURCES:
        value = getattr(arguments, name) or os.environ.get(variable)
        if not value:
            value = "sandbox.user" if name == "username" else secrets.token_urlsafe(16)
            generated.append(name)
        values[name] = value
    return Credentials(**values), generated


def _print_catalogue() -> None:
    for name in fault_names():
        entry = FAULTS[name]
        print(f"{entry.name:30} {entry.kind:8} {entry.rule or '-':25} {entry.description}")


def main(argv: list[str] | None = None) -> int:
    """Run the server until Ctrl-C and return the exit status."""
    arguments = _parse_arguments(argv)
    if arguments.list_faults:
        _print_catalogue()
        return 0

    if arguments.fault is not None and arguments.fault not in FAULTS:
        print(f"Unknown fault {arguments.fault!r}. Valid names: {', '.join(fault_names())}", file=sys.stderr)
        return 2
    if not _is_loopback(arguments.host):
        print(f"Invalid --host {arguments.host!r}: the sandbox listens only on loopback addresses such as 127.0.0.1.", file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    credentials, generated = _resolve_credentials(arguments)
    for name in generated:
        print(f"Generated {name}: {getattr(credentials, name)}", flush=True)

    server = SandboxServer(credentials, fault=arguments.fault, host=arguments.host, port=arguments.port)
    server.start()
    print(f"Sandbox serving on {server.base_url} (fault: {arguments.fault or 'none'}). Press Ctrl-C to stop.", flush=True)
    # A local test server's own credentials: printing them lets a reproduction curl run as is.
    print(
        "For the suite's curl commands:  export AUTHORIZATION="
        f"'{basic_header_value(credentials.username, credentials.password)}'",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
