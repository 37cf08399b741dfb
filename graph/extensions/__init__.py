"""Strawberry schema extensions, one per module, and the order the schema runs them in."""

from __future__ import annotations

from strawberry.extensions import SchemaExtension

from graph.extensions.alias_limit import AliasLimit
from graph.extensions.document_cache import DocumentCache
from graph.extensions.error_codes import ErrorCodes
from graph.extensions.input_size import InputSizeLimit
from graph.extensions.nul_characters import NulCharacters
from graph.extensions.operation_metrics import OperationMetrics
from graph.extensions.operation_name import OperationNameRequired
from graph.extensions.query_cost import QueryCostLimit
from graph.extensions.query_depth import QueryDepthLimit
from graph.extensions.query_tokens import QueryTokenLimit
from graph.extensions.rate_limit import RateLimit
from graph.extensions.replica_reads import ReplicaReads
from graph.extensions.request_timeout import RequestTimeout

# Classes, not instances: strawberry builds fresh extensions for every request. Hooks run
# in this order and unwind in reverse, which the order relies on:
# - OperationMetrics first, so it counts errors after ErrorCodes has coded them (no
#   resolve hook: graph/execution.py's short path stays on);
# - ErrorCodes next, so it codes the errors every other extension produced;
# - RateLimit before QueryCostLimit, so the cost is requested before it is charged;
# - InputSizeLimit before the parser reads the document (and before DocumentCache);
# - DocumentCache after every extension that sets parse options or adds validation rules;
# - ReplicaReads before RequestTimeout, so whatever execution starts sees its choice;
# - RequestTimeout last, so its deadline wraps execution only.
SCHEMA_EXTENSIONS: list[type[SchemaExtension]] = [
    OperationMetrics,
    ErrorCodes,
    RateLimit,
    InputSizeLimit,
    OperationNameRequired,
    QueryTokenLimit,
    QueryDepthLimit,
    AliasLimit,
    NulCharacters,
    QueryCostLimit,
    DocumentCache,
    ReplicaReads,
    RequestTimeout,
]

__all__ = ["SCHEMA_EXTENSIONS"]
