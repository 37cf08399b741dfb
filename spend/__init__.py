"""Spend control's home: what money does when usage is written and when limits change.

- control.py: key limits, the organization budget and low balance, enforced where money moves
  (after an ingest write, and after each settings change);
- state.py: the organization, key and spend-counter rows read and written under lock, in the
  one lock order every path follows;
- deductions.py: the money side of an ingest write (wallet deduction, spend counters);
- wallet.py: deposits, refunds and the low-balance threshold (ledger writes);
- budgets.py: the organization budget and a key's limit, status and allowed models, changed;
- out_of_range.py: the batch refused when a running total would leave 64 bits.

GraphQL mutations (graph/mutations/budgets.py, wallet.py) are thin callers of these.
"""
