"""Loading the synthetic player population into the shards (and the single global set)."""
