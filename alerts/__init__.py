"""Usage alerts and alert delivery.

`rules` checks DAILY_SPEND, UNUSUAL_ACTIVITY and ERROR_RATE rules (windows and baselines in
`baseline`, once-per-episode state in `rule_state`); `outbox` writes deliveries in the
transaction that fires an event; `delivery` sends them (`webhook`, `email`) with retries;
`worker` runs both in the service, `run_once` from the CLI. docs/readme/alerts.md has the
methods and the configuration.
"""
