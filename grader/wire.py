"""The wire format between the judging process and a worker running student code.

A message is plain data only: ``None``, ``bool``, ``int``, ``float``, ``str``, lists, tuples,
dicts with ``str`` keys, numpy arrays and numpy scalars of numeric dtypes,
``numpy.random.Generator`` (as its bit generator's state: the copy draws the same numbers as the
original), and *handles* (``Handle(id, kind)``) that stand for any other object living in the
worker. An instance of a ``tuple`` subclass (a named tuple) or of a ``dict`` subclass (an
``OrderedDict``, a ``defaultdict``, a torch ``state_dict``) is both plain data and an object: it
crosses as a ``HeldTuple`` / ``HeldDict``, the items it holds (read with ``tuple``'s and
``dict``'s own methods, whatever its class says) with the handle that passes the object itself
back, so that a ``params`` or ``history`` a student builds with them is the dict the handout asks
for, and a student's ``OrderedDict`` passed back is still one. It is encoded as a JSON header
followed by the raw bytes of the arrays::

    [8-byte big-endian header length][JSON header][array bytes ...]

An array keeps its memory layout's kind: a Fortran-ordered array arrives Fortran-ordered, any
other non-contiguous one (a slice, a transposed view) as a non-contiguous view of a fresh buffer,
so code that assumes C-contiguity meets the inputs its callers may pass.

Decoding never runs code: no pickle, only ``json.loads`` and ``numpy.frombuffer`` on whitelisted
dtypes. An ndarray *subclass*, an object array or a lying look-alike is never turned into plain
data; the worker sends a handle for it, and the judge's type checks reject a handle.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

MAX_MESSAGE_BYTES = 16 << 20
"""The largest message either side reads: 40 times the course's largest (420,520 bytes, an a2
answer; ``benchmarks/answer_sizes.py``), so the judge's memory stays bounded whatever it is sent."""
_PLAIN_DTYPE_KINDS = "biufc"
_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "MT19937": np.random.MT19937, "Philox": np.random.Philox, "SFC64": np.random.SFC64}
_HEADER = struct.Struct(">Q")


@dataclass(frozen=True)
class Handle:
    """An object kept in the worker, named by ``id``; ``kind`` is its type's name for messages."""

    id: int
    kind: str


class HeldTuple(tuple):
    """The items of a ``tuple`` subclass instance living in the worker, with ``held``: its handle
    (on the judge's side, the proxy for it). Sent back, it stands for the object itself."""

    held: Any

    def __new__(cls, items: Any, held: Any) -> HeldTuple:
        made = super().__new__(cls, items)
        made.held = held
        return made


class HeldDict(dict):
    """The items of a ``dict`` subclass instance living in the worker, with ``held``: its handle
    (on the judge's side, the proxy for it). Sent back, it stands for the object itself."""

    def __init__(self, items: Any, held: Any) -> None:
        super().__init__(items)
        self.held = held


class WireError(Exception):
    """A message that does not follow the wire format."""


def _is_plain_array(value: Any) -> bool:
    return type(value) is np.ndarray and value.dtype.kind in _PLAIN_DTYPE_KINDS and not value.dtype.fields


def encode(value: Any, to_handle: Callable[[Any], Handle] | None = None) -> bytes:
    """Encode ``value``; objects that are not plain data go through ``to_handle`` (else error)."""
    buffers: list[bytes] = []

    def walk(v: Any, depth: int) -> Any:
        if depth > 100:
            raise WireError("value nested more than 100 levels deep")
        t = type(v)
        if v is None or t in (bool, int, str):
            return v if t is not int or -(2**63) <= v < 2**63 else {"bigint": str(v)}
        if t is float:
            return v if math.isfinite(v) else {"float": repr(v)}
        if t is Handle:
            return {"handle": v.id, "kind": v.kind}
        if t is list or t is tuple:
            return {"list" if t is list else "tuple": [walk(x, depth + 1) for x in v]}
        if t is HeldTuple or t is HeldDict:  # back where it came from: the object itself
            return walk(v.held, depth + 1)
        if isinstance(v, tuple) and to_handle is not None:  # a named tuple: its items, and the object
            return {"tuple": [walk(x, depth + 1) for x in tuple.__iter__(v)], "held": walk(to_handle(v), depth + 1)}
        if isinstance(v, dict) and all(type(k) is str for k in dict.keys(v)) and (t is dict or to_handle is not None):
            items = [[k, walk(x, depth + 1)] for k, x in dict.items(v)]
            return {"dict": items} if t is dict else {"dict": items, "held": walk(to_handle(v), depth + 1)}  # an OrderedDict: and the object
        if _is_plain_array(v):
            data = np.ascontiguousarray(v).tobytes()
            buffers.append(data)
            return {"array": v.dtype.str, "shape": list(v.shape), "buffer": len(buffers) - 1, "layout": _layout(v)}
        if t is np.random.Generator and type(v.bit_generator).__name__ in _BIT_GENERATORS:
            return {"generator": walk(v.bit_generator.state, depth + 1)}
        if isinstance(v, np.generic) and t.__module__ == "numpy" and np.dtype(t).kind in _PLAIN_DTYPE_KINDS:
            buffers.append(np.asarray(v).tobytes())
            return {"scalar": np.dtype(t).str, "buffer": len(buffers) - 1}
        if to_handle is None:
            raise WireError(f"cannot send an object of type {t.__name__}")
        h = to_handle(v)
        return {"handle": h.id, "kind": h.kind}

    header = json.dumps({"value": walk(value, 0), "buffers": [len(b) for b in buffers]}).encode()
    return b"".join([_HEADER.pack(len(header)), header, *buffers])


def decode(message: bytes | bytearray) -> Any:
    """Decode a message made by :func:`encode`; raises :class:`WireError` on anything else."""
    try:
        (length,) = _HEADER.unpack_from(message)
        header = json.loads(message[_HEADER.size : _HEADER.size + length])
        offsets = [_HEADER.size + length]
        for size in header["buffers"]:
            offsets.append(offsets[-1] + int(size))
        if offsets[-1] != len(message):
            raise WireError("message length does not match its header")
        view = memoryview(message)  # slices without copies; each array is copied out once
        buffers = [view[a:b] for a, b in zip(offsets, offsets[1:])]

        def dtype_of(code: str) -> np.dtype:
            dtype = np.dtype(code)
            if dtype.kind not in _PLAIN_DTYPE_KINDS or dtype.fields:
                raise WireError(f"dtype {code!r} is not plain data")
            return dtype

        def holding(v: dict[str, Any], items: Any, held_type: type) -> Any:
            """``items`` as they are, or with the handle of the object that holds them (``held``)."""
            if "held" not in v:
                return items
            held = walk(v["held"])
            if type(held) is not Handle:
                raise WireError("malformed held value")
            return held_type(items, held)

        def walk(v: Any) -> Any:
            if v is None or type(v) in (bool, int, float, str):
                return v
            if type(v) is not dict or len(v) == 0:
                raise WireError("malformed value")
            if "list" in v:
                return [walk(x) for x in v["list"]]
            if "tuple" in v:
                return holding(v, tuple(walk(x) for x in v["tuple"]), HeldTuple)
            if "dict" in v:
                return holding(v, {str(k): walk(x) for k, x in v["dict"]}, HeldDict)
            if "array" in v:
                shape = tuple(int(s) for s in v["shape"])
                array = np.frombuffer(buffers[v["buffer"]], dtype=dtype_of(v["array"])).reshape(shape)
                return _with_layout(array, v.get("layout", "C"))
            if "scalar" in v:
                return np.frombuffer(buffers[v["buffer"]], dtype=dtype_of(v["scalar"]))[0]
            if "generator" in v:
                state = walk(v["generator"])
                bit_generator = _BIT_GENERATORS[state["bit_generator"]]()
                bit_generator.state = state
                return np.random.Generator(bit_generator)
            if "float" in v:
                return float(v["float"])
            if "bigint" in v:
                return int(v["bigint"])
            if "handle" in v:
                return Handle(int(v["handle"]), str(v["kind"]))
            raise WireError("malformed value")

        return walk(header["value"])
    except WireError:
        raise
    except Exception as error:  # any malformed input is the same verdict
        raise WireError(f"malformed message: {error}") from None


def copy_laid_out(array: np.ndarray) -> np.ndarray:
    """A writable copy of ``array`` in the same kind of memory layout: what the worker receives."""
    layout = _layout(array)
    return np.array(array, order="F") if layout == "F" else _with_layout(array, layout)


def _layout(array: np.ndarray) -> str:
    """``"C"`` (C-contiguous), ``"F"`` (Fortran-ordered only) or ``"strided"`` (neither)."""
    if array.flags.c_contiguous:
        return "C"
    return "F" if array.flags.f_contiguous else "strided"


def _with_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """A writable copy of ``array`` laid out as ``layout`` says; ``"strided"``: every other
    element of a buffer twice as long on the last axis (``base[..., ::2]``)."""
    if layout == "C":
        return array.copy()
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "strided" and array.ndim:
        base = np.zeros((*array.shape[:-1], 2 * array.shape[-1]), dtype=array.dtype)
        view = base[..., ::2]
        view[...] = array
        return view
    raise WireError(f"unknown array layout {layout!r}")


def write_message(stream: Any, payload: bytes) -> None:
    """Frame ``payload`` with its length and write it to a binary stream."""
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_message(stream: Any) -> bytes:
    """Read one framed message; raises ``EOFError`` when the other side has gone."""
    head = _read_exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(head)
    if length > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {length} bytes exceeds the limit")
    return _read_exactly(stream, length)


def _read_exactly(stream: Any, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
