"""What a student reads about a failed test: the failure's own lines, what was checked, a hint.

Shared by the student-facing formats. ``failure_summary`` keeps pytest's ``E`` lines only (the
assertion message and hypothesis's smallest failing case), never a test's source.
"""

from __future__ import annotations

import re

from grader.results import TestResult

OUTPUT_LIMIT = 3000  # characters of failure text per test in student-facing formats
_FIXTURE_ARGUMENT = re.compile(r"\s*(student|reference|helper)=get,")  # in hypothesis's failing case


def number(x: float) -> str:
    """A point count as people write it: 3, 2.5."""
    return f"{x:g}"


def fence(text: str) -> str:
    """``text`` as a fenced Markdown code block (a fence longer than any run of backticks in it)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def assertion_message(text: str) -> str:
    """A failure's assertion message: pytest's ``E`` lines, without the test's source or paths
    (a text without them, such as a student code error's, is already only a message)."""
    picked = [line[4:] if line.startswith("E   ") else line[1:].strip() for line in text.splitlines() if line.startswith("E ") or line == "E"]
    return "\n".join(picked).strip() if picked else text


def failure_summary(message: str) -> str:
    """The part of a failure a student needs: its assertion message (with hypothesis's smallest
    failing case), without the test's source (hidden tests stay hidden)."""
    picked = assertion_message(message).strip().splitlines()
    explained = [i for i, line in enumerate(picked) if line.strip() == "Explanation:"]  # hypothesis's, about harness lines
    picked = picked[: explained[0]] if explained else picked
    picked = [line for line in picked if not _FIXTURE_ARGUMENT.fullmatch(line)]  # not inputs: the harness's fixtures
    text = "\n".join(picked).strip()
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 40] + "\n[... shortened ...]"


_PROCESS_HINTS = [  # (a pattern of the failure message, the hint): what went wrong around the code
    ("is missing", "The file was not found in the submission: upload it under its original name, at the top level or in a folder named after its assignment."),
    ("could not be loaded", "The file did not load: run it on your machine and fix the error shown (a syntax error, a failing import, code at the top level)."),
    ("did not finish within|Timeout", "Your code ran out of time: look for a loop that never ends, or a Python loop over array entries that numpy could do at once."),
    ("ended unexpectedly", "Your code stopped the Python process (sys.exit, os._exit, a crash, or a resource limit such as memory or output size): never exit from library code, and print little."),
    ("NotImplementedError", "This part is still the stub: implement it as the handout describes."),
    ("does not define", "A required name is missing: check its spelling against the handout."),
]
_RESULT_HINTS = [  # what was wrong with the result
    (r"\b(NaN|nan|inf)\b", "A NaN or inf appeared: use the numerically stable formulation (shift by the maximum before exp, use log1p/expm1, avoid dividing by values that can be 0)."),
    ("expected shape", "The shape is wrong: check which axis you reduce over and keep the batch dimension first."),
    ("expected dtype", "Return float64 arrays: avoid integer arrays and float32."),
    ("expected a", "Return the type the handout asks for (a numpy float64 array, or a float), not a list, a tuple or another object."),
    ("modified its argument", "Do not change the arrays you are given: work on a copy (x.copy()) or build new arrays."),
    ("gradient", "Compare your backward pass with the derivative of your forward pass, one term at a time; the worst entry shown tells you where."),
]


def hint_for(test: TestResult) -> str:
    """A hint for a failed test: the known mistake it shows (``grader.diagnosis``) when the judge
    recognised one; else what went wrong around the code (time, exits, missing files), then the
    docstring's ``Hint:`` line if the author wrote one, then one chosen from what the failure
    message says about the result."""
    if test.diagnosis:
        return test.diagnosis
    for pattern, hint in _PROCESS_HINTS:
        if re.search(pattern, test.message):
            return hint
    for line in test.doc.splitlines():
        if line.strip().lower().startswith("hint:"):
            return line.strip()[5:].strip()
    for pattern, hint in _RESULT_HINTS:
        if re.search(pattern, test.message):
            return hint
    return "Read the expected and actual values above, and try the smallest failing input by hand."


def file_failure(test: TestResult) -> str | None:
    """The message when ``test`` failed because the student's file did not load (missing, a
    syntax error, an import that fails): the same for every test that needs the file."""
    summary = failure_summary(test.message) if test.outcome == "failed" else ""
    return summary if " could not be loaded: " in summary.split("\n", 1)[0] else None


def public_first(tests: list[TestResult]) -> list[TestResult]:
    """``tests`` with the public ones first, each kind in the order it ran."""
    return sorted(tests, key=lambda t: t.hidden)


def what_was_checked(test: TestResult) -> str:
    doc = "\n".join(line for line in test.doc.splitlines() if not line.strip().lower().startswith("hint:")).strip()
    return doc or test.name.removeprefix("test_").replace("_", " ")


def failure_details(test: TestResult) -> list[str]:
    """The Markdown lines every student format shows of a failed test it may show: what was
    checked, what went wrong (the failure's own lines) and a hint."""
    return [
        f"**What was checked:** {what_was_checked(test)}", "", "**What went wrong:**", "", fence(failure_summary(test.message)), "",
        f"**Hint:** {hint_for(test)}", "",
    ]  # fmt: skip
