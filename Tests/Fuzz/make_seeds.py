#!/usr/bin/env python3
"""Regenerates Tests/Fuzz/Seeds/<target>/ from the checked-in fixtures (golden chunk files and
commit logs, the PadChest sample rows and the bad-input corpus, real .gz files). Each seed is
the target's mode byte followed by a real file (see each target's header comment for the
byte's meaning). Run from the repository root: python3 Tests/Fuzz/make_seeds.py"""
import glob, gzip, os, shutil, struct, subprocess

LAKE = "Tests/FicheLakeTests/Fixtures/golden"
SOURCES = "Tests/FicheSourcesTests/Fixtures"
OUT = "Tests/Fuzz/Seeds"


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def column_blocks(chunk):
    """(type, encoding, validity, rows, uncompressed block) of each column of a chunk file."""
    footer_len, _crc, version = struct.unpack_from("<IIH", chunk, len(chunk) - 16)
    footer = chunk[len(chunk) - 16 - footer_len:len(chunk) - 16]
    rows, n = struct.unpack_from("<QH", footer, 0)
    at = 10
    types = []
    for _ in range(n):
        (length,) = struct.unpack_from("<H", footer, at)
        at += 2 + length
        types.append(footer[at])
        at += 2
    for i in range(n):
        enc, validity, off, csize, usize, nulls, crc = struct.unpack_from("<BBQQQQI", footer, at)
        at += 38
        kind = footer[at]
        at += 1
        if kind in (1, 2):
            at += 16
        elif kind == 3:
            at += 1
            for _ in range(2):
                (length,) = struct.unpack_from("<H", footer, at)
                at += 2 + length
        raw = subprocess.run(["zstd", "-dc"], input=chunk[off:off + csize], capture_output=True, check=True).stdout
        assert len(raw) == usize
        yield types[i], enc, validity, rows, raw


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    # chunk: whole files (mode 0: checksums repaired; 2: as they are), and every column block (mode 1).
    chunks = [os.path.join(LAKE, "every_encoding_v1.fchk")] + sorted(glob.glob(os.path.join(LAKE, "lake_v1/*/*.fchk")))
    for path in chunks:
        data = open(path, "rb").read()
        name = os.path.basename(path)
        write("chunk", "file-" + name, b"\x00" + data)
        for k, (t, enc, validity, rows, raw) in enumerate(column_blocks(data)):
            head = bytes([1, t, enc, validity]) + struct.pack("<H", rows)
            write("chunk", "block-%s-%02d" % (name, k), head + raw)
    write("chunk", "file-every_encoding_v1.fchk-unrepaired", b"\x02" + open(chunks[0], "rb").read())

    # commitlog: each table's log, commits then markers, NUL-separated.
    marker = sorted(glob.glob(os.path.join(LAKE, "lake_v1/_txn/*")))[0]
    marker_section = b"@" + os.path.basename(marker).encode() + b"\n" + open(marker, "rb").read()
    for table in ("visits", "wards"):
        commits = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(LAKE, "lake_v1", table, "_log/*.json")))]
        write("commitlog", table + "-with-marker", b"\x00".join(commits + [marker_section]))
        write("commitlog", table + "-no-marker", b"\x00".join(commits))
        write("commitlog", table + "-first", commits[0])

    # csv: flags byte (read size, block size, header put in front) + a real file.
    header = open(os.path.join(SOURCES, "padchest_sample.csv"), "rb").read().split(b"\n", 1)[0]
    files = [p for p in sorted(glob.glob(os.path.join(SOURCES, "*.csv")) + glob.glob(os.path.join(SOURCES, "bad/*")))
             if not p.endswith(".gz") and not p.endswith(".keep")]
    for k, path in enumerate(files):
        data = open(path, "rb").read()
        name = os.path.basename(path)
        write("csv", name, bytes([(k * 9) % 64]) + data)
        lines = data.split(b"\n", 1)
        if lines[0] == header and len(lines) == 2 and lines[1]:
            write("csv", "rows-" + name, bytes([0x40 | (k * 11) % 64]) + lines[1])

    # gzip: read size byte + real .gz files, and a plain file (read through), a two-member stream.
    sample = open(os.path.join(SOURCES, "padchest_sample.csv"), "rb").read()
    write("gzip", "padchest_sample.csv.gz", b"\x02" + open(os.path.join(SOURCES, "padchest_sample.csv.gz"), "rb").read())
    write("gzip", "truncated.csv.gz", b"\x03" + open(os.path.join(SOURCES, "bad/truncated.csv.gz"), "rb").read())
    write("gzip", "plain.csv", b"\x01" + open(os.path.join(SOURCES, "bad/crlf.csv"), "rb").read())
    two = gzip.compress(sample[:3000], mtime=0) + gzip.compress(sample[3000:6000], mtime=0)
    write("gzip", "two-members.gz", b"\x00" + two)
    write("gzip", "empty.gz", b"\x04" + gzip.compress(b"", mtime=0))


if __name__ == "__main__":
    main()
