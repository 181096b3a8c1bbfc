"""Finding the burnt-in data bar at the bottom of a micrograph, so image features can leave it out.

Many micrographs carry a band of one flat colour (mostly black, sometimes white) across their whole width at
the bottom, with the scale bar, magnification and instrument text in it. The band says when and where the
picture was recorded rather than what it shows (in the DoITPoMS library the same black band appears on SEM,
TEM and light micrographs of one era), so a network's texture statistics should not see it.

The test, on the grey image: the bottom rows' most common value is near black or white; going up, rows in
which at least :data:`MIN_SHARE` of the pixels lie within :data:`TOLERANCE` grey levels of it belong to the
band (text inside it leaves a few rows less flat: up to two such rows are bridged); the band must be at least
:data:`MIN_ROWS` rows (and 2 % of the height) tall, at most :data:`MAX_FRACTION` of the image, and start at a
sharp edge — its top rows much flatter than the rows just above, which tells it from an image whose dark or
bright background simply reaches the bottom. On the 345 DoITPoMS dev images read at ≤ 640 px, 60 bands are
found (SEM 21, light microscopy 17, TEM 11, AFM 4, photographs 4, others 3); a contact sheet of every cut,
checked by eye, shows each at the top of a flat band (thin black borders, scale-bar bands, AFM axis labels).
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 24  # grey levels around the band's colour (JPEG ringing around the text)
MIN_SHARE = 0.6  # of a row's pixels at the band's colour
MIN_ROWS = 4
MAX_FRACTION = 0.3  # of the image height
EDGE_JUMP = 0.15  # how much flatter the band's top rows are than the rows above it


def grey(pixels: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 → (H, W) luma (ITU-R 601, as Pillow's ``convert('L')``), rounded."""
    if pixels.ndim == 2:
        return pixels
    if pixels.shape[2] < 3:
        return np.asarray(pixels[:, :, 0])
    luma = pixels[:, :, :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.asarray(np.round(luma), np.float32)


def data_bar_rows(pixels: np.ndarray) -> int:
    """How many rows at the bottom of ``pixels`` (uint8, grey or RGB) are a burnt-in data bar; 0 for none."""
    g = grey(pixels).astype(np.float32)
    h = g.shape[0]
    if h < 20 or g.shape[1] < 20:
        return 0
    values, counts = np.unique(g[-max(2, h // 100) :], return_counts=True)
    colour = float(values[np.argmax(counts)])
    if 40 < colour < 215:
        return 0
    share = (np.abs(g - colour) <= TOLERANCE).mean(axis=1)
    n = _band(share, int(h * MAX_FRACTION))
    if n < max(MIN_ROWS, h // 50):
        return 0
    above = share[max(0, h - n - 3) : h - n]
    if len(above) and share[h - n : h - n + 2].mean() - above.mean() < EDGE_JUMP:
        return 0
    return n


def _band(share: np.ndarray, limit: int) -> int:
    """Rows from the bottom that are flat, bridging up to two less flat rows (text inside the band)."""
    h, n, weak = len(share), 0, 0
    for i in range(1, limit + 1):
        if share[h - i] >= MIN_SHARE:
            n, weak = i, 0
        else:
            weak += 1
            if weak > 2:
                break
    return n


def without_data_bar(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` with the bottom data bar (if any) cut off."""
    n = data_bar_rows(pixels)
    return pixels[: pixels.shape[0] - n] if n else pixels
