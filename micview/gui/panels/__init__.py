"""Side-panel tabs (Classify, VQA, Analysis), each a self-contained QWidget."""
