"""ServiceLease: which service process leads the background work, and until when.

One row per lease name ("background": the alert worker, the report scheduler and
maintenance). Not tenant data: it is the same for every organization. The holder renews it
before `expires_at_ms` (milliseconds since the epoch on the database's clock, so machines'
clocks never disagree about it); once it has expired any process may take it, and `term`
grows by one with every change of holder, so a log line or a run can say which leadership it
belonged to (coordination/lease.py).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ServiceLease(Model):
    name = fields.CharField(max_length=64, primary_key=True)
    holder = fields.CharField(max_length=200)
    expires_at_ms = fields.BigIntField()
    term = fields.BigIntField()
    acquired_at_ms = fields.BigIntField()

    class Meta:
        table = "service_lease"
