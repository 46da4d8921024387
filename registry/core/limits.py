"""How large a thing the registry accepts: the configurable ceilings that keep one careless or
hostile file or form from taking a server's time, memory or disk (docs/operations.md lists them).

Each is read from its environment variable when asked, so a test or an operator can change it
without a restart of the code that reads it; a value that is not a positive integer is ignored.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    env: str
    default: int
    what: str  # in words, for messages and the documentation

    def __call__(self) -> int:
        raw = os.environ.get(self.env, "").strip()
        return int(raw) if raw.isdigit() and int(raw) > 0 else self.default


STOREYS = Limit("REGISTRY_MAX_STOREYS", 200, "一栋楼的地上层数")
UNITS_PER_BUILDING = Limit("REGISTRY_MAX_UNITS_PER_BUILDING", 2000, "一栋楼的单元数")
VERTICES = Limit("REGISTRY_MAX_VERTICES", 20000, "一个图形的顶点数")
IMPORT_FEATURES = Limit("REGISTRY_MAX_IMPORT_FEATURES", 1_000_000, "一次导入的要素数")
DXF_ENTITIES = Limit("REGISTRY_MAX_DXF_ENTITIES", 200_000, "一个 DXF 文件的图元数")
SHEET_ROWS = Limit("REGISTRY_MAX_SHEET_ROWS", 100_000, "一张工作表的行数")
ARCHIVE_MB = Limit("REGISTRY_MAX_ARCHIVE_MB", 2048, "压缩包解压后的大小（MB）")
PREVIEW_ROWS = Limit("REGISTRY_MAX_PREVIEW_ROWS", 500, "预览页列出的行数")
TEXT_CHARS = Limit("REGISTRY_MAX_TEXT_CHARS", 10_000, "一段说明文字的字数")

ALL = (STOREYS, UNITS_PER_BUILDING, VERTICES, IMPORT_FEATURES, DXF_ENTITIES, SHEET_ROWS, ARCHIVE_MB,
       PREVIEW_ROWS, TEXT_CHARS)
