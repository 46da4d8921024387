"""Map tiles from the machine itself: a folder of ``{z}/{x}/{y}.png|jpg`` (what the tile
downloaders Chinese GIS staff use, and gdal2tiles.py --xyz, produce) or one MBTiles file (SQLite,
TMS rows, as GDAL's MBTILES driver and most downloaders write it). What the vacancy map draws on
an intranet with no internet."""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

# Image types by their first bytes: a tile's name need not say what it is.
_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"RIFF", "image/webp"), (b"GIF8", "image/gif"))
SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def media_type(data: bytes) -> str:
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media
    return "application/octet-stream"


@dataclass
class TileSource:
    """Tiles from ``path``: a folder or an .mbtiles file. ``get`` answers one tile or None."""
    path: Path
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def __post_init__(self):
        self.path = Path(self.path)
        if not self.path.exists():
            raise FileNotFoundError(f"no tiles at {self.path}")
        self.mbtiles = self.path.is_file()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:  # one read-only connection per thread: sqlite3 objects stay in their thread
            db = self._local.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=True)
        return db

    def metadata(self) -> dict[str, str]:
        """An MBTiles file's metadata (name, format, minzoom, maxzoom, attribution…); {} for a folder."""
        if not self.mbtiles:
            return {}
        try:
            return {k: v for k, v in self._db().execute("SELECT name, value FROM metadata")}
        except sqlite3.DatabaseError:
            return {}

    def max_zoom(self, default: int = 18) -> int:
        if self.mbtiles:
            value = self.metadata().get("maxzoom")
            return int(value) if value and value.isdigit() else default
        levels = [int(p.name) for p in self.path.iterdir() if p.is_dir() and p.name.isdigit()]
        return max(levels) if levels else default

    def get(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile at zoom ``z``, column ``x``, row ``y`` (XYZ numbering, rows from the top) and
        its media type; None where the source has none."""
        if not (0 <= z <= 24 and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
            return None
        if self.mbtiles:
            row = self._db().execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                                     "AND tile_row = ?", (z, x, 2 ** z - 1 - y)).fetchone()  # TMS rows from the bottom
            return (bytes(row[0]), media_type(bytes(row[0]))) if row else None
        for suffix in SUFFIXES:
            tile = self.path / str(z) / str(x) / f"{y}{suffix}"
            if tile.is_file():
                data = tile.read_bytes()
                return data, media_type(data)
        return None
