"""Confinement that needs no privilege: Landlock for files, a seccomp filter for the network.

Used by ``grader.sandbox`` at the ``user`` level (root without CAP_SYS_ADMIN, where bubblewrap
cannot mount anything). Both are kernel features any process may apply to itself once it has set
``no_new_privs``; both are inherited by everything it starts and can never be lifted.

* **Landlock** (Linux 5.13+): the process may read and execute only below the ``readable``
  paths and write only below the ``writable`` ones; everything else (the course, ``.git``, other
  submissions, the judge's scratch) fails with ``EACCES``. Where the kernel supports it, signals
  and abstract Unix sockets are scoped to the confined processes too.
* **seccomp**: ``socket()`` for any family but ``AF_UNIX`` fails with ``EAFNOSUPPORT`` (no
  network), and ``io_uring_setup`` (which can open sockets without ``socket()``) with ``EPERM``.

The kernel interfaces are called with ``ctypes``: their Python bindings are not packaged for
the grading environment, and the structures used here are a few fixed-size records.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import struct
from collections.abc import Sequence
from pathlib import Path

_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2

# Landlock file-system rights, and the ABI version that introduced each.
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FILE_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)  # rights a rule on a file may hold
_NET_CONNECT_BIND_TCP = 0b11  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET_AND_SIGNAL = 0b11  # ABI 6

# (audit arch, socket syscall number) per machine; io_uring_setup is 425 on both.
_ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}
_IO_URING_SETUP = 425
_AF_UNIX = 1

_libc = ctypes.CDLL(None, use_errno=True)


@functools.cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: no Landlock)."""
    version = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(version, 0)


def available() -> bool:
    """Whether both Landlock and the seccomp filter can be applied on this machine."""
    return landlock_abi() >= 1 and platform.machine() in _ARCHES


def restrict(*, readable: Sequence[Path], writable: Sequence[Path]) -> None:
    """Confine the calling process and its future children (call in the child, before ``exec``)."""
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    _landlock(readable, writable)
    _deny_network()


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def _landlock(readable: Sequence[Path], writable: Sequence[Path]) -> None:
    abi = landlock_abi()
    handled = _FILE_RIGHTS_BY_ABI[max(v for v in _FILE_RIGHTS_BY_ABI if v <= abi)]
    fields = [handled]
    if abi >= 4:
        fields.append(_NET_CONNECT_BIND_TCP)
    if abi >= 6:
        fields.append(_SCOPE_ABSTRACT_UNIX_SOCKET_AND_SIGNAL)
    attr = struct.pack(f"<{len(fields)}Q", *fields)
    ruleset = _check(_libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        read = _EXECUTE | _READ_FILE | _READ_DIR
        rules = [(p, read) for p in readable] + [(p, handled) for p in writable]
        rules += [(Path(d), _READ_FILE | _WRITE_FILE) for d in ("/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev/random")]
        rules += [(Path(p), read) for p in ("/proc", "/sys/devices/system/cpu")]
        rules += [(p, handled) for p in sorted(Path("/dev").glob("nvidia*"))]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # not on this machine
            try:
                if not os.path.isdir(path):
                    rights &= _FILE_ONLY
                rule = struct.pack("<Qi", rights & handled, fd)
                _check(_libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, rule, ctypes.c_uint32(0)), f"landlock_add_rule({path})")
            finally:
                os.close(fd)
        _check(_libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _bpf(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


@functools.cache
def _network_filter() -> bytes:
    """The seccomp program: allow everything except ``socket(non-Unix)`` and ``io_uring_setup``."""
    arch, socket_nr = _ARCHES[platform.machine()]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    allow, kill = 0x7FFF0000, 0x80000000
    deny_family, deny = 0x00050000 | errno.EAFNOSUPPORT, 0x00050000 | errno.EPERM
    return b"".join([
        _bpf(load, 4),                         # 0: seccomp_data.arch
        _bpf(jeq, arch, 1, 0),                 # 1: another ABI -> kill
        _bpf(ret, kill),                       # 2
        _bpf(load, 0),                         # 3: seccomp_data.nr
        _bpf(jge, 0x40000000, 7, 0),           # 4: x32 calls -> deny
        _bpf(jeq, _IO_URING_SETUP, 6, 0),      # 5: -> deny
        _bpf(jeq, socket_nr, 1, 0),            # 6: socket -> its family
        _bpf(ret, allow),                      # 7
        _bpf(load, 16),                        # 8: seccomp_data.args[0] (low half)
        _bpf(jeq, _AF_UNIX, 1, 0),             # 9: AF_UNIX -> allow
        _bpf(ret, deny_family),                # 10
        _bpf(ret, allow),                      # 11
        _bpf(ret, deny),                       # 12
    ])  # fmt: skip


def _deny_network() -> None:
    program = _network_filter()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("<HxxxxxxQ", len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog, 0, 0), "seccomp")
