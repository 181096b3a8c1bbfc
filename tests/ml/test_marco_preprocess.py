"""MARCO's fast preprocessing equals the graph-order reference bit for bit; a batch shared across sessions
gives each image the result it gets alone."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from marco_fixtures import FakeSession
from PIL import Image

from micview.ml.marco.preprocess import SIZE, decode_jpeg, read_rgb, to_input, to_input_reference
from micview.ml.marco.runtime import MarcoModel, cpu_layout

SHAPES = [  # (height, width, channels): up- and downscaling, both orientations, odd sizes, grey, tiny
    (384, 512, 3),
    (600, 599, 3),
    (599, 599, 3),
    (1000, 1333, 3),
    (1333, 1000, 1),
    (2028, 2532, 1),
    (37, 51, 3),
    (1, 1, 3),
    (5000, 700, 3),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_fast_order_is_bit_identical_to_the_graph_order(shape: tuple[int, int, int]) -> None:
    rgb = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    fast, reference = to_input(rgb), to_input_reference(rgb)
    assert fast.shape == reference.shape == (SIZE, SIZE, 3) and fast.dtype == np.float32
    assert np.array_equal(fast, reference)  # exact, not close: the scores must not move at all
    assert fast.min() >= -1.0 and fast.max() <= 1.0


def test_grey_jpeg_is_one_channel_and_equals_the_three_channel_decode(tmp_path: Path) -> None:
    import simplejpeg

    rng = np.random.default_rng(1)
    grey = (rng.random((300, 420)) * 40 + np.linspace(0, 200, 420)).astype(np.uint8)
    path = tmp_path / "grey.jpg"
    Image.fromarray(grey, "L").save(path, quality=90)
    data = path.read_bytes()
    one = decode_jpeg(data)
    three = np.asarray(simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=True, fastupsample=False))
    assert one.shape == (300, 420, 1) and three.shape == (300, 420, 3)
    assert np.array_equal(np.repeat(one, 3, axis=2), three)  # what TensorFlow's channels=3 decode gives
    assert np.array_equal(to_input(one), to_input_reference(three))
    assert read_rgb(path).shape == (300, 420, 1)


def test_grey_with_alpha_png_is_read_as_grey(tmp_path: Path) -> None:
    la = np.zeros((20, 30, 2), np.uint8)
    la[..., 0], la[..., 1] = 77, 255
    buf = io.BytesIO()
    Image.fromarray(la, "LA").save(buf, format="PNG")
    (tmp_path / "la.png").write_bytes(buf.getvalue())
    img = read_rgb(tmp_path / "la.png")
    assert img.shape[2] in (1, 3) and int(img[..., 0].max()) == 77


class _RecordingSession(FakeSession):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def run(self, outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.sizes.append(len(feeds["x"]))
        return super().run(outputs, feeds)


def test_a_batch_shared_by_sessions_gives_each_image_its_own_result() -> None:
    batch = np.random.default_rng(2).random((7, 4, 4, 3), dtype=np.float32) * 2 - 1
    alone = MarcoModel("marco", Path("."), {}, FakeSession())
    sessions = [_RecordingSession() for _ in range(3)]
    shared = MarcoModel("marco", Path("."), {}, sessions[0], sessions[1:])
    (p1, f1), (p3, f3) = alone.run(batch), shared.run(batch)
    assert np.array_equal(p1, p3) and np.array_equal(f1, f3) and p3.shape == (7, 4) and f3.shape == (7, 1056)
    assert [s.sizes for s in sessions] == [[3], [2], [2]]
    shared.run(batch[:1])  # fewer images than sessions: only the first one works
    assert [s.sizes for s in sessions] == [[3, 1], [2], [2]]


def test_cpu_layout_gives_every_core_one_thread_up_to_four_sessions() -> None:
    assert cpu_layout(1) == (1, 1)
    assert cpu_layout(2) == (2, 1)
    assert cpu_layout(4) == (4, 1)
    assert cpu_layout(16) == (4, 4)
    sessions, threads = cpu_layout()
    assert sessions >= 1 and threads >= 1
