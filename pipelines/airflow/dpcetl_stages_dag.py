"""Stage-split variant of the dpcetl DAG: start the DPC export, wait for it in a sensor that
holds no worker slot between pokes, then download, transform and load.

A DPC export takes minutes to hours to build. Here the wait is a reschedule-mode sensor, so no
worker slot is held while DPC works; the default DAG (dpcetl_dag.py) holds one for the whole run.

No task needs the previous task's disk: every task runs in a fresh temporary state directory.
The only state between stages is the export job's state (job URL, request, and once complete
the file manifest, a few KB, no secrets), which each task returns as its XCom value and the next
one writes into its fresh state directory before running dpcetl. With an object-storage XCom
backend (Airflow 2.9+ `ObjectStorageXComBackend`, or Airflow 3's) that state lives in the
object store. The final task is `dpcetl run`, which rejoins the completed job instead of
starting another (same request: same group, types and watermark, read from the destination),
then downloads, transforms and loads in one process.

What dpcetl cannot do yet, and why download/transform/load are one task here: the downloaded
NDJSON files and the transformed Arrow tables are the stage commands' working data in
`{state_dir}/files` and `{state_dir}/tables`; `dpcetl export download`, `transform` and `load`
as separate tasks on different workers would need those directories on shared storage (or a
state backend in the destination, which the runner does not have). Keep them on one worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:  # Airflow 3.x
    from airflow.sdk import BaseSensorOperator, PokeReturnValue, dag, task, task_group
except ImportError:  # Airflow 2.7 - 2.11
    from airflow.decorators import dag, task, task_group
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue

from dpcetl_dag import DESTINATION, EXECUTION_TIMEOUT, POOL, groups_from_variable
from dpcetl_operator import EXIT_STILL_RUNNING, DpcetlOperator, DpcetlProcess, table_assets


class DpcetlExportStatusSensor(BaseSensorOperator):
    """Pokes `dpcetl export status` (exit 11: still running) with the job state of export start."""

    template_fields = ("group", "config", "job_state")

    def __init__(self, *, group: str, job_state, config: str | None = None, binary: str | None = None,
                 env: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.group, self.job_state, self.config, self.binary, self.env = group, job_state, config, binary, env
        self._child = None

    def poke(self, context):
        state = self.job_state.get("job_state") if isinstance(self.job_state, dict) and "job_state" in self.job_state else self.job_state
        self._child = DpcetlProcess(self.log, group=self.group, command=["export", "status"], config=self.config,
                                    binary=self.binary, env=self.env, job_state=state)
        code, summary, new_state = self._child.run()
        if code == EXIT_STILL_RUNNING:
            return PokeReturnValue(is_done=False)
        if code != 0:
            self._child.check(code, summary)
        return PokeReturnValue(is_done=True, xcom_value={"summary": summary, "job_state": new_state})

    def on_kill(self):
        if self._child is not None:
            self._child.kill()


@dag(
    dag_id="dpcetl_stages",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 5, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["dpc", "claims"],
)
def dpcetl_stages():
    config = "{{ var.value.get('dpcetl_config', '') }}"

    @task
    def list_groups() -> list[str]:
        return groups_from_variable()

    @task_group(group_id="group")
    def per_group(group: str):
        start = DpcetlOperator(task_id="export_start", group=group, command=["export", "start"], config=config,
                               return_job_state=True, pool=POOL)
        status = DpcetlExportStatusSensor(task_id="export_status", group=group, config=config, job_state=start.output,
                                          pool=POOL, mode="reschedule", poke_interval=60, timeout=6 * 3600)
        run = DpcetlOperator(task_id="run", group=group, command=["run"], config=config, job_state=status.output,
                             pool=POOL, execution_timeout=EXECUTION_TIMEOUT, outlets=table_assets(DESTINATION))
        start >> status >> run

    per_group.expand(group=list_groups())


dpcetl_stages()
