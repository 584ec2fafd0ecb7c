"""Where a point's number goes on the map: beside its dot, touching no other dot or number.

Numbers are placed in the points' order, each at the first of four spots around its dot
(right, left, above, below) whose box is clear of every dot, every number already placed and
the obstacles given (the zones' key letters). A number with no clear spot is left out; the
legend's table still lists it. The boxes are estimated from the font size (digits of a sans
serif font are about 0.6 em wide), which is what makes the placement deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]  # left, top, right, bottom

DOT_RADIUS = 4.0  # a dot's radius with a little air around it
GAP = 2.0
DIGIT_WIDTH_EM = 0.62
HEIGHT_EM = 0.78  # the digits' height above the baseline, with a little air


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class LabelPlacer:
    """Places numbers beside dots without overlaps (a grid of cells keeps it near-linear)."""

    def __init__(self, dots: Sequence[tuple[float, float]], obstacles: Sequence[Box],
                 font_size: float) -> None:  # fmt: skip
        self.dots = list(dots)
        self.font_size = font_size
        self.cell = max(4 * font_size, 1.0)
        self._grid: dict[tuple[int, int], list[tuple[int, Box]]] = {}
        for index, (x, y) in enumerate(self.dots):
            r = DOT_RADIUS
            self._add(index, (x - r, y - r, x + r, y + r))
        for obstacle in obstacles:
            self._add(-1, obstacle)

    def _cells(self, box: Box) -> list[tuple[int, int]]:
        c = self.cell
        return [
            (i, j)
            for i in range(int(box[0] // c), int(box[2] // c) + 1)
            for j in range(int(box[1] // c), int(box[3] // c) + 1)
        ]

    def _add(self, owner: int, box: Box) -> None:
        for cell in self._cells(box):
            self._grid.setdefault(cell, []).append((owner, box))

    def _clear(self, owner: int, box: Box) -> bool:
        return not any(
            other != owner and _overlaps(box, taken)
            for cell in self._cells(box)
            for other, taken in self._grid.get(cell, ())
        )

    def place(self, index: int, text: str) -> tuple[float, float, str] | None:
        """The baseline position and text-anchor of dot ``index``'s ``text``, or None when it
        fits nowhere; a placed label becomes an obstacle for the later ones."""
        x, y = self.dots[index]
        width = DIGIT_WIDTH_EM * self.font_size * len(text)
        height = HEIGHT_EM * self.font_size
        offset = DOT_RADIUS + GAP
        spots: list[tuple[Box, tuple[float, float, str]]] = [
            ((x + offset, y - height / 2, x + offset + width, y + height / 2),
             (x + offset, y + height / 2, "start")),
            ((x - offset - width, y - height / 2, x - offset, y + height / 2),
             (x - offset, y + height / 2, "end")),
            ((x - width / 2, y - offset - height, x + width / 2, y - offset),
             (x, y - offset, "middle")),
            ((x - width / 2, y + offset, x + width / 2, y + offset + height),
             (x, y + offset + height, "middle")),
        ]  # fmt: skip
        for box, anchor in spots:
            if self._clear(index, box):
                self._add(index, box)
                return anchor
        return None
