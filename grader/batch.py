"""Grade a roster: every subfolder of ROSTER_DIR is one student's submission.

Each submission is graded by its own ``python -m grader grade`` subprocess (so whatever happens
while grading one student, another's grade cannot change), several at once (``jobs``), with a
progress bar. Written to ``OUT``:

* ``gradebook.csv``: a row per student (name order), a column per assignment (points earned),
  ``total``, ``possible``, ``percent`` and ``status`` (``ok``, or why the grade is incomplete);
* ``students/<name>/results.json`` (``grader.results`` JSON) and a file per format asked for
  (``grader.formats``; by default ``gradescope.json`` and ``feedback.md``); with ``html``, also
  ``<notebook stem>.feedback.html`` per graded notebook assignment: the student's notebook with
  feedback (``grader.formats.notebook_feedback``);
* ``summary.md`` and ``summary.html``: the score distribution (count, mean, median, min, max, a
  histogram) and the tests the fewest students pass, with the plots ``scores.png`` and
  ``pass-rates.png`` (``grader.plots``);
* ``shard.json``: what ``gradebook merge`` checks (``grader.gradebook.Manifest``).

Grades are a function of the submission alone: re-running gives the same gradebook. With a
``shard`` only the students of that shard are graded (``grader.shards``); with ``resume`` a
student whose results exist and whose fingerprint is unchanged (``grader.fingerprint``: the
submission's and the course's content, the assignments, seed and isolation) keeps them.
"""

from __future__ import annotations

import csv
import io
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from grader import plots
from grader.course import Course
from grader.fingerprint import FILE_NAME as FINGERPRINT_FILE
from grader.fingerprint import Conditions, Fingerprint, course_hash, submission_hash
from grader.formats import FORMATS, html, notebook_feedback, render
from grader.grading import expected_level
from grader.results import Report, from_json
from grader.settings import Settings
from grader.shards import WHOLE_ROSTER, Shard

BINS = 10  # histogram bars of 10 percentage points
DEFAULT_FORMATS = ("gradescope", "markdown")
MOST_FAILED_LISTED = 5  # tests named in the summary's table; the chart shows plots.MOST_FAILED


@dataclass(frozen=True)
class StudentGrade:
    """One roster entry: the report, or why there is none."""

    name: str
    report: Report | None
    error: str = ""

    @property
    def status(self) -> str:
        if self.report is None:
            return f"error: {self.error}"
        broken = [a.name for a in self.report.assignments if a.error]
        return f"incomplete: {', '.join(broken)} not graded" if broken else "ok"


def students(roster: Path) -> list[Path]:
    """The roster's submissions: its subfolders (not hidden ones, not links), in name order."""
    return sorted(p for p in roster.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


@dataclass(frozen=True)
class BatchRun:
    """A graded roster (or shard): every student's grade, and how many kept earlier results."""

    grades: list[StudentGrade]
    resumed: int
    gradebook: Path

    def summary(self) -> str:
        graded = sum(g.status == "ok" for g in self.grades)
        kept = f" ({self.resumed} unchanged since the last run, not graded again)" if self.resumed else ""
        return f"dlgrade batch: {graded} of {len(self.grades)} submissions fully graded{kept}; gradebook {self.gradebook}"


def conditions(*, course_digest: str, assignments: list[str], settings: Settings) -> Conditions:
    """What every grade of this run depends on besides the submission."""
    return Conditions(course_digest, tuple(assignments), settings.seed, expected_level(settings), settings.timeout, settings.budget)


def fingerprint(submission: Path, *, course: Course, conditions: Conditions) -> Fingerprint:
    return Fingerprint(submission_hash(course, submission, list(conditions.assignments)), conditions)


def earlier_grade(folder: Path, current: Fingerprint) -> StudentGrade | None:
    """The stored grade of ``folder``, when it is complete and was graded from ``current``."""
    if not current.known or Fingerprint.read(folder) != current:
        return None
    try:
        grade = StudentGrade(folder.name, from_json((folder / "results.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return grade if grade.status == "ok" else None


def grade_one(
    submission: Path, out: Path, *, course: Course, assignments: list[str] | None, settings: Settings, hidden_visibility: str, formats: tuple[str, ...]
) -> StudentGrade:
    """Grade one submission in a subprocess and write its files under ``out/students/<name>/``."""
    folder = out / "students" / submission.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FINGERPRINT_FILE).unlink(missing_ok=True)
    for stale in folder.glob(f"*{notebook_feedback.SUFFIX}"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="dlgrade-batch-") as private:
        notebooks = Path(private) / "notebooks"
        grade = _grade_in_subprocess(submission, Path(private) / "results.json", notebooks, course=course, assignments=assignments, settings=settings)
        if grade.report is None:
            return grade
        if grade.report.sandbox != expected_level(settings):  # one gradebook, one isolation level
            return StudentGrade(submission.name, None, f"graded at sandbox level {grade.report.sandbox}, the batch at {expected_level(settings)}: grade it again")
        for name in dict.fromkeys(("json", *formats)):  # results.json always: resume and merge read it
            (folder / FORMATS[name].filename).write_text(render(grade.report, name, hidden_visibility=hidden_visibility))
        if "html" in formats:
            notebook_feedback.write_all(grade.report, notebooks, folder, course, hidden_visibility=hidden_visibility)
    return grade


def _grade_in_subprocess(submission: Path, results: Path, notebooks: Path, *, course: Course, assignments: list[str] | None, settings: Settings) -> StudentGrade:
    """Run ``python -m grader grade`` on one submission, its full JSON report written to
    ``results`` and its graded notebooks kept in ``notebooks``."""
    command = [
        sys.executable, "-m", "grader", "grade", str(submission), "--format", "json", "--out", str(results), "--hidden-visibility", "visible",
        "--keep-notebooks", str(notebooks),
        "--course", str(course.root), "--settings", str(settings.write(results.parent / "settings.json")),
    ]  # fmt: skip
    for name in assignments or []:
        command += ["--assignment", name]
    count = len(assignments) if assignments else len(course.assignments())
    try:
        run = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=count * settings.assignment_timeout + 120)
    except subprocess.TimeoutExpired:
        return StudentGrade(submission.name, None, "grading did not finish")
    if not results.is_file():
        message = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
        return StudentGrade(submission.name, None, message)
    return StudentGrade(submission.name, from_json(results.read_text()))


def gradebook_csv(grades: list[StudentGrade], assignments: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *assignments, "total", "possible", "percent", "status"])
    for grade in sorted(grades, key=lambda g: g.name):
        if grade.report is None:
            writer.writerow([grade.name, *["" for _ in assignments], "", "", "", grade.status])
            continue
        earned = {a.name: a.earned for a in grade.report.assignments}
        r = grade.report
        percent = f"{100 * r.earned / r.possible:.1f}" if r.possible else ""
        writer.writerow([grade.name, *[f"{earned[a]:g}" if a in earned else "" for a in assignments], f"{r.earned:g}", f"{r.possible:g}", percent, grade.status])
    return buffer.getvalue()


def summary_markdown(grades: list[StudentGrade], sandbox: str) -> str:
    percents = [100 * g.report.earned / g.report.possible for g in grades if g.report is not None and g.report.possible]
    errors = [g for g in grades if g.status != "ok"]
    lines = ["# Batch summary", "", f"- isolation: {sandbox}", f"- submissions: {len(grades)}", f"- graded: {len(percents)}", f"- not fully graded: {len(errors)}"]
    if percents:
        lines += [
            f"- mean: {statistics.fmean(percents):.1f}%",
            f"- median: {statistics.median(percents):.1f}%",
            f"- min: {min(percents):.1f}%, max: {max(percents):.1f}%",
            "",
            "| percent | students | |",
            "|---|---:|---|",
        ]
        counts = [0] * BINS
        for p in percents:
            counts[min(int(p // (100 / BINS)), BINS - 1)] += 1
        for i, n in enumerate(counts):  # [0, 10), [10, 20), ..., [90, 100]
            lines.append(f"| {i * 100 // BINS}-{(i + 1) * 100 // BINS} | {n} | {'#' * n} |")
    reports = [g.report for g in grades if g.report is not None]
    if reports:
        lines += ["", "![Score distribution](scores.png)", "", "## The tests the fewest students pass", ""]
        lines += ["| test | passed |", "|---|---:|"]
        lines += [f"| {name} | {100 * rate:.0f}% |" for name, rate in plots.pass_rates(reports)[:MOST_FAILED_LISTED]]
        lines += ["", "![Pass rate of the most failed tests](pass-rates.png)"]
    if errors:
        lines += ["", "## Needs a look", ""] + [f"- {g.name}: {g.status}" for g in sorted(errors, key=lambda g: g.name)]
    return "\n".join(lines) + "\n"


def write_summary(out: Path, grades: list[StudentGrade], sandbox: str) -> None:
    """``summary.md``, ``summary.html`` and their plots (``scores.png``, ``pass-rates.png``)."""
    summary = summary_markdown(grades, sandbox)
    (out / "summary.md").write_text(summary)
    (out / "summary.html").write_text(html.page("Batch summary", summary))
    reports = [g.report for g in grades if g.report is not None]
    if reports:
        plots.score_histogram([100 * r.earned / r.possible for r in reports if r.possible], out / "scores.png", bins=BINS)
        plots.pass_rate_chart(reports, out / "pass-rates.png")


def run_batch(
    roster: Path,
    out: Path,
    *,
    course: Course,
    assignments: list[str] | None,
    settings: Settings,
    jobs: int = 1,
    progress: bool = True,
    hidden_visibility: str = "after_published",
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    shard: Shard = WHOLE_ROSTER,
    resume: bool = False,
) -> BatchRun:
    """Grade every submission of ``roster`` in ``shard`` into ``out``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from grader.gradebook import Manifest
    from grader.roster import unfetched

    chosen = assignments or course.assignments()
    out.mkdir(parents=True, exist_ok=True)
    missing = {name: reason for name, reason in unfetched(roster).items() if shard.holds(name)}
    grades = [StudentGrade(name, None, reason) for name, reason in missing.items()]
    under = conditions(course_digest=course_hash(course), assignments=chosen, settings=settings)
    prints = {s: fingerprint(s, course=course, conditions=under) for s in students(roster) if shard.holds(s.name) and s.name not in missing}
    kept = {s: earlier_grade(out / "students" / s.name, p) for s, p in prints.items()} if resume else {}
    grades += [g for g in kept.values() if g is not None]
    submissions = [s for s in prints if kept.get(s) is None]
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, disable=not progress, transient=False) as bar, ThreadPoolExecutor(max_workers=jobs) as pool:
        task = bar.add_task("", total=len(submissions))
        futures = {
            pool.submit(grade_one, s, out, course=course, assignments=assignments, settings=settings, hidden_visibility=hidden_visibility, formats=formats): s
            for s in submissions
        }
        for future in as_completed(futures):
            name = futures[future].name
            try:
                grade = future.result()
            except Exception as error:  # a bug of ours must not stop the roster
                grade = StudentGrade(name, None, f"{type(error).__name__}: {error}")
            if grade.report is not None:
                prints[futures[future]].write(out / "students" / name)
            grades.append(grade)
            bar.update(task, advance=1, description=name)
    (out / "gradebook.csv").write_text(gradebook_csv(grades, chosen))
    write_summary(out, grades, expected_level(settings))
    Manifest.of(grades, shard=shard, conditions=under).write(out)
    return BatchRun(grades, resumed=sum(g is not None for g in kept.values()), gradebook=out / "gradebook.csv")
