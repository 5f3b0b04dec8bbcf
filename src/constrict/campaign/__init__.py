"""Layer 4, the campaign: plan, shards, screen, statistics, plots, provenance, reference docs (docs/architecture.md)."""
