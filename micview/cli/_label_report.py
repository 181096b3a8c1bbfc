"""What ``micview import-labels`` tells the user: every row and every column of the CSV is accounted for.

The words are :mod:`micview.core.label_report`'s (the window's import report says the same); here the ways to act
are the command's flags.
"""

from __future__ import annotations

from micview.core.csv_io import LabelImportReport
from micview.core.label_report import report_lines


def print_label_report(r: LabelImportReport) -> None:
    for line in report_lines(r, last_wins="--last-wins", match_names="--match-names"):
        print(line)
