"""Machine learning: model registry, embedders, embedding runs and model-backed search.

The only layer that imports torch, transformers, open_clip or timm, and always inside functions, so importing
``micview.ml`` (or the CLI that uses it) stays instant until a model is actually used.
"""
