"""Directory sync: the gateway's members and API keys, upserted by its own ids."""
