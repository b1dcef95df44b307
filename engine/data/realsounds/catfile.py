"""Read the sounds out of an OpenTTD base sound set container (``.cat``, e.g. OpenSFX's opensfx.cat).

Layout (all little-endian): a table of ``count`` (u32 offset, u32 size) pairs, where the first
offset is the table's length (``count * 8``); the new format sets the offsets' top bit. Each
entry at ``offset`` holds a u8 length and that many bytes of a description (OpenSFX: the
sound's title, its source recording, author and license), then the WAV file (``RIFF``) to
``offset + size``. OpenSFX follows each entry with a name record (u8 length, e.g.
``src/wav/osfx_04.wav``, NUL-terminated, after zero padding) before the next entry; when it is there it names the
file, otherwise the entry is ``NN.wav`` (its index).
"""
from __future__ import annotations

import re
import struct
from typing import Iterator

_TOP = 0x80000000
_NAME = re.compile(rb"[\x01-\xff]([\w./-]+\.wav)\x00")


class CatError(ValueError):
    """The bytes are not a readable OpenTTD sound container."""


def cat_files(buf: bytes) -> Iterator[tuple[str, bytes, str]]:
    """Yield (name, WAV bytes, description) for every sound in the container (empty entries skipped)."""
    if len(buf) < 8:
        raise CatError("too short for an OpenTTD sound container")
    first = struct.unpack_from("<I", buf, 0)[0] & ~_TOP
    if first == 0 or first % 8 or first > len(buf):
        raise CatError("not an OpenTTD sound container (bad offset table)")
    count = first // 8
    table = [(o & ~_TOP, s) for o, s in struct.iter_unpack("<II", buf[:first])]
    for i, (off, size) in enumerate(table):
        if off + size > len(buf) or size < 1:
            raise CatError(f"entry {i} runs past the end of the container")
        n = buf[off]
        desc = buf[off + 1:off + 1 + n].rstrip(b"\x00").decode("utf-8", errors="replace")
        wav = buf[off + 1 + n:off + size]
        if wav[:4] != b"RIFF":
            continue
        following = buf[off + size:table[i + 1][0] if i + 1 < count else len(buf)]
        m = _NAME.search(following)
        name = m.group(1).decode() if m else f"{i:02d}.wav"
        yield name, wav, desc
