"""The API's stage, where the balance guard's state lives: its table and epoch (Terraform's) and the epoch
that ``guard init`` marked initialised (the operator's). Stage variables take effect at once, without a new
deployment (https://docs.aws.amazon.com/apigateway/latest/developerguide/stage-variables.html).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from .guard import SETTLE_SECONDS, STAGE_INITIALISED, GuardState, Initialised, Reads, guard_state, initialise
from .reconcile import scan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ApiStage:
    """One REST API stage, read and marked through API Gateway's control plane (apigateway:GET, PATCH)."""

    def __init__(self, apigateway: Any, rest_api_id: str, stage_name: str) -> None:
        self._client = apigateway
        self._api = rest_api_id
        self._stage = stage_name

    def read(self) -> GuardState:
        """The guard's state as the stage holds it now, with when the stage last changed and when API Gateway
        answered (its HTTP Date), both by API Gateway's clock."""
        stage = self._client.get_stage(restApiId=self._api, stageName=self._stage)
        date = stage.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        answered = parsedate_to_datetime(date) if date else None
        return guard_state(stage.get("variables") or {}, stage.get("lastUpdatedDate"), answered)

    def mark_initialised(self, epoch: str) -> None:
        """Set ``guardInitialised`` to ``epoch``: from the next request on, a first credit creates its item
        seeded. Terraform ignores this variable (modules/api/stage.tf), so an apply leaves it as it is."""
        self._client.update_stage(
            restApiId=self._api,
            stageName=self._stage,
            patchOperations=[{"op": "replace", "path": f"/variables/{STAGE_INITIALISED}", "value": epoch}],
        )


def guard_init(
    dynamodb: DynamoDBClient,
    apigateway: Any,
    outputs: Mapping[str, Any],
    settle: float = SETTLE_SECONDS,
    wait: Callable[[float], None] = time.sleep,
) -> Initialised:
    """``ledger-ops guard init`` on a deployed stack, from its Terraform outputs (the API's stage and the
    details table): every balance item of the stage's epoch seeded, and the epoch marked initialised."""
    details = outputs["details_table"]["name"]
    reads = Reads(
        rows=lambda: scan(dynamodb, details),
        items=lambda table: scan(dynamodb, table),
        now=lambda: datetime.now(UTC),
        wait=wait,
    )
    return initialise(dynamodb, ApiStage(apigateway, outputs["rest_api_id"], outputs["stage_name"]), reads, settle)
