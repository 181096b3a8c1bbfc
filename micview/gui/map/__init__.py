"""The embedding map's machinery behind :class:`micview.gui.scatter.ScatterWidget`, all numpy, no per-point Qt objects.

- :mod:`.region`: which points a box or lasso holds (exact, grid-accelerated).
- :mod:`.point_index`: image id <-> row, and the point under the cursor (KD-tree).
- :mod:`.colouring`: a column's values -> one small integer code per point and a colour table.
- :mod:`.density`: the zoomed-out picture: points binned at screen resolution, each bin coloured by its
  majority class (or mean value), selections as a tint with an outline.
- :mod:`.sprites`: the zoomed-in picture: every point in view as an antialiased sprite, one Qt call.
- :mod:`.points_item`: the pyqtgraph item that chooses between the two per frame; :mod:`.marks`: highlight
  layers (selection, search results, anything another view wants to show).
"""
