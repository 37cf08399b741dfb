"""Administration: the writes behind mutations and the CLI (contract, settings, keys,
members, limit requests, alert rules, report schedules). Each locks the organization row,
records its change in the audit trail and, where limits change, applies spend control."""
