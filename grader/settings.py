"""The run's settings, one frozen ``Settings`` with every default: profile, seed, isolation, whose
code, time limits, and how the grader runs its judges.

A pytest run resolves them once (``resolve``, kept in ``config.stash``), with this precedence,
highest first: command-line option > environment variable > ini option > the profile's default;
or reads them whole from a file (``--dlgrade-settings``), which is how ``grade`` hands its
settings to each judge and ``batch`` to each ``grade``: written by ``Settings.write``, read by
``Settings.read``, never as command-line strings.

Profiles:

* ``student`` (default): quick local feedback. Hypothesis tries 25 examples per test with its
  usual random seed and example database (so a failure replays next run); student code runs in
  this process so ``print`` and ``breakpoint()`` work; the seed of the ``rng`` fixture changes
  each run unless given.
* ``grade``: thorough and deterministic. 30 examples per test, derandomized, no database, no
  deadline; seed 0; student code in a sandboxed worker process (``grader.sandbox``); each test
  limited to ``timeout`` seconds. Thirty is three times what the course's tests need: every
  planted bug (``tests/assignments/``) is already caught with 10 examples per test, since the
  tests put their examples where bugs show (edge values, uneven shapes, explicit cases).

Whenever student code runs in a worker, each assignment's tests in a run (which have a worker of
their own) have a ``budget``: the seconds that calls into student code which never answered (stopped
at their time limit, or ending the worker) may take together (``grader.remote.Worker``). An
assignment whose functions hang then costs about one budget, however many tests call them: once it is spent, each test left fails
at once, saying so. Calls that answer never spend it. A call (not a file's load: loading may
import torch, 20 s and more on a busy machine) is stopped at the budget's end at the latest, so
the budget must exceed the longest call of correct code (the course's are under 10 s on two cores
shared at a load average of 11); the default, 20 s, keeps an a1 whose every function hangs under
a minute there. ``off`` lifts it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from grader.sandbox import default_limits

Profile = Literal["student", "grade"]
Isolation = Literal["inprocess", "worker"]

ISOLATIONS: tuple[Isolation, ...] = ("inprocess", "worker")
DEFAULT_TIMEOUT = 120.0
"""Seconds a test may take when grading (``--dlgrade-timeout``, ``dlgrade grade --timeout``)."""
DEFAULT_BUDGET = 20.0
"""Seconds a run's calls into student code that never answered may take together, when it runs
in a worker (``--dlgrade-budget``, ``dlgrade grade --student-budget``)."""
DEFAULT_ASSIGNMENT_TIMEOUT = 1800.0
"""Seconds a judge may spend on one assignment before it counts as not graded."""


def parse_budget(text: str) -> float | None:
    """A budget as written (``--dlgrade-budget``, ``--student-budget``): a positive number of
    seconds, or ``off`` (None). Raises ``ValueError`` saying what it takes."""
    if text == "off":
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:
        raise ValueError(f"budget={text!r} must be a positive number of seconds, or off")
    return seconds


def budget_text(budget: float | None) -> str:
    """The inverse of ``parse_budget``."""
    return "off" if budget is None else repr(budget)


def available_cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class ProfileDefaults:
    """What a profile decides unless an option says otherwise."""

    max_examples: int  # hypothesis examples per test
    deterministic: bool  # derandomized hypothesis, no example database, seed 0, per-test timeout
    isolation: Isolation
    sandbox: bool  # with isolation=worker


PROFILES: dict[Profile, ProfileDefaults] = {
    "student": ProfileDefaults(max_examples=25, deterministic=False, isolation="inprocess", sandbox=False),
    "grade": ProfileDefaults(max_examples=30, deterministic=True, isolation="worker", sandbox=True),
}
_PATHS = ("submission", "results_file", "plan")


@dataclass(frozen=True)
class Settings:
    """Everything a dlgrade run decides once, before the first test; each default is here alone.
    ``Settings()`` is a student's run; ``Settings.grading()`` the grader's. Contradictory or
    out-of-range values raise ``ValueError`` saying which.

    The last three are how the grader runs its judges (``grader.grading``): how long one
    assignment may take, each judge's address space (``None``: unlimited; the default when an
    NVIDIA driver is present, as CUDA reserves far more than it uses) and how many judges run at
    once. A judge reads them and does not use them."""

    profile: Profile = "student"
    seed: int = 0
    isolation: Isolation = "inprocess"  # where student code runs: this process, or a worker process
    sandbox: bool = False  # confine the worker (grader.sandbox); only with isolation=worker
    timeout: float = DEFAULT_TIMEOUT  # seconds per test when deterministic
    budget: float | None = DEFAULT_BUDGET  # seconds of unanswered calls into student code per assignment's run (None: no limit)
    shrink: bool = True  # shrink a failing example to the smallest; off only changes the report
    submission: Path | None = None  # test this submission instead of the files in the tree
    against_reference: bool = False  # test the reference oracles instead of student code
    plan: Path | None = None  # grade several submissions in this run (``grader.plan``)
    results_file: Path | None = None  # write the per-test results here as JSON
    assignment_timeout: float = DEFAULT_ASSIGNMENT_TIMEOUT
    judge_memory_bytes: int | None = field(default_factory=lambda: default_limits().memory_bytes)
    jobs: int = field(default_factory=available_cpus)

    def __post_init__(self) -> None:
        problems = []
        if self.profile not in PROFILES:
            problems.append(f"profile={self.profile!r} is not one of {', '.join(PROFILES)}")
        if self.isolation not in ISOLATIONS:
            problems.append(f"isolation={self.isolation!r} is not one of {', '.join(ISOLATIONS)}")
        if self.sandbox and self.isolation != "worker":
            problems.append("sandbox=on needs isolation=worker (student code in a worker process)")
        if type(self.seed) is not int or self.seed < 0:
            problems.append(f"seed={self.seed!r}: give a non-negative integer")
        for name in ("timeout", "assignment_timeout"):
            if not (isinstance(getattr(self, name), int | float) and getattr(self, name) > 0):
                problems.append(f"{name}={getattr(self, name)!r}: timeouts must be a positive number of seconds")
        if self.budget is not None and not (isinstance(self.budget, int | float) and self.budget > 0):
            problems.append(f"budget={self.budget!r} must be a positive number of seconds, or off")
        if type(self.jobs) is not int or self.jobs < 1:
            problems.append(f"jobs={self.jobs!r}: give at least 1")
        if self.submission is not None and self.against_reference:
            problems.append("test either a submission or the reference (--dlgrade-against-reference), not both")
        if self.plan is not None and (self.submission is not None or self.against_reference):
            problems.append("a plan lists the submissions; do not also give a submission or --dlgrade-against-reference")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def grading(cls, **changes: Any) -> Settings:
        """The grader's settings: the grade profile, student code in a sandboxed worker."""
        return cls(**{"profile": "grade", "isolation": "worker", "sandbox": True, **changes})

    @property
    def max_examples(self) -> int:
        return PROFILES[self.profile].max_examples

    @property
    def deterministic(self) -> bool:
        return PROFILES[self.profile].deterministic

    def write(self, path: Path) -> Path:
        """Write these settings to ``path`` as JSON (``read`` reads them back); returns ``path``."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        path.write_text(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in values.items()}, indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> Settings:
        """The settings ``write`` wrote to ``path``. Raises ``ValueError`` for anything else."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read settings from {path}: {error}") from None
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(values, dict) or not set(values) <= names:
            raise ValueError(f"{path} is not a settings file (unknown: {', '.join(sorted(set(values) - names)) if isinstance(values, dict) else type(values).__name__})")
        return cls(**{k: Path(v) if k in _PATHS and v is not None else v for k, v in values.items()})


SETTINGS_KEY = pytest.StashKey[Settings]()

# name: (help, environment variable)
OPTIONS = {
    "profile": ("student (fast, local) or grade (thorough, deterministic)", "DLGRADE_PROFILE"),
    "seed": ("seed of the rng fixture (default: 0 when grading, random otherwise)", "DLGRADE_SEED"),
    "isolation": ("inprocess or worker: where student code runs (default: worker when grading)", "DLGRADE_ISOLATION"),
    "submission": ("test the submission in this directory instead of the files in the tree", "DLGRADE_SUBMISSION"),
    "timeout": (f"seconds per test when grading (default {DEFAULT_TIMEOUT:g})", "DLGRADE_TIMEOUT"),
    "results": ("write the per-test results as JSON to this file", "DLGRADE_RESULTS"),
    "sandbox": ("on or off: confine the worker process (default: on when grading)", "DLGRADE_SANDBOX"),
    "plan": ("grade the submissions listed in this JSON file (grader.plan), each test once per submission", "DLGRADE_PLAN"),
    "budget": (f"seconds that calls into student code which never answer (hang, crash) may take in the run (per submission of a plan), or off (default {DEFAULT_BUDGET:g})", "DLGRADE_BUDGET"),
    "shrink": ("on or off: shrink failing examples to the smallest (default on; off gives the same verdicts sooner)", "DLGRADE_SHRINK"),
}


def add_options(parser: pytest.Parser) -> None:
    """Register the command-line options and their ini twins under the ``dlgrade`` group."""
    group = parser.getgroup("dlgrade", "dlgrade: grading deep-learning coursework")
    group.addoption("--dlgrade-profile", dest="dlgrade_profile", choices=PROFILES, help=OPTIONS["profile"][0])
    group.addoption("--dlgrade-seed", dest="dlgrade_seed", type=int, help=OPTIONS["seed"][0])
    group.addoption("--dlgrade-isolation", dest="dlgrade_isolation", choices=ISOLATIONS, help=OPTIONS["isolation"][0])
    group.addoption("--dlgrade-submission", dest="dlgrade_submission", metavar="DIR", help=OPTIONS["submission"][0])
    group.addoption(
        "--dlgrade-against-reference",
        dest="dlgrade_against_reference",
        action="store_true",
        help="test the reference oracles instead of student code (every test must pass)",
    )
    group.addoption("--dlgrade-timeout", dest="dlgrade_timeout", type=float, help=OPTIONS["timeout"][0])
    group.addoption("--dlgrade-results", dest="dlgrade_results", metavar="FILE", help=OPTIONS["results"][0])
    group.addoption("--dlgrade-sandbox", dest="dlgrade_sandbox", choices=("on", "off"), help=OPTIONS["sandbox"][0])
    group.addoption("--dlgrade-plan", dest="dlgrade_plan", metavar="FILE", help=OPTIONS["plan"][0])
    group.addoption("--dlgrade-budget", dest="dlgrade_budget", metavar="SECONDS", help=OPTIONS["budget"][0])
    group.addoption("--dlgrade-shrink", dest="dlgrade_shrink", choices=("on", "off"), help=OPTIONS["shrink"][0])
    group.addoption(
        "--dlgrade-settings",
        dest="dlgrade_settings",
        metavar="FILE",
        help="take every setting from this JSON file (grader.settings.Settings.write; how grade hands them to its judges), and no other dlgrade option",
    )
    for name, (help_text, _) in OPTIONS.items():
        parser.addini(f"dlgrade_{name}", help_text)


def resolve(config: pytest.Config) -> Settings:
    """The run's settings: read whole from ``--dlgrade-settings``, or resolved with their
    documented precedence; validated either way."""
    try:
        if config.getoption("dlgrade_settings"):
            return _from_file(config)
        return _resolved(config)
    except ValueError as error:
        raise pytest.UsageError(f"dlgrade: {error}") from None


def _from_file(config: pytest.Config) -> Settings:
    given = [f"--dlgrade-{name.replace('_', '-')}" for name in [*OPTIONS, "against_reference"] if config.getoption(f"dlgrade_{name}")]
    if given:
        raise ValueError(f"--dlgrade-settings gives every setting: do not also give {', '.join(given)}")
    settings = Settings.read(Path(config.getoption("dlgrade_settings")))
    _check_paths(settings)
    return settings


def _resolved(config: pytest.Config) -> Settings:
    def pick(name: str) -> str | None:
        value = config.getoption(f"dlgrade_{name}")
        if value is not None:
            return str(value)
        env = os.environ.get(OPTIONS[name][1])
        if env:
            return env
        ini = config.getini(f"dlgrade_{name}")
        return str(ini) if ini else None

    profile = pick("profile") or "student"
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not one of {', '.join(PROFILES)}")
    defaults = PROFILES[profile]  # type: ignore[index]
    isolation = pick("isolation") or defaults.isolation
    seed_text, timeout_text = pick("seed"), pick("timeout")
    try:
        seed = int(seed_text) if seed_text is not None else (0 if defaults.deterministic else random.randrange(2**31))
        timeout = float(timeout_text) if timeout_text is not None else DEFAULT_TIMEOUT
    except ValueError as error:
        raise ValueError(f"{error}; seed must be an integer and timeout a number of seconds") from None
    sandbox = pick("sandbox") or ("on" if defaults.sandbox and isolation == "worker" else "off")
    if sandbox not in ("on", "off"):
        raise ValueError(f"sandbox={sandbox!r} is not one of on, off")
    budget = pick("budget")
    settings = Settings(
        profile=profile,  # type: ignore[arg-type]
        seed=seed,
        isolation=isolation,  # type: ignore[arg-type]
        sandbox=sandbox == "on",
        timeout=timeout,
        budget=parse_budget(budget) if budget is not None else DEFAULT_BUDGET,
        shrink=(pick("shrink") or "on") != "off",
        submission=_path(pick("submission")),
        against_reference=bool(config.getoption("dlgrade_against_reference")),
        plan=_path(pick("plan")),
        results_file=_path(pick("results")),
    )
    _check_paths(settings)
    return settings


def _path(text: str | None) -> Path | None:
    return Path(text).resolve() if text else None


def _check_paths(settings: Settings) -> None:
    if settings.submission is not None and not settings.submission.is_dir():
        raise ValueError(f"submission={str(settings.submission)!r} is not a directory")
    if settings.plan is not None and not settings.plan.is_file():
        raise ValueError(f"plan={str(settings.plan)!r} is not a file")
