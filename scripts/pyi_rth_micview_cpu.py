"""PyInstaller runtime hook of the CPU app: hide GPUs from torch, so it never reaches for a CUDA library.

A CPU app built from a CUDA torch keeps only the CUDA libraries torch links directly (docs/packaging.md); cuDNN's
engines, for one, are left out. On a computer with an NVIDIA GPU torch would otherwise try to use it and fail
on the first convolution. Runs before micview (and in every worker process the app starts).
"""

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""
