"""Run dpcetl from Airflow: an operator that runs one dpcetl command as a child process.

The child's stderr (dpcetl's JSON log lines, free of secrets) is streamed into the task log
line by line as it runs; its last stdout line (the JSON summary) is the task's XCom value.
Each task runs in a fresh temporary working and state directory, so a task needs nothing from
the worker that ran the previous one. dpcetl's exit code decides what Airflow does:

    0            success
    10, 11, 130  retryable (network/5xx/429/timeout or S3 throttling, job still running,
                 interrupted) and a child killed by a signal: AirflowException, the task's
                 retries apply, a rerun resumes (watermarks live in the destination)
    1-6, other   fatal: 1 internal, 2 usage, 3 config (also a missing bucket or bad AWS
                 profile), 4 auth (DPC or S3 credentials refused), 5 bad data, 6 rejected
                 (DPC refused the request itself): AirflowFailException, no retry

on_kill (task cleared, marked failed, timed out by execution_timeout) sends the child SIGTERM,
which makes dpcetl abort in-flight writes and exit 130, and SIGKILL after kill_grace seconds.

Imports work on Airflow 2.7+ (airflow.models, airflow.datasets) and 3.x (airflow.sdk).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading

try:  # Airflow 3.x: the task SDK
    from airflow.sdk import Asset, BaseOperator, Variable
except ImportError:  # Airflow 2.7 - 2.11
    from airflow.datasets import Dataset as Asset
    from airflow.models import Variable
    from airflow.models.baseoperator import BaseOperator
from airflow.exceptions import AirflowException, AirflowFailException

EXIT_NAMES = {
    0: "ok", 1: "internal", 2: "usage", 3: "config", 4: "auth", 5: "bad-data", 6: "rejected",
    10: "retryable", 11: "still-running", 130: "interrupted",
}
EXIT_STILL_RUNNING = 11
RETRYABLE = {10, 11, 130}

# The tables dpcetl writes; each is an Airflow Dataset/Asset that downstream DAGs can wait on.
TABLES = (
    "patient", "coverage", "coverage_month", "eob", "eob_line", "eob_diagnosis", "eob_procedure",
    "eob_care_team", "eob_amount", "eob_line_amount", "export_error",
)

# Where DPC's export jobs hand their state from one task to the next (see dpcetl_stages_dag).
JOB_STATE_DIR = "jobs"


def variable(key: str, default: str) -> str:
    """An Airflow Variable; Airflow 3 calls the fallback `default`, Airflow 2 `default_var`."""
    try:
        return Variable.get(key, default=default)
    except TypeError:
        return Variable.get(key, default_var=default)


def table_assets(destination: str) -> list:
    """One Dataset/Asset per table under the destination (s3://bucket/prefix, file:///dir or a path)."""
    base = destination.split("?", 1)[0].rstrip("/")
    if "://" not in base:  # a local directory: Assets need a URI
        base = "file://" + os.path.abspath(base)
    return [Asset(base + "/" + t) for t in TABLES]


def job_state_path(state_dir: str, group: str) -> str:
    safe = "".join("_" if c in "/\\:\0" else c for c in group)
    return os.path.join(state_dir, JOB_STATE_DIR, "export-" + safe + ".json")


class DpcetlProcess:
    """One dpcetl command run in a fresh temporary directory, for an operator or a sensor."""

    def __init__(self, log, *, group: str, command, config=None, binary=None, env=None, job_state=None,
                 extra_args=(), kill_grace: float = 30, state_dir: str | None = None):
        self.log = log
        self.state_dir = state_dir
        self.group = group
        self.command = list(command)
        self.config = config
        self.binary = binary
        self.env = dict(env or {})
        self.job_state = job_state
        self.extra_args = list(extra_args)
        self.kill_grace = kill_grace
        self._proc = None

    def command_line(self, state_dir: str) -> list[str]:
        binary = self.binary or variable("dpcetl_bin", "dpcetl")
        args = [binary, *self.command, "--groups", self.group, "--state-dir", state_dir, "--log-format", "json"]
        if self.config:
            args += ["--config", self.config]
        return args + self.extra_args

    def run(self):
        """Runs the command; returns (exit code, JSON summary or None, job state or None)."""
        with tempfile.TemporaryDirectory(prefix="dpcetl-task-") as work:
            state_dir = self.state_dir or os.path.join(work, "state")
            os.makedirs(os.path.join(state_dir, JOB_STATE_DIR), mode=0o700, exist_ok=True)
            os.chmod(state_dir, 0o700)
            path = job_state_path(state_dir, self.group)
            if self.job_state:
                st = self.job_state if isinstance(self.job_state, dict) else json.loads(self.job_state)
                if "job_state" in st:  # an upstream task's whole return value
                    st = st["job_state"]
                if st:
                    with open(path, "w") as f:
                        json.dump(st, f)
            code, summary = self._spawn(self.command_line(state_dir), work)
            state = None
            if os.path.exists(path):
                with open(path) as f:
                    state = json.load(f)
            return code, summary, state

    def check(self, code: int, summary) -> None:
        """Raises what Airflow should do about a failed exit code."""
        what = f"dpcetl {' '.join(self.command)} (group {self.group})"
        if code < 0:
            raise AirflowException(f"{what}: killed by signal {-code}")
        name = EXIT_NAMES.get(code, "unknown")
        detail = f": {summary.get('error')}" if isinstance(summary, dict) and summary.get("error") else ""
        if code in RETRYABLE:
            raise AirflowException(f"{what}: retryable exit {code} ({name}){detail}")
        raise AirflowFailException(f"{what}: fatal exit {code} ({name}){detail}")

    def _spawn(self, args: list[str], cwd: str):
        env = {**os.environ, **self.env}
        self.log.info("running %s", " ".join(args))
        # A session of its own: Airflow's signals reach the child only through on_kill.
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1, start_new_session=True)
        self._proc = proc

        def stream():
            for line in proc.stderr:
                self.log.info("%s", line.rstrip("\n"))

        t = threading.Thread(target=stream, daemon=True)
        t.start()
        with proc.stdout:
            out = proc.stdout.read()
        code = proc.wait()
        t.join()
        proc.stderr.close()
        self._proc = None
        summary = None
        lines = [ln for ln in out.splitlines() if ln.strip()]
        if lines:
            try:
                summary = json.loads(lines[-1])
            except ValueError:
                self.log.warning("last stdout line is not JSON: %s", lines[-1])
        return code, summary

    def kill(self):
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self.log.info("stopping dpcetl (pid %d): SIGTERM, SIGKILL after %ss", proc.pid, self.kill_grace)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(self.kill_grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class DpcetlOperator(BaseOperator):
    """Runs `dpcetl <command> --groups <group>` in a fresh temporary directory.

    command     dpcetl subcommand and its words, default ["run"]
    group       the DPC attribution group (mapped with .expand(group=...))
    config      dpcetl YAML config on the worker (None: DPCETL_* environment only)
    binary      the dpcetl executable (default: Variable dpcetl_bin, else "dpcetl" on PATH)
    env         extra environment for the child (e.g. DPCETL_DESTINATION)
    job_state   an export job's state from an earlier task (stage-split DAG), written into the
                fresh state directory before the command runs
    return_job_state  return {"summary": ..., "job_state": ...} so the next task can go on
    kill_grace  seconds between SIGTERM and SIGKILL in on_kill
    state_dir   a persistent state directory instead of a fresh temporary one (a volume per
                group): a retry then rejoins the DPC job the failed try started
    """

    template_fields = ("group", "config", "job_state")

    def __init__(self, *, group: str, command=("run",), config: str | None = None, binary: str | None = None,
                 env: dict | None = None, job_state=None, return_job_state: bool = False, extra_args=(),
                 kill_grace: float = 30, state_dir: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.state_dir = state_dir
        self.group, self.command, self.config, self.binary = group, list(command), config, binary
        self.env, self.job_state, self.return_job_state = dict(env or {}), job_state, return_job_state
        self.extra_args, self.kill_grace = list(extra_args), kill_grace
        self._child = None

    def execute(self, context):
        self._child = DpcetlProcess(self.log, group=self.group, command=self.command, config=self.config,
                                    binary=self.binary, env=self.env, job_state=self.job_state,
                                    extra_args=self.extra_args, kill_grace=self.kill_grace,
                                    state_dir=self.state_dir)
        code, summary, state = self._child.run()
        if code != 0:
            self._child.check(code, summary)
        if self.return_job_state:
            return {"summary": summary, "job_state": state}
        return summary

    def on_kill(self):
        if self._child is not None:
            self._child.kill()
