"""The wallet ledger is listed by id: wallet_entry's index (organization_id, created_at, id)
becomes (organization_id, id).

Entries are numbered while the writer holds the organization's row lock, so ids follow the
order the balance changed in; `created_at` of an ingest entry used to be taken before that
lock, and listing by it showed entries whose `balanceAfter` did not chain
(resolvers/wallet.py).
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0008_request_log_failed_index")]

    initial = False

    operations = [
        ops.RemoveIndex(model_name="WalletEntry", name="wallet_org_created"),
        ops.AddIndex(
            model_name="WalletEntry",
            index=Index(fields=["organization_id", "id"], name="wallet_org_id"),
        ),
    ]
