"""Read customers from the sandbox database and assemble them into API entities.

A lookup runs a fixed number of queries per batch (one per table), whatever
the batch size, and opens its own read-only connection, so the store can be
shared by the threads of a threaded server.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

# SQLite builds before 3.32 allow at most 999 parameters in one statement.
_MAX_PARAMETERS = 900


@dataclass
class Lookup:
    """Customers found for a batch: assembled entities, and the IDs of deleted customers."""

    entities: dict[int, dict] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)

    def status_of(self, customer_id: int) -> str:
        """Return "found", "deleted" or "not-found" for one requested ID."""
        if customer_id in self.entities:
            return "found"
        if customer_id in self.deleted:
            return "deleted"
        return "not-found"


class CustomerStore:
    """Read-only access to a database written by `data.build_database`."""

    def __init__(self, database_path: str | os.PathLike) -> None:
        path = Path(database_path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"Sandbox database not found: {path}. Build it with build_database() first.")
        self.path = path
        self._uri = path.as_uri() + "?mode=ro"

    def lookup(self, customer_ids: Iterable[int]) -> Lookup:
        """Fetch the customers with the given IDs. Unknown IDs are left out of the result."""
        unique_ids = sorted(set(customer_ids))
        result = Lookup()
        if not unique_ids:
            return result

        with closing(sqlite3.connect(self._uri, uri=True)) as connection:
            for start in range(0, len(unique_ids), _MAX_PARAMETERS):
                chunk = unique_ids[start : start + _MAX_PARAMETERS]
                self._lookup_chunk(connection, chunk, result)
        return result

    def next_active_id(self, customer_id: int) -> int | None:
        """Return the ID of the next customer that is not deleted, wrapping around to the first."""
        with closing(sqlite3.connect(self._uri, uri=True)) as connection:
            row = connection.execute(
                "SELECT id FROM customers WHERE deleted = 0 AND id > ? ORDER BY id LIMIT 1", (customer_id,)
            ).fetchone()
            if row is None:
                row = connection.execute("SELECT id FROM customers WHERE deleted = 0 ORDER BY id LIMIT 1").fetchone()
        return None if row is None else row[0]

    def _lookup_chunk(self, connection: sqlite3.Connection, ids: Sequence[int], result: Lookup) -> None:
        marks = ",".join("?" * len(ids))

        customers = connection.execute(
            "SELECT id, loyalty_type, lifetime_purchases_cents, associated_with, deleted"
            f" FROM customers WHERE id IN ({marks})",
            ids,
        ).fetchall()
        active_ids = []
        for customer_id, _, _, _, deleted in customers:
            if deleted:
                result.deleted.add(customer_id)
            else:
                active_ids.append(customer_id)
        if not active_ids:
            return

        marks = ",".join("?" * len(active_ids))
        profiles = connection.execute(
            "SELECT id, customer_id, first_name, last_name, gender, source, account_id, auto_update_time"
            f" FROM profiles WHERE customer_id IN ({marks}) ORDER BY customer_id, position",
            active_ids,
        ).fetchall()
        identifiers = connection.execute(
            "SELECT i.profile_id, i.type, i.value, i.listed FROM identifiers i JOIN profiles p ON p.id = i.profile_id"
            f" WHERE p.customer_id IN ({marks}) ORDER BY i.profile_id, i.position",
            active_ids,
        ).fetchall()
        channels = connection.execute(
            "SELECT c.profile_id, c.type, c.value, c.is_primary, c.verified, c.residence, c.office"
            f" FROM comm_channels c JOIN profiles p ON p.id = c.profile_id"
            f" WHERE p.customer_id IN ({marks}) ORDER BY c.profile_id, c.position",
            active_ids,
        ).fetchall()
        cards = connection.execute(
            "SELECT customer_id, card_number, series_name, status"
            f" FROM cards WHERE customer_id IN ({marks}) ORDER BY customer_id, position",
            active_ids,
        ).fetchall()
        segments = connection.execute(
            f"SELECT customer_id, name, value FROM segments WHERE customer_id IN ({marks}) ORDER BY rowid",
            active_ids,
        ).fetchall()
        extended_fields = connection.execute(
            f"SELECT customer_id, name, value FROM extended_fields WHERE customer_id IN ({marks}) ORDER BY rowid",
            active_ids,
        ).fetchall()

        profiles_by_customer = _assemble_profiles(profiles, identifiers, channels)
        cards_by_customer: dict[int, list[dict]] = defaultdict(list)
        for customer_id, card_number, series_name, status in cards:
            cards_by_customer[customer_id].append(
                {"cardNumber": card_number, "seriesName": series_name, "status": status}
            )
        segments_by_customer: dict[int, dict] = defaultdict(dict)
        for customer_id, name, value in segments:
            segments_by_customer[customer_id][name] = value
        fields_by_customer: dict[int, dict] = defaultdict(dict)
        for customer_id, name, value in extended_fields:
            fields_by_customer[customer_id][name] = value

        for customer_id, loyalty_type, purchases_cents, associated_with, deleted in customers:
            if deleted:
                continue
            result.entities[customer_id] = {
                "id": customer_id,
                "profiles": profiles_by_customer[customer_id],
                "loyaltyInfo": {"loyaltyType": loyalty_type, "lifetimePurchases": purchases_cents / 100},
                "segments": segments_by_customer[customer_id],
                "associatedWith": associated_with,
                "extendedFields": fields_by_customer[customer_id],
                "cardDetails": cards_by_customer[customer_id],
            }


def _assemble_profiles(profiles: list[tuple], identifiers: list[tuple], channels: list[tuple]) -> dict[int, list]:
    listed_by_profile: dict[int, list[dict]] = defaultdict(list)
    all_by_profile: dict[int, list[dict]] = defaultdict(list)
    for profile_id, kind, value, listed in identifiers:
        if listed:
            listed_by_profile[profile_id].append({"type": kind, "value": value})
        all_by_profile[profile_id].append({"type": kind, "value": value})

    channels_by_profile: dict[int, list[dict]] = defaultdict(list)
    for profile_id, kind, value, primary, verified, residence, office in channels:
        channels_by_profile[profile_id].append(
            {
                "type": kind,
                "value": value,
                "primary": bool(primary),
                "verified": bool(verified),
                "meta": {"residence": bool(residence), "office": bool(office)},
                "attributes": {},
            }
        )

    profiles_by_customer: dict[int, list[dict]] = defaultdict(list)
    for profile_id, customer_id, first_name, last_name, gender, source, account_id, update_time in profiles:
        profiles_by_customer[customer_id].append(
            {
                "firstName": first_name,
                "lastName": last_name,
                "fields": {"gender": gender},
                "allFields": {},
                "identifiers": listed_by_profile[profile_id],
                "commChannels": channels_by_profile[profile_id],
                "source": source,
                "userId": customer_id,
                "accountId": account_id,
                "conflictingProfileList": [],
                "autoUpdateTime": update_time,
                "identifiersAll": all_by_profile[profile_id],
            }
        )
    return profiles_by_customer
