"""A small local runner for a GitHub Actions workflow: the jobs' ``run:`` steps, for real.

It reads the workflow's YAML and runs the jobs it is asked for, in that order: every matrix
combination of a job in a fresh copy of the repository (the checkout), with the workflow's, the
job's and the step's ``env`` evaluated for that combination, each ``run:`` step under ``bash -e``
as GitHub's runners run it. Of the ``uses:`` steps it knows ``actions/checkout`` (the fresh
copy), ``actions/setup-python`` and ``actions/cache`` (the environment at hand is used as it is)
and ``actions/upload-artifact`` / ``actions/download-artifact`` (a folder per artifact); any
other fails the run. Expressions are evaluated for the contexts ``matrix``, ``strategy``,
``inputs``, ``env``, ``secrets`` (all empty) and ``runner``; any other fails the run too, so
nothing in the workflow is silently misread. Job-level ``if:`` and ``needs:`` are the caller's
business: it names the jobs to run.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class WorkflowError(Exception):
    """A workflow this runner cannot run faithfully, or a step that failed."""


@dataclass
class LocalRunner:
    workflow: dict[str, Any]
    checkout: Callable[[Path], None]  # fills a fresh workspace with the repository
    inputs: dict[str, str]
    root: Path  # workspaces and artifacts go here

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> LocalRunner:
        return cls(yaml.load(path.read_text(), Loader=yaml.BaseLoader), **kwargs)  # BaseLoader: "on" stays a key

    def run_job(self, name: str) -> list[Path]:
        """Run every matrix combination of job ``name``; return their workspaces."""
        job = self.workflow["jobs"][name]
        matrix = job.get("strategy", {}).get("matrix", {})
        keys = list(matrix)
        combinations = [dict(zip(keys, values)) for values in itertools.product(*(matrix[k] for k in keys))] or [{}]
        workspaces = []
        for index, combination in enumerate(combinations):
            context = {
                "matrix": combination,
                "strategy": {"job-total": str(len(combinations)), "job-index": str(index)},
                "inputs": self.inputs,
                "secrets": {},
                "runner": {"os": "Linux"},
                "env": {},
            }
            workspace = self.root / f"{name}-{index + 1}"
            workspace.mkdir(parents=True)
            self.checkout(workspace)
            for scope in (self.workflow.get("env", {}), job.get("env", {})):
                context["env"].update({k: self.evaluate(v, context) for k, v in scope.items()})
            for step in job["steps"]:
                self.run_step(step, context, workspace)
            workspaces.append(workspace)
        return workspaces

    def evaluate(self, text: str, context: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            path = match.group(1).split(".")
            if len(path) != 2 or path[0] not in context:
                raise WorkflowError(f"the local runner cannot evaluate ${{{{ {match.group(1)} }}}}")
            return str(context[path[0]].get(path[1], ""))

        return _EXPRESSION.sub(value, text)

    def run_step(self, step: dict[str, Any], context: dict[str, Any], workspace: Path) -> None:
        title = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
        if "if" in step:
            raise WorkflowError(f"step {title!r}: the local runner does not evaluate step conditions")
        action = step.get("uses", "").split("@")[0]
        if action in ("actions/checkout", "actions/setup-python", "actions/cache"):
            return
        options = {k: self.evaluate(v, context) for k, v in step.get("with", {}).items()}
        artifacts = self.root / "artifacts"
        if action == "actions/upload-artifact":
            shutil.copytree(workspace / options["path"], artifacts / options["name"])
            return
        if action == "actions/download-artifact":
            for artifact in sorted(artifacts.iterdir()):
                if fnmatch.fnmatch(artifact.name, options.get("pattern", options.get("name", "*"))):
                    shutil.copytree(artifact, workspace / options["path"] / artifact.name)
            return
        if action:
            raise WorkflowError(f"step {title!r}: the local runner does not know {action}")
        env = {**os.environ, **context["env"], **{k: self.evaluate(v, context) for k, v in step.get("env", {}).items()}}
        run = subprocess.run(["bash", "-e", "-c", self.evaluate(step["run"], context)], cwd=workspace, env=env, capture_output=True, text=True, timeout=900)
        if run.returncode != 0:
            raise WorkflowError(f"step {title!r} failed with exit status {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
