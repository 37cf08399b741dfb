"""Storage upkeep: request_log partitions ahead of time, raw-log retention, and pruning of
request ids too old to be resent. Run by `aize-analytics maintain` and inside `serve`."""
