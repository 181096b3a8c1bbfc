"""The generated sample images now live in :mod:`micview.core.sample_data` (the self-test uses them too)."""

from micview.core.sample_data import KINDS, LICENCE, make_image, sample_labels, write_sample

__all__ = ["KINDS", "LICENCE", "make_image", "sample_labels", "write_sample"]
