"""The Relay parts of the schema that are GraphQL's own: how many ids `Query.nodes` takes.

Global ids themselves (base64url("Type:pk"), encoding and decoding) are models/global_ids.py,
one layer down, so exports, alerts, reports and metrics use them without importing graph/.
"""

from __future__ import annotations

# Most ids one Query.nodes call may name (its cost and its reads are bounded by it).
MAX_NODE_IDS = 100
