"""Build the sandbox's synthetic customer database in SQLite.

The data set is deterministic: every build from the same code writes the same
rows, because all variety comes from a fixed-seed `random.Random` and no value
depends on the wall clock. These facts are fixed, because test environments
rely on them:

- customers 400000001 to 400000300 exist, and every other positive ID is unknown;
- customers 400000297 to 400000300 were deleted after a PII delete request;
- customer N has the identifiers mobile ``"919" + f"{N - 400000000:09d}"``,
  email ``customer{N}@example.com`` and externalId ``EXT-{N}``.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

FIRST_CUSTOMER_ID = 400_000_001
LAST_CUSTOMER_ID = 400_000_300
DELETED_CUSTOMER_IDS = frozenset(range(400_000_297, 400_000_301))

SEED = 20240916
BASE_UPDATE_TIME = datetime(2024, 9, 16, 11, 59, 27, tzinfo=timezone.utc)

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    loyalty_type TEXT NOT NULL,
    lifetime_purchases_cents INTEGER NOT NULL,
    associated_with TEXT NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    position INTEGER NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    gender TEXT NOT NULL,
    source TEXT NOT NULL,
    account_id TEXT NOT NULL,
    auto_update_time TEXT NOT NULL
);
CREATE INDEX profiles_by_customer ON profiles(customer_id);
-- An identifier with listed = 0 appears only in identifiersAll.
CREATE TABLE identifiers (
    profile_id INTEGER NOT NULL REFERENCES profiles(id),
    position INTEGER NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    listed INTEGER NOT NULL
);
CREATE INDEX identifiers_by_profile ON identifiers(profile_id);
CREATE TABLE comm_channels (
    profile_id INTEGER NOT NULL REFERENCES profiles(id),
    position INTEGER NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    is_primary INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    residence INTEGER NOT NULL,
    office INTEGER NOT NULL
);
CREATE INDEX comm_channels_by_profile ON comm_channels(profile_id);
CREATE TABLE cards (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    position INTEGER NOT NULL,
    card_number TEXT NOT NULL,
    series_name TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX cards_by_customer ON cards(customer_id);
CREATE TABLE segments (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX segments_by_customer ON segments(customer_id);
CREATE TABLE extended_fields (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX extended_fields_by_customer ON extended_fields(customer_id);
"""

# Purchases of a few customers are fixed so that every kind of amount is
# present in any small sample starting at the first ID.
FIXED_PURCHASES_CENTS = {
    400_000_001: 240_000,
    400_000_002: 0,
    400_000_003: 123_456,
}


def mobile_of(customer_id: int) -> str:
    """Return the mobile number identifier of a synthetic customer."""
    return "919" + f"{customer_id - 400_000_000:09d}"


def email_of(customer_id: int) -> str:
    """Return the email identifier of a synthetic customer."""
    return f"customer{customer_id}@example.com"


def external_id_of(customer_id: int) -> str:
    """Return the externalId identifier of a synthetic customer."""
    return f"EXT-{customer_id}"


def last_name_of(customer_id: int) -> str:
    """Return the last name of every profile of a customer."""
    return f"Customer{customer_id - 400_000_000:04d}"


def build_database(path: str | os.PathLike) -> None:
    """Write the synthetic customer database to `path`, replacing any file there.

    The rows go to a temporary file that is renamed over `path` at the end,
    so a reader never sees a half-built database.
    """
    target = Path(path)
    partial = target.with_name(target.name + f".{os.getpid()}.partial")
    partial.unlink(missing_ok=True)

    connection = sqlite3.connect(partial)
    try:
        connection.executescript(SCHEMA)
        with connection:
            _insert_customers(connection, random.Random(SEED))
    finally:
        connection.close()

    os.replace(partial, target)
    logger.info("Built sandbox database %s", target)


def _insert_customers(connection: sqlite3.Connection, rng: random.Random) -> None:
    profile_id = 0
    for customer_id in range(FIRST_CUSTOMER_ID, LAST_CUSTOMER_ID + 1):
        deleted = customer_id in DELETED_CUSTOMER_IDS

        # Draw every random value even for deleted customers, so that the
        # data of the others does not depend on which IDs are deleted.
        purchases_cents = _draw_purchases_cents(rng, customer_id)
        till = f"sandbox.till{rng.randint(1, 5)}"
        profile_count = 2 if rng.random() < 0.2 else 1
        card_count = rng.choice((0, 0, 0, 1, 1, 2))
        segments = _draw_segments(rng)
        extended_fields = _draw_extended_fields(rng)
        connection.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
            (customer_id, "loyalty", purchases_cents, till, int(deleted)),
        )
        if deleted:
            continue

        card_numbers = [f"SBX{customer_id}{position}" for position in range(card_count)]
        for position, card_number in enumerate(card_numbers):
            connection.execute(
                "INSERT INTO cards VALUES (?, ?, ?, ?, ?)",
                (customer_id, position, card_number, rng.choice(("Sandbox Gold", "Sandbox Silver")), "ACTIVE"),
            )
        connection.executemany(
            "INSERT INTO segments VALUES (?, ?, ?)",
            [(customer_id, name, value) for name, value in segments],
        )
        connection.executemany(
            "INSERT INTO extended_fields VALUES (?, ?, ?)",
            [(customer_id, name, value) for name, value in extended_fields],
        )

        for position in range(profile_count):
            profile_id += 1
            _insert_profile(connection, rng, customer_id, profile_id, position, card_numbers)


def _insert_profile(
    connection: sqlite3.Connection,
    rng: random.Random,
    customer_id: int,
    profile_id: int,
    position: int,
    card_numbers: list[str],
) -> None:
    # The first profile is the in-store one with the customer's fixed
    # identifiers. A second profile comes from another channel and shares the
    # customer's mobile number.
    if position == 0:
        source = "INSTORE" if customer_id == FIRST_CUSTOMER_ID else rng.choice(("INSTORE", "WECHAT"))
        identifiers = [
            ("mobile", mobile_of(customer_id)),
            ("email", email_of(customer_id)),
            ("externalId", external_id_of(customer_id)),
        ]
    else:
        source = "WECHAT"
        identifiers = [
            ("mobile", mobile_of(customer_id)),
            ("email", f"customer{customer_id}.wechat@example.com"),
        ]

    update_time = BASE_UPDATE_TIME + timedelta(seconds=rng.randint(0, 30 * 86_400))
    connection.execute(
        "INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            profile_id,
            customer_id,
            position,
            "Sandbox",
            last_name_of(customer_id),
            rng.choice(("MALE", "FEMALE", "OTHER")),
            source,
            str(rng.choice((1001, 1002, 1003))),
            update_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
    )

    identifier_rows = [(profile_id, index, kind, value, 1) for index, (kind, value) in enumerate(identifiers)]
    if position == 0:
        # Loyalty cards count as identifiers but are listed only in identifiersAll.
        for card_number in card_numbers:
            identifier_rows.append((profile_id, len(identifier_rows), "cardnumber", card_number, 0))
    connection.executemany("INSERT INTO identifiers VALUES (?, ?, ?, ?, ?)", identifier_rows)

    channel_rows = []
    if rng.random() < 0.6:
        channel_rows.append((profile_id, 0, "email", identifiers[1][1], 1, 1, 1, 0))
        if rng.random() < 0.5:
            channel_rows.append((profile_id, 1, "mobile", identifiers[0][1], 0, rng.choice((0, 1)), 0, 1))
    connection.executemany("INSERT INTO comm_channels VALUES (?, ?, ?, ?, ?, ?, ?, ?)", channel_rows)


def _draw_purchases_cents(rng: random.Random, customer_id: int) -> int:
    """Draw lifetime purchases in cents: none, a whole amount or a fractional one."""
    kind = rng.random()
    whole_cents = rng.randint(1, 60) * 10_000
    fractional_cents = rng.randint(100, 999_999)
    if customer_id in FIXED_PURCHASES_CENTS:
        return FIXED_PURCHASES_CENTS[customer_id]
    if kind < 0.1:
        return 0
    if kind < 0.5:
        return whole_cents
    return fractional_cents


def _draw_segments(rng: random.Random) -> list[tuple[str, str]]:
    segments = []
    if rng.random() < 0.5:
        segments.append(("tier", rng.choice(("Gold", "Silver", "Bronze"))))
    if rng.random() < 0.3:
        segments.append(("region", rng.choice(("North", "South", "East", "West"))))
    return segments


def _draw_extended_fields(rng: random.Random) -> list[tuple[str, str]]:
    fields = []
    if rng.random() < 0.5:
        fields.append(("city", rng.choice(("Sandbox City", "Testville", "Mockton"))))
    if rng.random() < 0.3:
        fields.append(("dateOfBirth", f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))
    return fields
