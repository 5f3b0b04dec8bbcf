"""Layer 2, the data: entry sources, the entry table and its p = 0 hull, caches, tables."""
