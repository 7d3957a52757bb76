"""The local account's patches of moto, by purpose, and the one order they are applied in.

Each module holds the patches of one purpose: ``fidelity`` (moto answers as AWS documents; a package of
one module per AWS service), ``fault_injection`` (the injected faults of ``local_account.fault_plan``),
``sqs_metering`` (counters for the cost model, ``local_account.meter``), ``speedups`` (the same answers
with less work: one group, which ``CQRS_LOCAL_ACCOUNT_SPEEDUPS=0`` switches off) and ``features`` (what
moto lacks); DynamoDB's values are held by ``local_account.dynamodb_values``. ``PATCHES`` lists every
patch by name and purpose in the order applied through ``local_account.patching``, which checks moto's
version first, refuses a patch whose target is missing and can undo them all; each names the test that
fails without it, in the test file laid out like its module (``make check-patches``). None changes what
the Terraform modules or the Lambda package do.
"""

from __future__ import annotations

import functools
import sys

from .. import dynamodb_values
from ..patching import Patch, Patcher, check_versions
from . import fault_injection, features, fidelity, speedups, sqs_metering

# Every patch of moto, by purpose, in the order applied (local_account/patching.py). The order matters where
# two patches wrap one method: the outer (applied later) runs first. Speed-ups come last: they remember
# each handler's methods, Update* included.
PATCHES = [
    Patch(
        "SQS RedrivePolicy as compact JSON",
        "fidelity",
        fidelity.sqs.compact_json_for_sqs,
        "tests/local_account/patches/fidelity/test_sqs.py::test_redrive_policy_is_compact_json_as_aws_returns_it",
    ),
    Patch(
        "SQS message actions whole",
        "fidelity",
        fidelity.sqs.message_actions_whole,
        "tests/local_account/patches/fidelity/test_sqs.py::test_receives_beside_other_receives_are_answered_never_refused",
    ),
    Patch(
        "a missing table named in its error",
        "fidelity",
        fidelity.dynamodb.missing_tables_named,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_a_missing_table_is_named_in_the_answer_as_dynamodb_names_it",
    ),
    Patch(
        "numbers and strings held as DynamoDB holds them",
        "fidelity",
        dynamodb_values.hold_values_as_dynamodb_does,
        "tests/local_account/test_dynamodb_values.py::test_numbers_are_stored_as_dynamodb_stores_them",
    ),
    Patch(
        "no delivery to mapped functions by moto",
        "fidelity",
        fidelity.lambdas.no_delivery_by_moto,
        "tests/local_account/patches/fidelity/test_lambdas.py::test_moto_itself_delivers_nothing_to_a_mapped_function",
    ),
    Patch(
        "one stream record per UpdateItem",
        "fidelity",
        fidelity.dynamodb.one_record_per_update,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_an_update_that_creates_an_item_streams_one_insert_with_the_whole_item",
    ),
    Patch(
        "an UpdateItem writes all or nothing",
        "fidelity",
        fidelity.dynamodb.atomic_updates,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_an_update_whose_later_action_fails_writes_none_of_its_actions",
    ),
    Patch(
        "a failed transaction rolled back item by item",
        "fidelity",
        fidelity.dynamodb.item_level_rollback,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_a_cancelled_transaction_on_a_streamed_table_emits_nothing_and_the_stream_goes_on",
    ),
    Patch(
        "latency, capacity and conflicts on the summary table",
        "faults",
        fault_injection.summary_capacity,
        "tests/local_account/patches/test_fault_injection.py::test_a_throttled_transaction_is_cancelled_with_the_reason_and_writes_nothing",
    ),
    Patch(
        "DynamoDB writes isolated from each other",
        "fidelity",
        fidelity.dynamodb.isolated_writes,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_a_write_waits_while_another_write_is_in_progress",
    ),
    Patch(
        "writes overlapping a transaction conflict",
        "fidelity",
        fidelity.dynamodb.conflicting_overlaps,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_writes_that_overlap_a_transaction_on_its_items_conflict_rather_than_queue",
    ),
    Patch(
        "item reads wait for the write lock",
        "fidelity",
        fidelity.dynamodb.isolated_reads,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_an_item_read_waits_while_a_write_is_in_progress",
    ),
    Patch(
        "stream reads wait for the write lock",
        "fidelity",
        fidelity.dynamodb.isolated_reads_of_streams,
        "tests/local_account/patches/fidelity/test_dynamodb.py::test_a_stream_read_waits_while_a_write_is_in_progress",
    ),
    Patch(
        "a pipe's source batch no larger than its target takes",
        "fidelity",
        fidelity.pipes.pipe_batches_the_target_takes,
        "tests/local_account/patches/fidelity/test_pipes.py::test_a_pipe_whose_source_batch_is_larger_than_its_event_bus_target_takes_is_refused",
    ),
    Patch(
        "a pipe's role may read its source",
        "fidelity",
        fidelity.pipes.pipe_role_may_read_its_source,
        "tests/local_account/patches/fidelity/test_pipes.py::test_a_pipe_whose_role_may_not_read_its_source_stream_is_refused",
    ),
    Patch(
        "a pipe on a disabled stream held",
        "fidelity",
        fidelity.pipes.pipes_held_on_a_disabled_source,
        "tests/local_account/patches/fidelity/test_pipes.py::test_a_pipe_whose_source_stream_was_disabled_cannot_be_stopped_started_or_updated_only_deleted",
    ),
    Patch(
        "SQS messages delayed out of order",
        "faults",
        fault_injection.reordering_delays,
        "tests/local_account/patches/test_fault_injection.py::test_the_reorder_fault_delays_a_message_so_later_ones_overtake_it",
    ),
    Patch(
        "rule targets' events overtaken",
        "faults",
        fault_injection.rule_targets_overtaken,
        "tests/local_account/patches/test_fault_injection.py::test_the_overtake_fault_delivers_a_rules_event_to_its_target_after_later_ones",
    ),
    Patch(
        "SQS requests counted",
        "metering",
        sqs_metering.sqs_metering,
        "tests/local_account/patches/test_sqs_metering.py::test_the_meter_counts_write_units_per_table_and_sqs_requests_that_carry_messages",
    ),
    Patch(
        "API Gateway stages dated",
        "fidelity",
        fidelity.apigateway.stages_dated,
        "tests/local_account/patches/fidelity/test_apigateway.py::test_a_stage_says_when_it_was_created_and_last_updated",
    ),
    Patch(
        "API Gateway stage updates seen whole",
        "fidelity",
        fidelity.apigateway.stage_updates_whole,
        "tests/local_account/patches/fidelity/test_apigateway.py::test_a_stage_update_is_seen_whole_or_not_at_all",
    ),
    Patch(
        "API Gateway parameters read where AWS reads them",
        "fidelity",
        fidelity.apigateway.parameters_where_aws_reads_them,
        "tests/local_account/patches/fidelity/test_apigateway.py::test_a_template_is_only_a_template_never_the_requests_parameters",
    ),
    Patch(
        "API Gateway: a missing integration is not found",
        "fidelity",
        fidelity.apigateway.missing_integrations_not_found,
        "tests/local_account/patches/fidelity/test_apigateway.py::test_a_method_without_an_integration_answers_not_found",
    ),
    Patch(
        "API Gateway deployments are snapshots",
        "fidelity",
        fidelity.apigateway.deployments_are_snapshots,
        "tests/local_account/patches/fidelity/test_apigateway.py::test_a_stage_serves_its_deployment_as_it_was_when_made",
    ),
    Patch(
        "API Gateway Update* actions",
        "feature",
        features.api_gateway_updates,
        "tests/local_account/patches/test_features.py::test_methods_integrations_models_and_resources_update_in_place",
    ),
    Patch(
        "API Gateway authorizers' user pools updated",
        "feature",
        features.authorizer_pools_updated,
        "tests/local_account/patches/test_features.py::test_an_authorizers_user_pools_are_added_and_removed_in_place",
    ),
    Patch(
        "Lambda Invoke in the local runtime",
        "feature",
        features.invocations_run_locally,
        "tests/local_account/patches/test_features.py::test_lambda_invoke_runs_in_the_local_runtime",
    ),
    Patch(
        "calls held to the function's execution role",
        "fidelity",
        fidelity.iam.execution_roles_enforced,
        "tests/local_account/patches/fidelity/test_iam.py::test_a_function_is_refused_what_its_role_does_not_allow_and_granted_what_it_does",
    ),
    Patch(
        "stage logging needs the account's CloudWatch role",
        "fidelity",
        fidelity.apigateway.logging_needs_the_account_role,
        "tests/local_account/patches/fidelity/test_apigateway.py::test_logging_is_refused_until_the_account_names_api_gateways_cloudwatch_role",
    ),
    Patch(
        "a log group's KMS key must let CloudWatch Logs use it",
        "fidelity",
        fidelity.logs.log_group_keys_checked,
        "tests/local_account/patches/fidelity/test_logs.py::test_a_log_group_is_encrypted_only_with_a_key_cloudwatch_logs_may_use",
    ),
    Patch(
        "queue policies hold senders by aws:PrincipalArn",
        "fidelity",
        fidelity.iam.queue_policies_held,
        "tests/local_account/patches/fidelity/test_iam.py::test_a_queue_policy_sees_an_assumed_roles_session_as_its_role_path_included",
    ),
    *speedups.SPEEDUPS,
]


def chosen() -> list[Patch]:
    """The patches to apply: every one, less the speed-ups when they are switched off (speedups.SWITCH)."""
    return PATCHES if speedups.switched_on() else [p for p in PATCHES if p.purpose != "speed"]


@functools.cache
def patch_moto() -> Patcher:
    """Check moto's version, then apply the chosen patches, once per process; the patcher can undo them."""
    check_versions()
    patches = chosen()
    if len(patches) < len(PATCHES):
        left_out = len(PATCHES) - len(patches)
        print(f"local account: the {left_out} speed-ups left out ({speedups.SWITCH})", file=sys.stderr)
    patcher = Patcher()
    patcher.apply(patches)
    return patcher
