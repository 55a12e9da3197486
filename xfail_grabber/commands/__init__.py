"""The click layer: one module per verb (the only place click is imported)."""
