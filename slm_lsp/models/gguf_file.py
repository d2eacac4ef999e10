"""Check that a file is a complete GGUF model before llama.cpp sees it.

llama.cpp reports a broken file with a bare "failed to load model" (the detail goes to
stderr), which is useless to an editor user. Reading the GGUF header ourselves lets us
say *what* is wrong — not a GGUF file, truncated, empty — with the path, before loading.
The parser walks the header (metadata and tensor table) without touching tensor data,
and checks that every tensor's data lies inside the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

GGUF_MAGIC = b"GGUF"
_DEFAULT_ALIGNMENT = 32

# GGUF metadata value types -> struct format (scalars only; 8 = string, 9 = array).
_SCALAR_FORMATS: dict[int, str] = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9

# ggml tensor types -> (block size in elements, bytes per block). Unknown types are only
# bounds-checked by offset, not by size.
_GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
    8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144),
    13: (256, 176), 14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74),
    18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}

# Metadata arrays can be huge (a 256k-token vocabulary); we keep only short scalar
# values and skip array contents.
_MAX_KEPT_STRING = 4096


class ModelFileError(Exception):
    """A model file that cannot be used; the message names the path and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"model file {self.path}: {problem}")


@dataclass(frozen=True)
class GGUFInfo:
    """What the header says about a model, enough to describe it without loading it."""

    path: Path
    size: int
    version: int
    tensor_count: int
    metadata: dict[str, object] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name") or self.path.name)


class _Reader:
    """Bounded reads that turn a short read into a 'truncated' error."""

    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self._handle = handle
        self._path = path

    def read(self, n: int) -> bytes:
        data = self._handle.read(n)
        if len(data) != n:
            raise ModelFileError(self._path, "truncated GGUF file: the header ends early")
        return data

    def unpack(self, fmt: str) -> object:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self, keep: bool = True) -> str | None:
        length = int(self.unpack("<Q"))  # type: ignore[arg-type]
        if length > 1 << 30:
            raise ModelFileError(self._path, "corrupt GGUF header: implausible string length")
        if not keep or length > _MAX_KEPT_STRING:
            self._handle.seek(length, os.SEEK_CUR)
            return None
        return self.read(length).decode("utf-8", errors="replace")

    def skip_value(self, value_type: int) -> None:
        if value_type == _STRING:
            self.string(keep=False)
        elif value_type == _ARRAY:
            item_type = int(self.unpack("<I"))  # type: ignore[arg-type]
            count = int(self.unpack("<Q"))  # type: ignore[arg-type]
            if item_type in _SCALAR_FORMATS:
                self._handle.seek(count * struct.calcsize(_SCALAR_FORMATS[item_type]), os.SEEK_CUR)
            else:
                for _ in range(count):
                    self.skip_value(item_type)
        elif value_type in _SCALAR_FORMATS:
            self.read(struct.calcsize(_SCALAR_FORMATS[value_type]))
        else:
            raise ModelFileError(self._path, f"corrupt GGUF header: unknown value type {value_type}")

    def value(self, value_type: int) -> object:
        if value_type == _STRING:
            return self.string()
        if value_type in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[value_type])
        self.skip_value(value_type)
        return None


def read_gguf_info(path: Path | str) -> GGUFInfo:
    """Validate ``path`` as a complete GGUF file and return its header summary.

    Raises ModelFileError with a one-line problem description for: a missing path, a
    directory, an empty file, a file that is not GGUF (e.g. a text file named .gguf), an
    unsupported version, a header that ends early, a file without weights, or tensor data
    past the end of the file.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelFileError(path, "no such file")
    if path.is_dir():
        raise ModelFileError(path, "is a directory, not a GGUF file")
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError(path, "empty file (0 bytes)")
    try:
        with path.open("rb") as handle:
            return _parse(handle, path, size)
    except PermissionError as exc:
        raise ModelFileError(path, f"cannot read: {exc.strerror}") from exc
    except OSError as exc:
        raise ModelFileError(path, f"cannot read: {exc}") from exc


def _parse(handle: BinaryIO, path: Path, size: int) -> GGUFInfo:
    magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(path, "not a GGUF file (bad magic bytes)")
    reader = _Reader(handle, path)
    version = int(reader.unpack("<I"))  # type: ignore[arg-type]
    if version not in (2, 3):
        raise ModelFileError(path, f"unsupported GGUF version {version}")
    tensor_count = int(reader.unpack("<Q"))  # type: ignore[arg-type]
    kv_count = int(reader.unpack("<Q"))  # type: ignore[arg-type]
    if tensor_count > 1 << 20 or kv_count > 1 << 20:
        raise ModelFileError(path, "corrupt GGUF header: implausible counts")
    metadata: dict[str, object] = {}
    for _ in range(kv_count):
        key = reader.string() or ""
        value_type = int(reader.unpack("<I"))  # type: ignore[arg-type]
        value = reader.value(value_type)
        if value is not None:
            metadata[key] = value
    if tensor_count == 0:
        raise ModelFileError(path, "GGUF file has no weights (a vocabulary-only file?)")
    data_end = 0
    for _ in range(tensor_count):
        reader.string(keep=False)
        n_dims = int(reader.unpack("<I"))  # type: ignore[arg-type]
        if n_dims > 8:
            raise ModelFileError(path, "corrupt GGUF header: tensor with too many dimensions")
        n_elements = 1
        for _ in range(n_dims):
            n_elements *= int(reader.unpack("<Q"))  # type: ignore[arg-type]
        ggml_type = int(reader.unpack("<I"))  # type: ignore[arg-type]
        offset = int(reader.unpack("<Q"))  # type: ignore[arg-type]
        block, block_bytes = _GGML_TYPE_SIZES.get(ggml_type, (1, 0))
        data_end = max(data_end, offset + (n_elements // block) * block_bytes)
    alignment = int(metadata.get("general.alignment", _DEFAULT_ALIGNMENT) or _DEFAULT_ALIGNMENT)  # type: ignore[arg-type]
    header_end = handle.tell()
    data_start = (header_end + alignment - 1) // alignment * alignment
    if data_start + data_end > size:
        missing = data_start + data_end - size
        raise ModelFileError(
            path, f"truncated GGUF file: tensor data needs {missing} more bytes than the file has"
        )
    return GGUFInfo(path=path, size=size, version=version, tensor_count=tensor_count, metadata=metadata)
