"""Airflow DAG for dpcetl: one mapped task group per DPC attribution group.

Each group runs the stage commands in order:

    export start -> export status (sensor, reschedule mode) -> export download -> transform -> load

The sensor polls `dpcetl export status` in "reschedule" mode, so between pokes it holds no
worker slot while DPC builds the export. dpcetl's exit codes decide what Airflow does:

    0            success; the last stdout line (one JSON object) is pushed to XCom
    10, 11, 130  retryable (network/5xx/429/timeout, job still running, interrupted):
                 AirflowException, so the task's retries apply and the rerun resumes
                 from the state directory
    1-5 (other)  fatal (internal, usage, config, auth, bad data): AirflowFailException,
                 no retry, someone has to look

Every task of every group writes to the same destination bucket: each group owns its own
partition (group=<id>), its own watermark object and its own run ids, so the fleet never
contends for an object. Configure with Airflow Variables:

    dpcetl_config   path of the dpcetl YAML config on the workers (default /etc/dpcetl/dpcetl.yaml)
    dpcetl_groups   JSON list of group ids, e.g. ["5f1b...", "9a0c..."]
    dpcetl_bin      path of the dpcetl binary (default "dpcetl")
"""

from __future__ import annotations

import json
import logging
import subprocess
from datetime import datetime, timedelta

from airflow.decorators import dag, task, task_group
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models import Variable
from airflow.sensors.base import PokeReturnValue

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_RETRYABLE = 10
EXIT_STILL_RUNNING = 11
EXIT_INTERRUPTED = 130
RETRYABLE = {EXIT_RETRYABLE, EXIT_STILL_RUNNING, EXIT_INTERRUPTED}
FATAL_NAMES = {1: "internal", 2: "usage", 3: "config", 4: "auth", 5: "bad data"}


def _dpcetl(args: list[str], group: str, allow_running: bool = False) -> dict | None:
    """Run one dpcetl stage command for one group and map its exit code.

    Returns the parsed JSON summary (the last line of stdout). With allow_running,
    exit 11 (job still running) returns None instead of raising.
    """
    binary = Variable.get("dpcetl_bin", default_var="dpcetl")
    config = Variable.get("dpcetl_config", default_var="/etc/dpcetl/dpcetl.yaml")
    cmd = [binary, *args, "--config", config, "--groups", group, "--log-format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stderr.splitlines():  # dpcetl's JSON logs, already free of secrets
        log.info("%s", line)
    summary = None
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    if lines:
        try:
            summary = json.loads(lines[-1])
        except ValueError:
            log.warning("last stdout line is not JSON: %s", lines[-1])
    code = proc.returncode
    if code == EXIT_OK:
        return summary
    if code == EXIT_STILL_RUNNING and allow_running:
        return None
    if code in RETRYABLE:
        raise AirflowException(f"dpcetl {' '.join(args)} (group {group}): retryable exit {code}")
    name = FATAL_NAMES.get(code, "unknown")
    raise AirflowFailException(f"dpcetl {' '.join(args)} (group {group}): fatal exit {code} ({name})")


@dag(
    dag_id="dpcetl",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one window at a time: the watermark moves in order
    default_args={"retries": 5, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["dpc", "claims"],
)
def dpcetl_dag():
    @task
    def list_groups() -> list[str]:
        groups = json.loads(Variable.get("dpcetl_groups", default_var="[]"))
        if not groups:
            raise AirflowFailException("Variable dpcetl_groups is empty: set a JSON list of group ids")
        return groups

    @task_group(group_id="group")
    def per_group(group: str):
        @task
        def export_start(group: str) -> dict | None:
            return _dpcetl(["export", "start"], group)

        @task.sensor(poke_interval=60, timeout=6 * 3600, mode="reschedule")
        def export_status(group: str) -> PokeReturnValue:
            summary = _dpcetl(["export", "status"], group, allow_running=True)
            return PokeReturnValue(is_done=summary is not None, xcom_value=summary)

        @task
        def export_download(group: str) -> dict | None:
            return _dpcetl(["export", "download"], group)

        @task
        def transform(group: str) -> dict | None:
            return _dpcetl(["transform"], group)

        @task
        def load(group: str) -> dict | None:
            # The summary (rows per table, output URLs, watermark) goes on via XCom.
            return _dpcetl(["load"], group)

        s = export_start(group)
        st = export_status(group)
        d = export_download(group)
        t = transform(group)
        ld = load(group)
        s >> st >> d >> t >> ld

    per_group.expand(group=list_groups())


dpcetl_dag()
