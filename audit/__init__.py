"""The audit trail of administrative changes (audit.trail records, the API reads)."""
