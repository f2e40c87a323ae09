"""Build a zip the way macOS makes one, for the ingest tests (no Mac needed).

What macOS's Archive Utility does ("Compress" in the Finder, the same as
``ditto -c -k --sequesterRsrc --keepParent FOLDER FOLDER.zip``):

* the folder itself is the top entry (``--keepParent``), with directory entries;
* each file's extended attributes (here ``com.apple.quarantine``, which every downloaded
  file carries, and ``com.apple.lastuseddate#PS``) and its resource fork are not in the
  file: they go, as an AppleDouble file, to ``__MACOSX/<folder>/._<name>``
  (``--sequesterRsrc``), written right after the file it belongs to;
* the Finder's ``.DS_Store`` is zipped like any file, with its own ``._.DS_Store``;
* entries are deflated and streamed, so each has a data descriptor (flag bit 3); "made by"
  is Unix (3) version 2.1, and the external attributes hold the Unix mode.

The AppleDouble files follow the layout macOS writes (``copyfile(3)``): a version 2 header
with the filler ``"Mac OS X        "``, a Finder Info entry (id 9) at offset 0x32 that also
holds the ``ATTR`` extended-attribute block, and a resource fork entry (id 2) holding the
standard empty resource map ("This resource fork intentionally left blank"), 4096 bytes in
all. The ``.DS_Store`` is its ``Bud1`` header padded to the usual 6148 bytes (the Finder's
records inside it do not matter here).

``alongside=True`` makes the other shape: ``<folder>/._<name>`` next to each file, as when a
Mac copied the folder to a USB stick or network share and the zip was made from there.
"""

from __future__ import annotations

import io
import struct
import zipfile

_WHEN = (2025, 3, 3, 10, 15, 0)
_FINDER_INFO = 9
_RESOURCE_FORK = 2
_RSRC_AT = 0xEE2  # where macOS puts the resource fork, so the file is 4096 bytes


def _blank_resource_fork() -> bytes:
    header = struct.pack(">IIII", 0x100, 0x100, 0, 0x1E)
    text = b"This resource fork intentionally left blank   "
    head = (header + text).ljust(0x100, b"\x00")
    resmap = header + struct.pack(">IHHHHH", 0, 0, 0, 0x1E, 0x1E, 0xFFFF)
    return head + resmap


def _attr_block(xattrs: dict[str, bytes], start: int) -> bytes:
    """The ``ATTR`` block (big-endian) that follows the 32-byte Finder Info; ``start`` is its file offset."""
    entries = b""
    header_len = 36
    names = [n.encode() + b"\x00" for n in xattrs]
    sizes = [(11 + len(n) + 3) & ~3 for n in names]
    data_start = start + header_len + sum(sizes)
    offset = data_start
    values = b""
    for name, size, value in zip(names, sizes, xattrs.values(), strict=True):
        entry = struct.pack(">IIHB", offset, len(value), 0, len(name)) + name
        entries += entry.ljust(size, b"\x00")
        values += value
        offset += len(value)
    header = b"ATTR" + struct.pack(">IIII", 0, _RSRC_AT, data_start, len(values)) + b"\x00" * 12
    header += struct.pack(">HH", 0, len(xattrs))
    return header + entries + values


def appledouble(xattrs: dict[str, bytes] | None = None) -> bytes:
    """A ``._name`` file as macOS writes it: 4096 bytes, Finder Info + xattrs, empty resource fork."""
    if xattrs is None:
        xattrs = {
            "com.apple.quarantine": b"0083;67c58a21;Mail;2B6F3C1E-0D5A-4E8B-9A51-3F0C2D7E9B14",
            "com.apple.lastuseddate#PS": struct.pack("<QQ", 1741000000, 0),
        }
    head = b"\x00\x05\x16\x07" + struct.pack(">I", 0x00020000) + b"Mac OS X        " + struct.pack(">H", 2)
    rsrc = _blank_resource_fork()
    head += struct.pack(">III", _FINDER_INFO, 0x32, _RSRC_AT - 0x32)
    head += struct.pack(">III", _RESOURCE_FORK, _RSRC_AT, len(rsrc))
    assert len(head) == 0x32
    finder_info = b"\x00" * 32
    body = (head + finder_info + _attr_block(xattrs, 0x32 + 32)).ljust(_RSRC_AT, b"\x00")
    return body + rsrc


def ds_store() -> bytes:
    """A Finder ``.DS_Store``: the ``Bud1`` buddy-allocator header, padded to the usual 6148 bytes."""
    return (b"\x00\x00\x00\x01Bud1" + struct.pack(">III", 0x1000, 0x800, 0x1000)).ljust(6148, b"\x00")


class _Stream(io.RawIOBase):
    """Write-only and not seekable, like ditto's output: zipfile then writes data descriptors."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)


def _info(name: str, *, directory: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _WHEN)
    info.create_system = 3  # Unix
    info.create_version = 21
    info.extract_version = 20
    info.compress_type = zipfile.ZIP_STORED if directory else zipfile.ZIP_DEFLATED
    info.external_attr = ((0o40755 << 16) | 0x10) if directory else (0o100644 << 16)
    return info


def mac_zip(folder: str, files: dict[str, bytes], *, alongside: bool = False, with_ds_store: bool = True) -> bytes:
    """``folder`` zipped by macOS's Archive Utility (or, ``alongside``, from a non-Mac disk)."""
    out = _Stream()
    entries = dict(files)
    if with_ds_store:
        entries = {".DS_Store": ds_store(), **entries}
    with zipfile.ZipFile(out, "w") as z:  # type: ignore[arg-type]
        z.writestr(_info(f"{folder}/", directory=True), b"")
        made_macosx = False
        for name, data in entries.items():
            z.writestr(_info(f"{folder}/{name}"), data)
            if alongside:
                z.writestr(_info(f"{folder}/._{name}"), appledouble())
                continue
            if not made_macosx:
                z.writestr(_info("__MACOSX/", directory=True), b"")
                z.writestr(_info(f"__MACOSX/{folder}/", directory=True), b"")
                made_macosx = True
            z.writestr(_info(f"__MACOSX/{folder}/._{name}"), appledouble({} if name == ".DS_Store" else None))
    return bytes(out.buf)
