"""Read files out of a Qt resource container (``.rcc``, format versions 1 to 3).

GCompris ships its sounds inside ``.rcc`` files. Layout: a 20-byte header (``qres``, version,
tree, data and names offsets; version 3 adds a flags word), a tree of fixed-size nodes
(14 bytes, 22 from version 2), a names table (u16 length, u32 hash, UTF-16BE) and a data
table (u32 size + bytes; zlib-compressed entries carry a u32 uncompressed size first).
"""
from __future__ import annotations

import struct
import zlib
from typing import Iterator

_DIRECTORY, _COMPRESSED, _ZSTD = 0x02, 0x01, 0x04


class RccError(ValueError):
    """The bytes are not a readable Qt resource container."""


def rcc_files(buf: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (path, content) for every file in the container; paths start with '/'."""
    if buf[:4] != b"qres" or len(buf) < 20:
        raise RccError("not a Qt resource file (no 'qres' header)")
    version, tree, data, names = struct.unpack(">IIII", buf[4:20])
    if version not in (1, 2, 3):
        raise RccError(f"unsupported Qt resource version {version}")
    node_size = 14 if version == 1 else 22

    def name(off: int) -> str:
        n = struct.unpack_from(">H", buf, names + off)[0]
        start = names + off + 6
        return buf[start:start + 2 * n].decode("utf-16-be")

    stack = [(0, "")]
    seen = 0
    while stack:
        idx, prefix = stack.pop()
        seen += 1
        if seen > 1_000_000:
            raise RccError("resource tree too large or cyclic")
        off = tree + idx * node_size
        noff, flags = struct.unpack_from(">IH", buf, off)
        path = f"{prefix}/{name(noff)}" if idx else ""
        if flags & _DIRECTORY:
            count, first = struct.unpack_from(">II", buf, off + 6)
            stack.extend((c, path) for c in reversed(range(first, first + count)))
            continue
        doff = struct.unpack_from(">I", buf, off + 10)[0]
        size = struct.unpack_from(">I", buf, data + doff)[0]
        raw = buf[data + doff + 4:data + doff + 4 + size]
        if flags & _ZSTD:
            continue  # zstd entries are not needed by the recipe (none in the pinned packages)
        if flags & _COMPRESSED:
            raw = zlib.decompress(raw[4:])
        yield path, raw
