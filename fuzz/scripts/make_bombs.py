#!/usr/bin/env python3
"""Writes oversized and lying .pt2 archives made from a fixture, to check that ir-opt refuses
them fast and with little memory (issue 19). Usage: make_bombs.py FIXTURE.pt2 OUTDIR

- member-1g.pt2: `models/model.json` padded with 1 GiB of spaces (honest sizes; valid JSON);
- bomb-6g.pt2:   `models/model.json` padded with 6 GiB of spaces (zip64; ~6 MB on disk);
- lying.pt2:     `models/model.json` inflates to 300 MiB but its directory entry says 8 KiB;
- weight-bomb.pt2: the first weight member inflates to 6 GiB (its tensor needs a few KiB).
"""
import os
import struct
import sys
import zipfile
import zlib

CHUNK = 1 << 24


def padded_member(zout, name, prefix, pad):
    """Writes `prefix` then `pad` spaces as a deflated member, streaming."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zout.open(info, "w", force_zip64=True) as f:
        f.write(prefix)
        block = b" " * CHUNK
        left = pad
        while left > 0:
            n = min(left, CHUNK)
            f.write(block[:n])
            left -= n


def copy_with(src, dst, replace):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", allowZip64=True) as zout:
        for i in zin.infolist():
            data = zin.read(i.filename)
            if i.filename.endswith(replace[0]):
                padded_member(zout, i.filename, replace[1](data), replace[2])
            else:
                zout.writestr(i, data)


def patch_declared_size(path, member_suffix, new_size):
    """Rewrites the uncompressed size of a (non-zip64) member in the central directory."""
    with open(path, "r+b") as f:
        data = f.read()
        pos = 0
        while True:
            pos = data.find(b"PK\x01\x02", pos)
            if pos < 0:
                raise SystemExit(f"{member_suffix} not found")
            name_len, = struct.unpack_from("<H", data, pos + 28)
            name = data[pos + 46 : pos + 46 + name_len]
            if name.endswith(member_suffix.encode()):
                f.seek(pos + 24)
                f.write(struct.pack("<I", new_size))
                return
            pos += 4


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    same = lambda d: d
    copy_with(src, f"{out}/member-1g.pt2", ("models/model.json", same, 1 << 30))
    copy_with(src, f"{out}/bomb-6g.pt2", ("models/model.json", same, 6 << 30))
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(f"{out}/lying.pt2", "w") as zout:
        for i in zin.infolist():
            data = zin.read(i.filename)
            if i.filename.endswith("models/model.json"):
                data = data + b" " * (300 << 20)
                i.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(i, data)
    patch_declared_size(f"{out}/lying.pt2", "models/model.json", 8192)
    copy_with(src, f"{out}/weight-bomb.pt2", ("data/weights/weight_0", same, 6 << 30))


if __name__ == "__main__":
    main()
