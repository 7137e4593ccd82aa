"""The largest message the course's tests exchange with the worker, to size ``wire.MAX_MESSAGE_BYTES``.

    python benchmarks/answer_sizes.py [PYTEST ARGS]    (default: every assignment, the reference as the student)

Runs the course's public and hidden tests in this process, the reference's code in a worker, and
prints the largest answer and request per assignment (bytes on the wire, framing included).
"""

from __future__ import annotations

import collections
import sys

import pytest

from grader import remote, wire
from grader.course import Course

largest: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])  # assignment -> [answer, request]
_current = ["?"]
_read, _encode = remote.Worker._read, wire.encode


def _recording_read(self: remote.Worker, n: int, deadline: float) -> bytes:
    data = _read(self, n, deadline)
    largest[_current[0]][0] = max(largest[_current[0]][0], n + 8 if n > 8 else 0)
    return data


def _recording_encode(value, to_handle=None):  # type: ignore[no-untyped-def]
    data = _encode(value, to_handle)
    largest[_current[0]][1] = max(largest[_current[0]][1], len(data) + 8)
    return data


class _Track:
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        found = Course.containing(item.path)
        _current[0] = found[1] if found else "?"


def main(args: list[str]) -> None:
    remote.Worker._read = _recording_read  # type: ignore[method-assign]
    remote.wire.encode = _recording_encode  # type: ignore[assignment]
    args = args or ["assignments", "--dlgrade-against-reference", "--dlgrade-isolation", "worker", "--dlgrade-profile", "grade", "-p", "no:cacheprovider", "-q"]
    pytest.main(args, plugins=[_Track()])
    print(f"{'assignment':20} {'largest answer':>15} {'largest request':>16}")
    for name, (answer, request) in sorted(largest.items()):
        print(f"{name:20} {answer:>15,} {request:>16,}")
    print(f"{'all':20} {max(a for a, _ in largest.values()):>15,} {max(r for _, r in largest.values()):>16,}")


if __name__ == "__main__":
    main(sys.argv[1:])
