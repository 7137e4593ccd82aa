"""The dlgrade distribution is the harness only: no oracle, no hidden test, no course."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from grader.course import PROJECT_ROOT


def test_the_wheel_holds_the_grader_package_and_nothing_of_the_course(tmp_path):
    """Built from the checkout's committed files (reference/, assignments/ and tests/ included), as
    ``pip wheel .`` would: only grader/ and the distribution's metadata end up in it."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    source = tmp_path / "checkout"
    for name in filter(None, tracked):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, source / name)
    assert (source / "reference").is_dir() and (source / "assignments" / "a1_foundations" / "hidden").is_dir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("dlgrade-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    print("\n".join(names))
    packaged = {Path(n).parts[0] for n in names}
    assert packaged == {"grader", "dlgrade-0.1.0.dist-info"}, packaged
    modules = {Path(n).name for n in names if n.startswith("grader/")}
    assert {p.name for p in (PROJECT_ROOT / "grader").iterdir() if p.is_file()} <= modules  # the whole harness
