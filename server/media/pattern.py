"""Test-pattern frames drawn without any imaging library: a flat colour, big text, a frame
counter and a moving bar, in yuv420p. Used by the recorded-message clips and the slate."""

from __future__ import annotations

import av

_F = {
    "A": (14, 17, 17, 31, 17, 17, 17), "B": (30, 17, 17, 30, 17, 17, 30), "C": (14, 17, 16, 16, 16, 17, 14),
    "D": (30, 17, 17, 17, 17, 17, 30), "E": (31, 16, 16, 30, 16, 16, 31), "F": (31, 16, 16, 30, 16, 16, 16),
    "G": (14, 17, 16, 23, 17, 17, 15), "H": (17, 17, 17, 31, 17, 17, 17), "I": (14, 4, 4, 4, 4, 4, 14),
    "J": (7, 2, 2, 2, 2, 18, 12), "K": (17, 18, 20, 24, 20, 18, 17), "L": (16, 16, 16, 16, 16, 16, 31),
    "M": (17, 27, 21, 21, 17, 17, 17), "N": (17, 17, 25, 21, 19, 17, 17), "O": (14, 17, 17, 17, 17, 17, 14),
    "P": (30, 17, 17, 30, 16, 16, 16), "Q": (14, 17, 17, 17, 21, 18, 13), "R": (30, 17, 17, 30, 20, 18, 17),
    "S": (15, 16, 16, 14, 1, 1, 30), "T": (31, 4, 4, 4, 4, 4, 4), "U": (17, 17, 17, 17, 17, 17, 14),
    "V": (17, 17, 17, 17, 17, 10, 4), "W": (17, 17, 17, 21, 21, 21, 10), "X": (17, 17, 10, 4, 10, 17, 17),
    "Y": (17, 17, 17, 10, 4, 4, 4), "Z": (31, 1, 2, 4, 8, 16, 31), "0": (14, 17, 19, 21, 25, 17, 14),
    "1": (4, 12, 4, 4, 4, 4, 14), "2": (14, 17, 1, 2, 4, 8, 31), "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2), "5": (31, 16, 30, 1, 1, 17, 14), "6": (6, 8, 16, 30, 17, 17, 14),
    "7": (31, 1, 2, 4, 8, 8, 8), "8": (14, 17, 17, 14, 17, 17, 14), "9": (14, 17, 17, 15, 1, 2, 12),
    "-": (0, 0, 0, 31, 0, 0, 0), ".": (0, 0, 0, 0, 0, 12, 12), ":": (0, 12, 12, 0, 12, 12, 0),
    "'": (4, 4, 0, 0, 0, 0, 0), ",": (0, 0, 0, 0, 12, 4, 8), " ": (0,) * 7,
}
# (U, V) of the flat background; tests tell sources apart by it
HUES: dict[str, tuple[int, int]] = {
    "slate": (128, 128), "clip": (90, 200), "blue": (200, 110), "green": (70, 70), "red": (128, 40),
}


def text_width(text: str, scale: int) -> int:
    return len(text) * 6 * scale


def draw_text(luma: bytearray, width: int, x: int, y: int, text: str, scale: int, value: int = 235) -> None:
    """Draw ``text`` (upper-cased; unknown characters become blanks) into a luma plane."""
    run = bytes([value]) * scale
    for i, char in enumerate(text.upper()):
        glyph = _F.get(char, _F[" "])
        gx = x + i * 6 * scale
        for row, bits in enumerate(glyph):
            for col in range(5):
                if bits & (16 >> col):
                    px = gx + col * scale
                    if px < 0 or px + scale > width:
                        continue
                    for dy in range(scale):
                        off = (y + row * scale + dy) * width + px
                        if 0 <= off and off + scale <= len(luma):
                            luma[off:off + scale] = run


class Painter:
    """Frames of one pattern: the title lines are drawn once, the counter and the bar per frame."""

    def __init__(self, width: int, height: int, lines: list[str], hue: str) -> None:
        self.width, self.height = width, height
        self.u, self.v = HUES.get(hue, HUES["slate"])
        base = bytearray([60]) * (width * height)
        y = height // 5
        for line in lines:
            scale = 4
            while scale > 1 and text_width(line, scale) > width - 20:
                scale -= 1
            draw_text(base, width, max(10, (width - text_width(line, scale)) // 2), y, line, scale)
            y += 10 * scale
        self.base = base

    def frame(self, index: int) -> av.VideoFrame:
        w, h = self.width, self.height
        luma = bytearray(self.base)
        draw_text(luma, w, 20, h - 60, f"FRAME {index:05d}", 3)
        bar = (index * 8) % (w - 16)
        for row in range(h - 90, h - 70):
            luma[row * w + bar: row * w + bar + 16] = b"\xeb" * 16
        frame = av.VideoFrame(w, h, "yuv420p")
        _fill(frame.planes[0], bytes(luma), w, h)
        _fill(frame.planes[1], bytes([self.u]) * (w // 2 * h // 2), w // 2, h // 2)
        _fill(frame.planes[2], bytes([self.v]) * (w // 2 * h // 2), w // 2, h // 2)
        return frame


def _fill(plane: av.video.plane.VideoPlane, data: bytes, width: int, height: int) -> None:
    stride = plane.line_size
    if stride == width:
        plane.update(data)
        return
    pad = bytes(stride - width)
    plane.update(b"".join(data[r * width:(r + 1) * width] + pad for r in range(height)))
