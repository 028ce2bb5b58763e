"""Airflow DAG for dpcetl: one self-contained `dpcetl run --groups X` per mapped task.

Each mapped task runs the whole pipeline for one DPC attribution group in a fresh temporary
directory on whichever worker picks it up: no shared disk. What has to outlive the task lives
in the destination (the group's watermark and run manifests under `_state/` and `_runs/`), so a
retry or tomorrow's run on another worker goes on from there. The run checks the destination
first (exit 3 or 4 within seconds when the bucket or the AWS credentials are wrong).

Operations:
  * Pool `dpc_api` (create it: `airflow pools set dpc_api 2 "DPC API rate limit"`): DPC limits
    each organization to about 300 requests per 5 minutes, so at most that many groups talk
    to it at once.
  * execution_timeout 6 h: past it Airflow kills the task, on_kill sends dpcetl SIGTERM (it
    aborts in-flight writes, nothing half-visible), and the retry resumes the DPC job.
  * Outlets: one Dataset (Airflow 2) / Asset (Airflow 3) per table under DPCETL_DESTINATION,
    for data-aware scheduling of downstream DAGs.
  * Exit codes (see dpcetl_operator): 10/11/130 retry, everything else fails without retry.

Configure with Airflow Variables `dpcetl_groups` (JSON list of group ids), `dpcetl_config`
(YAML config on the workers, optional) and `dpcetl_bin`, and with DPCETL_* environment
variables on the workers (DPCETL_DESTINATION, credentials files or env names); the same
DPCETL_DESTINATION names the Assets. Stage-by-stage variant: dpcetl_stages_dag.py.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

try:  # Airflow 3.x
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.7 - 2.11
    from airflow.decorators import dag, task
from airflow.exceptions import AirflowFailException

from dpcetl_operator import DpcetlOperator, table_assets, variable

DESTINATION = os.environ.get("DPCETL_DESTINATION", "s3://my-bucket/dpc")
POOL = "dpc_api"
EXECUTION_TIMEOUT = timedelta(hours=6)


def groups_from_variable() -> list[str]:
    groups = json.loads(variable("dpcetl_groups", "[]"))
    if not groups:
        raise AirflowFailException("Variable dpcetl_groups is empty: set a JSON list of DPC group ids")
    return groups


@dag(
    dag_id="dpcetl",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one window at a time per group: the watermark moves in order
    default_args={"retries": 5, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["dpc", "claims"],
)
def dpcetl():
    @task
    def list_groups() -> list[str]:
        return groups_from_variable()

    DpcetlOperator.partial(
        task_id="run",
        command=["run"],
        config="{{ var.value.get('dpcetl_config', '') }}",
        pool=POOL,
        execution_timeout=EXECUTION_TIMEOUT,
        outlets=table_assets(DESTINATION),
    ).expand(group=list_groups())


dpcetl()
