"""Helpers shared by gymforge's environments to draw pixel images and show them in a pygame window."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Enlarge an (H, W, 3) image by an integer factor, keeping pixels crisp (nearest neighbour)."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


class PygameWindow:
    """A window for `render_mode="human"`: shows (H, W, 3) uint8 frames at the environment's `render_fps`."""

    def __init__(self, title: str, fps: int):
        self.title = title
        self.fps = fps
        self._screen = None
        self._clock = None

    def show(self, frame: np.ndarray) -> None:
        import pygame  # imported here so that rgb_array-only use never touches the display

        if self._screen is None:
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self._screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame.transpose(1, 0, 2)))
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self._clock.tick(self.fps)

    def present(self, frame: np.ndarray, render_mode: str | None) -> np.ndarray | None:
        """What an env's render() returns: the frame for rgb_array; for human, shown in the window and None."""
        if render_mode == "rgb_array":
            return frame
        self.show(frame)
        return None

    def close(self) -> None:
        if self._screen is not None:
            import pygame

            pygame.display.quit()
            self._screen = None


# Cell letters understood by `draw_grid`: the gymforge grid world's alphabet, which the other grids map onto.
_CELL_COLOURS = {
    ".": (200, 200, 200),  # floor
    "S": (200, 200, 200),  # start (floor with a blue frame)
    "#": (45, 45, 50),  # wall
    "G": (40, 170, 70),  # goal
    "L": (200, 70, 30),  # lava
    "H": (30, 60, 120),  # hole (FrozenLake)
    "C": (120, 30, 30),  # cliff
}
_HAZARDS = frozenset("LHC")
# Perceptually ordered colours (dark purple -> teal -> yellow) for the value heat map.
_HEAT = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)


def heat_colours(values: np.ndarray) -> np.ndarray:
    """Map values to (..., 3) uint8 colours, lowest dark purple, highest yellow; NaN values map to grey."""
    finite = np.isfinite(values)
    low, high = (values[finite].min(), values[finite].max()) if finite.any() else (0.0, 0.0)
    scaled = np.where(finite, (values - low) / (high - low) if high > low else 0.5, 0.0)
    position = scaled * (len(_HEAT) - 1)
    index = np.clip(np.floor(position).astype(int), 0, len(_HEAT) - 2)
    fraction = (position - index)[..., None]
    colours = _HEAT[index] * (1 - fraction) + _HEAT[index + 1] * fraction
    colours[~finite] = 200
    return colours.astype(np.uint8)


def draw_grid(
    cells: list[str],
    cell: int = 32,
    values: np.ndarray | None = None,
    directions: np.ndarray | None = None,
    agent: tuple[int, int] | None = None,
) -> np.ndarray:
    """Draw a grid of cell letters as an (rows * cell, cols * cell, 3) uint8 image, headless.

    `values` (rows, cols) colours free cells as a heat map; `directions` (rows, cols) draws an arrow per free
    cell (0 = up, 1 = right, 2 = down, 3 = left, -1 = none); `agent` (row, col) draws a yellow disc.
    """
    import pygame  # drawing on a Surface needs no display

    rows, cols = len(cells), len(cells[0])
    surface = pygame.Surface((cols * cell, rows * cell))
    heat = None
    if values is not None:  # scale the colours over free cells only: walls and terminal cells are marked instead
        free_cells = np.array([[letter in ".S" for letter in row] for row in cells])
        heat = heat_colours(np.where(free_cells, np.asarray(values, dtype=np.float64), np.nan))
    for row in range(rows):
        for col in range(cols):
            letter = cells[row][col]
            rect = pygame.Rect(col * cell, row * cell, cell, cell)
            free = letter in ".S"
            colour = tuple(int(c) for c in heat[row, col]) if heat is not None and free else _CELL_COLOURS[letter]
            surface.fill(colour, rect)
            if letter in _HAZARDS:
                inset = rect.inflate(-cell // 3, -cell // 3)
                pygame.draw.line(surface, (0, 0, 0), inset.topleft, inset.bottomright, max(2, cell // 12))
                pygame.draw.line(surface, (0, 0, 0), inset.topright, inset.bottomleft, max(2, cell // 12))
            elif letter == "G":
                pygame.draw.rect(surface, (255, 255, 255), rect.inflate(-cell // 3, -cell // 3), max(2, cell // 12))
            elif letter == "S":
                pygame.draw.rect(surface, (40, 90, 220), rect.inflate(-2, -2), max(2, cell // 12))
            if free and directions is not None and 0 <= directions[row, col] <= 3:
                _draw_arrow(surface, rect, int(directions[row, col]))
            pygame.draw.rect(surface, (90, 90, 90), rect, 1)
    if agent is not None:
        centre = (agent[1] * cell + cell // 2, agent[0] * cell + cell // 2)
        pygame.draw.circle(surface, (250, 210, 60), centre, cell // 3)
        pygame.draw.circle(surface, (0, 0, 0), centre, cell // 3, 2)
    return pygame.surfarray.array3d(surface).transpose(1, 0, 2).copy()


def _draw_arrow(surface, rect, direction: int) -> None:
    """A white arrow with a black outline, pointing up, right, down or left from the cell's centre."""
    import pygame

    half = rect.width * 0.35
    # An arrow pointing right around the origin, rotated by quarter turns: (x, y) -> (-y, x) turns clockwise.
    shape = [(-half, -half * 0.2), (0.1 * half, -half * 0.2), (0.1 * half, -half * 0.6), (half, 0),
             (0.1 * half, half * 0.6), (0.1 * half, half * 0.2), (-half, half * 0.2)]
    turns = (direction - 1) % 4  # right is direction 1
    for _ in range(turns):
        shape = [(-y, x) for x, y in shape]
    points = [(rect.centerx + x, rect.centery + y) for x, y in shape]
    pygame.draw.polygon(surface, (255, 255, 255), points)
    pygame.draw.polygon(surface, (0, 0, 0), points, 1)
