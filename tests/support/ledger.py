"""A details table in memory that emits the DynamoDB stream records a real table would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_aggregator.domain import Key, Totals, fold

Image = dict[str, dict[str, str]]


def image(
    account: str, txid: str, kind: str, amount: str, at: str = "2026-01-01T00:00:00Z", *, currency: str = "EUR"
) -> Image:
    """A details row as DynamoDB JSON; a hold's row, a capture and a release name the hold ``txid`` (a capture
    is not final), as the API's rows do."""
    row: Image = {
        "accountId": {"S": account},
        "transactionId": {"S": txid},
        "type": {"S": kind},
        "amount": {"N": amount},
        "currency": {"S": currency},
        "occurredAt": {"S": at},
    }
    return row | hold_attributes(kind, txid)


def hold_attributes(kind: str, hold_id: str) -> dict[str, Any]:
    """What a row of ``kind`` carries beside its money when it is a hold's (docs/holds.md): the hold it names,
    and for a capture whether it is final (not, here)."""
    named = {"holdId": {"S": hold_id}} if kind in ("hold", "capture", "release") else {}
    return named | ({"final": {"BOOL": False}} if kind == "capture" else {})


@dataclass
class Ledger:
    """Rows keyed by (account, transaction) and the stream records of every change, in order."""

    rows: dict[tuple[str, str], Image] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    _sequence: int = 0

    def put(self, row: Image) -> dict[str, Any]:
        """Insert or overwrite a row (INSERT or MODIFY)."""
        key = (row["accountId"]["S"], row["transactionId"]["S"])
        old = self.rows.get(key)
        self.rows[key] = row
        return self._emit("MODIFY" if old else "INSERT", key, row, old)

    def remove(self, account: str, txid: str) -> dict[str, Any]:
        """Delete a row (REMOVE)."""
        old = self.rows.pop((account, txid))
        return self._emit("REMOVE", (account, txid), None, old)

    def _emit(self, name: str, key: tuple[str, str], new: Image | None, old: Image | None) -> dict[str, Any]:
        self._sequence += 1
        stream: dict[str, Any] = {
            "Keys": {"accountId": {"S": key[0]}, "transactionId": {"S": key[1]}},
            "SequenceNumber": f"{self._sequence:021d}",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            stream["NewImage"] = new
        if old is not None:
            stream["OldImage"] = old
        record = {
            "eventID": f"ev{self._sequence:08d}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": stream,
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/details/stream/2026-01-01T00:00:00.000",
        }
        self.records.append(record)
        return record


def expected_totals(ledger: Ledger) -> dict[Key, Totals]:
    """Totals per (account, currency) that hold any, as the fold of the valid rows."""
    return {k: s.totals for k, s in fold(ledger.rows.values()).items() if not s.totals.is_zero()}


def two_accounts(rows: int, amount: str) -> Ledger:
    """A ledger of ``rows`` EUR credits of ``amount``, alternating between acc-0 and acc-1."""
    ledger = Ledger()
    for i in range(rows):
        ledger.put(image(f"acc-{i % 2}", f"t{i}", "credit", amount))
    return ledger
