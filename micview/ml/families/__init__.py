"""Loaders, one per model family, each ``load(spec, where) -> Embedder`` (named in the registry)."""
