"""The wallet's write side: deposits, refunds and the low-balance threshold (ledger writes)."""
