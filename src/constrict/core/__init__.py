"""Layer 1, the foundation: errors, paths, the config loader and the dense LP wrapper (docs/architecture.md)."""
