"""The run's settings, resolved once: profile, seed, isolation, whose code, timeouts.

Precedence, highest first: command-line option > environment variable > ini option > the
profile's default. The result is one frozen ``Settings`` kept in ``config.stash``.

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

Whenever student code runs in a worker, each assignment's tests (which have a worker of their
own) have a ``budget``: the seconds that calls into student code which never answered (stopped
at their time limit, or ending the worker) may take together (``grader.remote.Worker``). An
assignment whose functions hang then costs about one budget, however many tests call them: once it is spent, each test left fails
at once, saying so. Calls that answer never spend it. A call (not a file's load: loading may
import torch, 20 s and more on a busy machine) is stopped at the budget's end at the latest, so
the budget must exceed the longest call of correct code (the course's are under 10 s on two cores
shared at a load average of 11); the default, 20 s, keeps an a1 whose every function hangs under
a minute there. ``off`` lifts it.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

Profile = Literal["student", "grade"]
Isolation = Literal["inprocess", "worker"]

ISOLATIONS: tuple[Isolation, ...] = ("inprocess", "worker")
DEFAULT_TIMEOUT = 120.0
"""Seconds a test may take when grading (``--dlgrade-timeout``, ``dlgrade grade --timeout``)."""
DEFAULT_BUDGET = 20.0
"""Seconds a run's calls into student code that never answered may take together, when it runs
in a worker (``--dlgrade-budget``, ``dlgrade grade --student-budget``)."""


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


@dataclass(frozen=True)
class Settings:
    """Everything a dlgrade run decides once, before the first test."""

    profile: Profile
    seed: int
    isolation: Isolation
    submission: Path | None
    against_reference: bool
    timeout: float
    max_examples: int
    results_file: Path | None
    sandbox: bool = False  # confine the worker (grader.sandbox); only with isolation=worker
    shrink: bool = True  # shrink a failing example to the smallest; off only changes the report
    plan: Path | None = None  # grade several submissions in this run (``grader.plan``)
    budget: float | None = DEFAULT_BUDGET  # seconds of unanswered calls into student code per run (None: no limit)

    @property
    def deterministic(self) -> bool:
        return PROFILES[self.profile].deterministic


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
    for name, (help_text, _) in OPTIONS.items():
        parser.addini(f"dlgrade_{name}", help_text)


def resolve(config: pytest.Config) -> Settings:
    """Resolve the settings with their documented precedence and validate them."""

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
        raise pytest.UsageError(f"dlgrade: profile={profile!r} is not one of {', '.join(PROFILES)}")
    defaults = PROFILES[profile]  # type: ignore[index]
    isolation = pick("isolation") or defaults.isolation
    if isolation not in ISOLATIONS:
        raise pytest.UsageError(f"dlgrade: isolation={isolation!r} is not one of {', '.join(ISOLATIONS)}")
    seed_text = pick("seed")
    try:
        seed = int(seed_text) if seed_text is not None else (0 if defaults.deterministic else random.randrange(2**31))
        timeout = float(pick("timeout") or DEFAULT_TIMEOUT)
    except ValueError as error:
        raise pytest.UsageError(f"dlgrade: {error}; seed must be an integer and timeout a number of seconds") from None
    submission_text = pick("submission")
    submission = Path(submission_text).resolve() if submission_text else None
    against_reference = bool(config.getoption("dlgrade_against_reference"))
    if submission is not None and against_reference:
        raise pytest.UsageError("dlgrade: use either --dlgrade-submission DIR or --dlgrade-against-reference, not both")
    if submission is not None and not submission.is_dir():
        raise pytest.UsageError(f"dlgrade: submission={str(submission)!r} is not a directory")
    plan_text = pick("plan")
    plan = Path(plan_text).resolve() if plan_text else None
    if plan is not None and (submission is not None or against_reference):
        raise pytest.UsageError("dlgrade: --dlgrade-plan lists the submissions; do not also give --dlgrade-submission or --dlgrade-against-reference")
    if plan is not None and not plan.is_file():
        raise pytest.UsageError(f"dlgrade: plan={str(plan)!r} is not a file")
    results = pick("results")
    sandbox = pick("sandbox") or ("on" if defaults.sandbox and isolation == "worker" else "off")
    if sandbox not in ("on", "off"):
        raise pytest.UsageError(f"dlgrade: sandbox={sandbox!r} is not one of on, off")
    if sandbox == "on" and isolation != "worker":
        raise pytest.UsageError("dlgrade: sandbox=on needs isolation=worker (student code in a worker process)")
    try:
        budget = parse_budget(pick("budget") or budget_text(DEFAULT_BUDGET))
    except ValueError as error:
        raise pytest.UsageError(f"dlgrade: {error}") from None
    return Settings(
        profile=profile,  # type: ignore[arg-type]
        seed=seed,
        isolation=isolation,  # type: ignore[arg-type]
        submission=submission,
        against_reference=against_reference,
        timeout=timeout,
        max_examples=defaults.max_examples,
        results_file=Path(results).resolve() if results else None,
        sandbox=sandbox == "on",
        shrink=(pick("shrink") or "on") != "off",
        plan=plan,
        budget=budget,
    )
